"""The gateway's synchronous call for the Qwen-Image-Edit models (``multimodal-generation/generation``, reference
§7.3): DashScope's request made into a job as one from the page, and the answer held open while that job takes
its turn in the queue, up to INPAINT_API_GENERATION_WAIT seconds.

The model takes no mask and edits what the instruction names, so a call through the gateway edits the whole
picture: its mask is all of it, and the results come back at the picture's own size. A call that outlasts the
wait is not lost: the job goes on, in the person's history and under ``GET /api/v1/tasks/{id}``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext

from inpaint import images, options
from inpaint.api.answers import ApiRefusal
from inpaint.api.inputs import input_picture_read
from inpaint.api.synthesis import form_job_create, invalid, model_check, seed_check
from inpaint.engines import all_engines
from inpaint.forms import JobForm
from inpaint.image_refusals import ImageRefused
from inpaint.models import ApiKey, InpaintJob, JobResult
from inpaint.stored_messages import stored_translate

# Where the form's fields came from in the request, so a refusal names what the script sent.
API_NAMES = {"base_image": "input.messages[0].content[].image", "mask_image": "input.messages[0].content[].image",
             "prompt": "input.messages[0].content[].text", "negative_prompt": "parameters.negative_prompt",
             "engine": "model"}
# A held call keeps a web thread; a web process has four (webapp/supervisor.py), and the page keeps the others.
WAITING_CALLS_PER_PROCESS = 2
# How often a held call re-reads its job: soon at first (an idle queue answers in seconds), then less often.
FIRST_LOOK_SECONDS, LOOK_GROWTH, LONGEST_LOOK_SECONDS = 0.2, 1.5, 2.0
# A failed job's code, answered with DashScope's status for it: a refused input is the caller's to change.
CALLER_CODE_PREFIXES = ("InvalidParameter", "DataInspection", "IPInfringement")

_waiting_calls = threading.BoundedSemaphore(WAITING_CALLS_PER_PROCESS)


def generation_models() -> list[str]:
    """The synchronous engines' models: the ones this path serves."""
    return [key for key, engine in all_engines().items() if engine.synchronous]


def _content(given_input) -> tuple[str, str]:
    """The one picture and the one instruction of the request's one user message."""
    messages = given_input.get("messages") if isinstance(given_input, dict) else None
    message = messages[0] if isinstance(messages, list) and len(messages) == 1 else None
    content = message.get("content") if isinstance(message, dict) and message.get("role") == "user" else None
    if not isinstance(content, list):
        raise invalid(gettext("input.messages must hold exactly one message, the user's, with its content."))
    pictures = [item["image"] for item in content if isinstance(item, dict) and "image" in item]
    texts = [item["text"] for item in content if isinstance(item, dict) and "text" in item]
    if len(texts) != 1 or not isinstance(texts[0], str):
        raise invalid(gettext("The message must hold exactly one text: what to change in the picture."))
    if len(pictures) != 1 or not isinstance(pictures[0], str):
        raise invalid(gettext("The gateway edits one picture a call: the message must hold exactly one image, "
                              "as a URL, an oss:// file or a data: URL."))
    return pictures[0], texts[0]


def _form(api_key: ApiKey, body: dict, *, oss_resolve: bool) -> tuple[JobForm, int | None]:
    model = model_check(body.get("model"), generation_models())
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid(gettext("input and parameters must be JSON objects."))
    picture_url, prompt = _content(body.get("input"))
    picture = input_picture_read(api_key, model, API_NAMES["base_image"], picture_url, oss_resolve=oss_resolve)
    try:
        mask = images.whole_mask(images.picture_upright_size(picture))
    except ImageRefused as refusal:
        raise invalid(f"{API_NAMES['base_image']}: {refusal}") from None
    data = {"engine": model, "function": options.FUNCTION_EDIT, "prompt": prompt,
            "negative_prompt": parameters.get("negative_prompt") or "", "style": options.STYLE_DEFAULT,
            "n": str(parameters.get("n") or options.COUNT_DEFAULT)}
    files = {"base_image": SimpleUploadedFile("base_image", picture), "mask_image": SimpleUploadedFile("mask", mask)}
    return JobForm(data, files), seed_check(parameters)


def generation_job_create(api_key: ApiKey, body: dict, *, oss_resolve: bool) -> InpaintJob:
    """The job a generation call asks for, stored and started as the key's person; raises ApiRefusal."""
    return form_job_create(api_key, *_form(api_key, body, oss_resolve=oss_resolve), api_names=API_NAMES)


@contextlib.contextmanager
def generation_hold() -> Iterator[None]:
    """A place for one held call in this process, taken before its job is made; raises ApiRefusal when the
    process already holds as many as it can, so the page never waits behind scripts."""
    if not _waiting_calls.acquire(blocking=False):
        raise ApiRefusal(503, "ServiceUnavailable", gettext(
            "The gateway is holding as many synchronous calls as it can; try again in a few seconds, or send "
            "the task asynchronously."))
    try:
        yield
    finally:
        _waiting_calls.release()


def generation_wait(job: InpaintJob, seconds: float | None = None) -> InpaintJob:
    """The job once it has ended, or as it is when ``seconds`` (INPAINT_API_GENERATION_WAIT) have passed.

    A synchronous answer has to keep its request open, so this thread re-reads the job's row (what the
    worker's steps write) instead of sleeping a fixed time: it answers within a look of the job's end.
    """
    deadline = time.monotonic() + (settings.INPAINT_API_GENERATION_WAIT if seconds is None else seconds)
    look, nothing_happens = FIRST_LOOK_SECONDS, threading.Event()
    job.refresh_from_db()
    while not job.is_final and (left := deadline - time.monotonic()) > 0:
        nothing_happens.wait(min(look, left))
        look = min(look * LOOK_GROWTH, LONGEST_LOOK_SECONDS)
        job.refresh_from_db()
    return job


def generation_output(job: InpaintJob, result_link: Callable[[JobResult], str]) -> dict:
    """DashScope's answer to the call for the ended job: its images as one choice; raises ApiRefusal for a job
    that failed, was cancelled or has not ended in time."""
    if job.status == InpaintJob.Status.SUCCEEDED:
        results = [result for result in job.results.order_by("slot") if result.image]
        if results:
            content = [{"image": result_link(result)} for result in results]
            return {"output": {"choices": [{"finish_reason": "stop",
                                            "message": {"role": "assistant", "content": content}}]},
                    "usage": {"image_count": len(results), "width": results[0].width, "height": results[0].height}}
    if not job.is_final:
        raise ApiRefusal(504, "RequestTimeOut", gettext(
            "The edit is still waiting for its turn or being painted after %(seconds)d seconds. It goes on as "
            "task %(task)s: GET /api/v1/tasks/%(task)s answers it when it ends, and it is in your history.") % {
            "seconds": settings.INPAINT_API_GENERATION_WAIT, "task": job.pk})
    if job.status == InpaintJob.Status.CANCELED:
        raise ApiRefusal(400, "RequestCanceled", gettext("The edit was cancelled before it was painted."))
    code = job.error_code or "InternalError"
    message = job.error_message or gettext("The edit failed, and no image was made.")
    raise ApiRefusal(400 if code.startswith(CALLER_CODE_PREFIXES) else 500, code, stored_translate(message))
