"""An image-synthesis request of the gateway made into a job through the page's own path: the job form checks
each field, inpaint.services.job_requests the pictures and the engine, inpaint.services.jobs stores it under the
same queue, turns, caps and paste-back as a job from the page.

The request is DashScope's (``{model, input, parameters}``, every SDK keyword argument flat in ``parameters``). The
app absorbs the model's limits as it does for the page, so ``size`` is not passed on: the results come back at
the picture's own size.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext

from inpaint import decode_bound, options
from inpaint.api.answers import ApiRefusal
from inpaint.api.inputs import input_picture_read
from inpaint.forms import JobForm
from inpaint.models import ApiKey, InpaintJob
from inpaint.services import job_requests, jobs, selectors
from inpaint.services.refusals import JobActionRefused, JobRequestRefused
from inpaint.services.scheduling import steps_dispatch

# The models the gateway serves, and the functions each takes (None: no input.function, as wanx-x-painting).
MODEL_FUNCTIONS = {
    "wanx-x-painting": None,
    "wanx2.1-imageedit": frozenset(function for function, _ in options.FUNCTIONS),
}
# Where the form's fields came from in the request, so a refusal names what the script sent.
API_NAMES = {"base_image": "input.base_image_url", "mask_image": "input.mask_image_url", "prompt": "input.prompt",
             "negative_prompt": "input.negative_prompt", "function": "input.function", "engine": "model"}
SEED_MAX = 2**31 - 1
PARAMETERS = ("style", "n", *options.EXPAND_SIDES, "upscale_factor")


def invalid(message: str) -> ApiRefusal:
    return ApiRefusal(400, "InvalidParameter", message)


def model_check(model, models: Collection[str] = MODEL_FUNCTIONS.keys()) -> str:
    if model not in models:
        raise invalid(gettext("Model not exist."))
    return model


def _function(model: str, given) -> str:
    functions = MODEL_FUNCTIONS[model]
    if functions is None:
        return options.FUNCTION_EDIT
    if given not in functions:
        raise invalid(gettext("input.function must be one of %(functions)s.") % {
            "functions": ", ".join(sorted(functions))})
    return given


def seed_check(parameters: dict) -> int | None:
    seed = parameters.get("seed")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= SEED_MAX):
        raise invalid(gettext("parameters.seed must be a whole number from 0 to %(max)d.") % {"max": SEED_MAX})
    return seed


def _form(api_key: ApiKey, body: dict, *, oss_resolve: bool) -> tuple[JobForm, int | None]:
    model = model_check(body.get("model"))
    given_input, parameters = body.get("input"), body.get("parameters") or {}
    if not isinstance(given_input, dict) or not isinstance(parameters, dict):
        raise invalid(gettext("input and parameters must be JSON objects."))
    function = _function(model, given_input.get("function"))
    data = {"engine": model, "function": function, "prompt": given_input.get("prompt") or "",
            "negative_prompt": given_input.get("negative_prompt") or "", "style": options.STYLE_DEFAULT,
            "n": str(options.COUNT_DEFAULT),
            "mask_color": json.dumps(parameters["mask_color"]) if parameters.get("mask_color") else "",
            **{name: str(parameters[name]) for name in PARAMETERS if parameters.get(name) is not None}}
    files = {}
    for field in ("base_image", "mask_image"):
        if url := given_input.get(f"{field}_url"):
            if not isinstance(url, str):
                raise invalid(gettext("%(field)s must be a URL.") % {"field": API_NAMES[field]})
            files[field] = SimpleUploadedFile(field, input_picture_read(api_key, model, API_NAMES[field], url,
                                                                        oss_resolve=oss_resolve))
    return JobForm(data, files), seed_check(parameters)


def _errors_said(errors: dict, api_names: dict[str, str]) -> str:
    return " ".join(f"{api_names.get(field, f'parameters.{field}')}: {' '.join(messages)}"
                    for field, messages in errors.items())


def synthesis_job_create(api_key: ApiKey, body: dict, *, oss_resolve: bool) -> InpaintJob:
    """The job a create request asks for, stored and started as the key's person; raises ApiRefusal."""
    return form_job_create(api_key, *_form(api_key, body, oss_resolve=oss_resolve), api_names=API_NAMES)


def form_job_create(api_key: ApiKey, form: JobForm, seed: int | None, *, api_names: dict[str, str]) -> InpaintJob:
    """The job a gateway request's form asks for, stored and started as the key's person, as a job from the page;
    raises ApiRefusal naming each field by ``api_names``, where the request had it."""
    valid = form.is_valid()
    if not valid and not job_requests.REQUEST_FIELDS <= form.cleaned_data.keys():
        raise invalid(_errors_said(form.errors, api_names))
    errors = dict(form.errors)
    job_request = None
    try:
        with decode_bound.decode_slot_take():
            job_request = job_requests.job_request_make(
                form.cleaned_data, owned_jobs=selectors.job_list(user=api_key.user, visitor_id=""))
    except JobRequestRefused as refusal:
        errors.update({field: [message] for field, message in refusal.errors.items()})
    except decode_bound.DecodeBusy as busy:
        raise ApiRefusal(503, "ServiceUnavailable", str(busy)) from None
    if errors or job_request is None:
        raise invalid(_errors_said(errors, api_names))
    if seed is not None:
        job_request = dataclasses.replace(job_request, seed=seed)
    try:
        # Past the person's jobs in progress a task waits, as a script expects of DashScope's queue.
        job, steps = jobs.job_create(job_request, user=api_key.user, visitor_id="", wait_past_limit=True)
    except JobActionRefused as refusal:
        # The person's own caps (images this month, tasks waiting): never the account's limits, which the queue
        # absorbs.
        raise ApiRefusal(429, "Throttling.AllocationQuota", str(refusal)) from None
    steps_dispatch(steps)
    return job
