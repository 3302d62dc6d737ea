"""The gateway's function views: DashScope's paths under /api/v1, answered in its JSON shapes.

No view reads the session or a cookie: a call is its person's only through the key in its Authorization
header, so another site can never make a browser send one, and CSRF has nothing to protect. Every view reads
the whole request body before it answers, errors included: the SDK sends its calls on one kept-open
connection, and a body left unread would be taken for the start of the next request.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from inpaint.api import answers, generation, keys, synthesis, uploads
from inpaint.api.answers import ApiRefusal
from inpaint.api.inputs import OSS_RESOLVE_HEADER
from inpaint.models import ApiKey, InpaintJob
from inpaint.services import jobs, links, selectors
from inpaint.services.refusals import JobActionRefused
from inpaint.services.scheduling import steps_dispatch


def _method_check(request: HttpRequest, method: str) -> None:
    if request.method != method:
        request.read()  # see the module: read before answering
        raise ApiRefusal(405, "MethodNotAllowed", gettext("This path takes %(method)s only.") % {"method": method})


def _unkeyed(method: str):
    """A gateway view that needs no key: CSRF-exempt, open in login mode, its refusals in DashScope's shape."""
    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                _method_check(request, method)
                return view(request, *args, **kwargs)
            except ApiRefusal as refusal:
                return answers.refusal_answer(refusal)
        return wrapped
    return decorate


def _keyed(method: str):
    """A gateway view called with a personal key, as ``view(request, api_key, body, …)``: the body read first,
    the key checked and counted against its rate."""
    def decorate(view: Callable) -> Callable:
        @_unkeyed(method)
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            # Read whole before anything is answered (see the module); the body-size middleware has capped it.
            body = request.read()
            api_key = keys.api_key_authenticate(request.headers.get("Authorization", ""))
            if api_key is None:
                message = (gettext("Invalid API-key provided.") if request.headers.get("Authorization")
                           else gettext("No API-key provided."))
                raise ApiRefusal(401, "InvalidApiKey", message)
            if not keys.api_key_rate_take(api_key):
                raise ApiRefusal(429, "Throttling.RateQuota",
                                 gettext("Requests rate limit exceeded, please try again later."))
            return view(request, api_key, body, *args, **kwargs)
        return wrapped
    return decorate


def _owned_job(api_key: ApiKey, task_id: str) -> InpaintJob:
    # Another person's task, like one that never was: DashScope's tasks are its account's alone.
    job = selectors.job_list(user=api_key.user, visitor_id="").filter(pk=task_id).first() if _is_uuid(task_id) else None
    if job is None:
        raise ApiRefusal(404, "NotFound", gettext("The task does not exist."))
    return job


def _is_uuid(text: str) -> bool:
    try:
        InpaintJob._meta.pk.to_python(text)
    except ValidationError:
        return False
    return True


@_keyed("POST")
def task_create(request: HttpRequest, api_key: ApiKey, body: bytes) -> HttpResponse:
    if request.headers.get("X-DashScope-Async") != "enable":
        raise ApiRefusal(403, "AccessDenied", gettext("current user api does not support synchronous calls"))
    job = synthesis.synthesis_job_create(api_key, answers.json_body(body),
                                         oss_resolve=request.headers.get(OSS_RESOLVE_HEADER) == "enable")
    return answers.answer({"output": {"task_id": str(job.pk), "task_status": answers.task_status(job)}})


@_keyed("POST")
def generation_call(request: HttpRequest, api_key: ApiKey, body: bytes) -> HttpResponse:
    """The Qwen models' synchronous call: the answer waits while the job takes its turn and is painted."""
    if request.headers.get("X-DashScope-Async") == "enable":
        raise ApiRefusal(403, "AccessDenied", gettext("current user api does not support asynchronous calls"))
    with generation.generation_hold():
        job = generation.generation_job_create(api_key, answers.json_body(body),
                                               oss_resolve=request.headers.get(OSS_RESOLVE_HEADER) == "enable")
        job = generation.generation_wait(job)
    return answers.answer(generation.generation_output(
        job, lambda result: request.build_absolute_uri(links.result_link_path(result))))


@_keyed("POST")
def text_to_image(request: HttpRequest, api_key: ApiKey, body: bytes) -> HttpResponse:
    """Where the SDK sends the painting models without ``task="image2image"``: answered as DashScope does."""
    raise ApiRefusal(400, "InvalidParameter", gettext("url error, please check url！"))


@_keyed("GET")
def task_query(request: HttpRequest, api_key: ApiKey, body: bytes, task_id: str) -> HttpResponse:
    job = _owned_job(api_key, task_id)
    return answers.answer(answers.task_output(
        job, lambda result: request.build_absolute_uri(links.result_link_path(result))))


@_keyed("POST")
def task_cancel(request: HttpRequest, api_key: ApiKey, body: bytes, task_id: str) -> HttpResponse:
    job = _owned_job(api_key, task_id)
    try:
        steps_dispatch(jobs.job_cancel(job))
    except JobActionRefused as refusal:
        raise ApiRefusal(400, "UnsupportedOperation", str(refusal)) from None
    return answers.answer({})


@_keyed("GET")
def upload_policy(request: HttpRequest, api_key: ApiKey, body: bytes) -> HttpResponse:
    if request.GET.get("action") != "getPolicy":
        raise ApiRefusal(400, "InvalidParameter", gettext("The action must be getPolicy."))
    # A file is uploaded for the model it is sent to: the painting models' and the Qwen models' alike.
    models = {*synthesis.MODEL_FUNCTIONS, *generation.generation_models()}
    model = synthesis.model_check(request.GET.get("model"), models)
    upload_host = request.build_absolute_uri(reverse("api:upload"))
    return answers.answer({"data": uploads.upload_policy_issue(api_key, model, upload_host)})


@_unkeyed("POST")
def upload(request: HttpRequest) -> HttpResponse:
    """The temporary storage's form POST: no key, the signed policy is the right to upload."""
    uploads.upload_accept(request.POST, request.FILES.get("file"))
    # OSS answers what success_action_status asks for, else 204; the SDK asks for 200.
    return HttpResponse(status=200 if request.POST.get("success_action_status") == "200" else 204)


@_unkeyed("GET")
def result_link(request: HttpRequest, token: str, filename: str) -> FileResponse:
    """A finished result at full resolution through its signed, expiring link (tasks' ``results[].url``)."""
    result = links.result_link_resolve(token)
    if result is None or not filename.endswith(".png"):
        raise Http404("This link has expired or is not valid")
    return FileResponse(default_storage.open(result.image.name, "rb"), filename=filename,
                        content_type=mimetypes.guess_type(result.image.name)[0])


@_unkeyed("GET")
def not_found(request: HttpRequest, path: str) -> HttpResponse:
    raise ApiRefusal(404, "NotFound", gettext("No route for %(method)s %(path)s") % {
        "method": request.method, "path": request.path})
