"""A local stand-in for Alibaba Cloud DashScope's image-editing services.

It is a real HTTP server on 127.0.0.1 that follows the wire contract of the asynchronous
``/api/v1/services/aigc/image2image/image-synthesis`` (``wanx-x-painting``; ``wanx2.1-imageedit`` with
``description_edit_with_mask``, ``expand``, ``super_resolution`` and ``remove_watermark``), task query / cancel /
list, the synchronous ``/api/v1/services/aigc/multimodal-generation/generation`` (``qwen-image-edit-plus`` and
``-max``), the temporary-storage upload flow (getPolicy + OSS form POST + ``oss://`` URLs) and signed result
links, so the app's integration tests (and the official ``dashscope`` SDK) exercise the same headers, JSON
shapes, status codes, rate limits and failure modes as production without network access or cost.

    with DashScopeStandIn(api_key="sk-test") as ds:
        settings.DASHSCOPE_BASE_URL = ds.base_url
        ...

Where each concept lives:
- ``server``: the :class:`DashScopeStandIn` facade (handlers, knobs, fault injection, inspection);
- ``routes``: which handler answers which method and path;
- ``wire``: requests, answers, error shapes and the HTTP handler;
- ``validation``: what each model accepts, with the documented error codes;
- ``tasks``: task records, their lifecycle, the running limit and the rate windows;
- ``storage``: temporary uploads, signing and how a task fetches its inputs;
- ``results``: signed result links and the faults a download can meet;
- ``painting``: the task pictures, with marks outside the mask as a real model may leave;
- ``multimodal``: the sync Qwen-Image-Edit call: its checks, running limit, and answers that drift as the model's do.

Run by hand for demos: ``python -m tests.dashscope_standin --port 8765 --key sk-demo``.
"""

from tests.dashscope_standin.painting import MARK_COLOUR, fill_colour, mark_boxes, shift_colour
from tests.dashscope_standin.server import DashScopeStandIn
from tests.dashscope_standin.wire import (
    MSG_DATA_INSPECTION,
    MSG_DOWNLOAD_FAILED,
    MSG_INTERNAL_ERROR,
    MSG_RATE_LIMITED,
    MSG_SLOT_TIMEOUT,
    format_task_time,
)

__all__ = [
    "MARK_COLOUR",
    "MSG_DATA_INSPECTION",
    "MSG_DOWNLOAD_FAILED",
    "MSG_INTERNAL_ERROR",
    "MSG_RATE_LIMITED",
    "MSG_SLOT_TIMEOUT",
    "DashScopeStandIn",
    "fill_colour",
    "format_task_time",
    "mark_boxes",
    "shift_colour",
]
