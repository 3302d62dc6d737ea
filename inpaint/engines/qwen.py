"""Qwen-Image-Edit (``qwen-image-edit-plus``, ``qwen-image-edit-max``): one synchronous call that answers with
the finished images (reference sections 7.3 and 11).

The model has no mask: it edits what the instruction names. The core sends it only the work region around the
painted area and pastes back only the painted area, feathered, so what the model changed elsewhere in the
crop (its small shift, zoom and colour drift) never reaches the picture. The call goes over the DashScope
client of ``inpaint.engines.dashscope`` (its session, its sorting of errors) with its own read timeout.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inpaint import options
from inpaint.engines.base import Engine, EngineLimits, JobInput, SlotResult, TaskState, TaskStatus
from inpaint.engines.dashscope import DashScopeClient, DashScopeError
from inpaint.engines.dashscope_messages import dashscope_error_explain
from inpaint.engines.service_regions import BEIJING, SINGAPORE

# `size` takes each side in 512–2048 px, in multiples of 16 (reference section 7.3).
SIZE_STEP = 16
# A gateway that gave up waiting answers these while the model may still paint, and bill, the call.
IN_DOUBT_HTTP_STATUSES = frozenset({502, 504})


class QwenImageEditEngine(Engine):
    """A Qwen-Image-Edit model on DashScope's synchronous multimodal-generation endpoint."""

    model = ""
    remote = True
    synchronous = True
    # The call takes n, size, seed and a negative prompt; no style.
    controls = options.CONTROLS - {"style"} - options.FUNCTION_CONTROLS
    # The region goes as a data: URL, a third larger than the file, and the service takes at most 10 MB.
    limits = EngineLimits(min_side=512, max_side=2048, max_bytes=7 * 1024 * 1024, max_prompt_chars=800)
    # The answer's shape is close to what was asked, not equal (QwenLM/Qwen-Image #160, #229): it is scaled
    # to the region. One further off than this is another picture, refused for its slot.
    answer_aspect_tolerance = 0.10
    service_regions = frozenset({BEIJING, SINGAPORE})

    @property
    def submit_rate(self) -> int:
        return settings.INPAINT_QWEN_SUBMIT_RATE

    @property
    def running_limit(self) -> int:
        return settings.INPAINT_QWEN_RUNNING_LIMIT

    def client(self) -> DashScopeClient:
        return DashScopeClient.from_settings(read_timeout=settings.INPAINT_QWEN_TIMEOUT)

    def is_configured(self) -> bool:
        return bool(settings.DASHSCOPE_API_KEY)

    def send_size(self, width: int, height: int) -> tuple[int, int]:
        # The region at its own resolution where its sides allow, in the multiples of 16 the model paints.
        low, high = self.limits.min_side, self.limits.max_side
        scale = max(min(1.0, high / max(width, height)), low / min(width, height))
        return tuple(min(high, max(low, SIZE_STEP * round(side * scale / SIZE_STEP))) for side in (width, height))

    def submit(self, job_input: JobInput) -> TaskState:
        content = [{"image": _data_url(job_input.base_image)}, {"text": job_input.prompt}]
        try:
            body = self.client().generate(model=self.model, input={"messages": [{"role": "user", "content": content}]},
                                          parameters=self.call_parameters(job_input))
        except DashScopeError as error:
            if error.http_status in IN_DOUBT_HTTP_STATUSES:
                error.maybe_created = True
            raise
        return answer_state(body)

    def call_parameters(self, job_input: JobInput) -> dict:
        width, height = job_input.size
        parameters = {"n": job_input.n, "size": f"{width}*{height}", "seed": job_input.seed, "watermark": False,
                      # prompt_extend (on by default) has a language model rewrite the instruction into a
                      # description of the whole scene. Here the model sees only a crop and the prompt says
                      # what belongs in the painted part of it: a rewrite invents a scene for the crop and
                      # repaints it all, and what it adds (e.g. "in the sky") is never pasted back.
                      "prompt_extend": False}
        if job_input.negative_prompt:
            parameters["negative_prompt"] = job_input.negative_prompt
        return parameters

    def explain_error(self, code: str, message: str) -> str:
        return dashscope_error_explain(code, message)


def _data_url(image: bytes) -> str:
    # The region is already at the size to send: inline, it needs no public link, no temporary upload, and no
    # download by the service from outside its region (reference section 9).
    mime = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def answer_state(body: dict) -> TaskState:
    """The finished state of a call's answer: its images' links, one slot each."""
    choices = (body.get("output") or {}).get("choices") or []
    content = ((choices[0].get("message") or {}).get("content") or []) if choices else []
    results = [SlotResult(url=item["image"]) for item in content if isinstance(item, dict) and item.get("image")]
    return TaskState(status=TaskStatus.SUCCEEDED, request_id=body.get("request_id", ""), results=results,
                     image_count=(body.get("usage") or {}).get("image_count"))


class QwenImageEditPlusEngine(QwenImageEditEngine):
    key = model = "qwen-image-edit-plus"
    label = _("Qwen image edit plus (cloud, paid)")


class QwenImageEditMaxEngine(QwenImageEditEngine):
    key = model = "qwen-image-edit-max"
    label = _("Qwen image edit max (cloud, paid)")
