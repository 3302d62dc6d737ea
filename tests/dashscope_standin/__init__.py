"""A local stand-in for Alibaba Cloud DashScope's asynchronous image-synthesis service.

It is a real HTTP server on 127.0.0.1 that follows the wire contract of
``/api/v1/services/aigc/image2image/image-synthesis`` (``wanx-x-painting`` and
``wanx2.1-imageedit``), task query / cancel / list, the temporary-storage upload flow
(getPolicy + OSS form POST + ``oss://`` URLs) and signed result links, so the app's
integration tests exercise the same headers, JSON shapes, status codes, rate limits and
failure modes as production without network access or cost.

    with DashScopeStandIn(api_key="sk-test") as ds:
        settings.DASHSCOPE_BASE_URL = ds.base_url
        ...

Where each concept lives:
- ``server``: the :class:`DashScopeStandIn` facade (routes, knobs, fault injection, inspection);
- ``wire``: requests, answers, error shapes and the HTTP handler;
- ``validation``: what each model accepts, with the documented error codes;
- ``tasks``: task records, their lifecycle, the running limit and the rate windows;
- ``storage``: temporary uploads, signing and how a task fetches its inputs;
- ``results``: signed result links and the faults a download can meet;
- ``painting``: the result pictures, with marks outside the mask as a real model may leave.

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
