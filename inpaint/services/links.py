"""Links to stored files: the signed, expiring ones the cloud service fetches pictures through, and the
presigned bucket URLs a checked view sends a person's download to."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.db.models import Q
from django.urls import reverse
from django.utils.http import content_disposition_header

from inpaint.models import InpaintJob, JobResult
from inpaint.services.states import IN_FLIGHT

MEDIA_LINK_SALT = "inpaint.media-link"
RESULT_LINK_SALT = "inpaint.result-link"
# A gateway result's link lives as long as DashScope's result URLs do (reference §2.3).
RESULT_LINK_SECONDS = 24 * 3600


def media_link_create(name: str) -> str:
    """A signed URL under INPAINT_PUBLIC_BASE_URL that serves one stored file of a job waiting on the service,
    until INPAINT_LINK_TTL passes."""
    token = signing.dumps(name, salt=MEDIA_LINK_SALT)
    filename = name.rsplit("/", 1)[-1]
    return settings.INPAINT_PUBLIC_BASE_URL + reverse("inpaint:media-link", args=[token, filename])


def media_link_resolve(token: str) -> str | None:
    """The stored file a link names, while it is signed, unexpired, and its job still waits on the service.

    A link cannot be revoked one by one, so it dies with its job's wait: once the job has finished,
    failed or been cancelled, the service has no reason to fetch its pictures, and no one else has any.
    """
    try:
        name = signing.loads(token, salt=MEDIA_LINK_SALT, max_age=settings.INPAINT_LINK_TTL)
    except signing.BadSignature:
        return None
    waiting = InpaintJob.objects.filter(IN_FLIGHT).filter(
        Q(base_image=name) | Q(mask_image=name) | Q(region_image=name) | Q(region_mask=name))
    return name if waiting.exists() else None


def bucket_link_create(name: str) -> str:
    """A presigned URL of the bucket that serves one stored file until INPAINT_LINK_TTL passes."""
    return default_storage.url(name, expire=settings.INPAINT_LINK_TTL)


def service_link_choose() -> Callable[[str], str] | None:
    """How the cloud service fetches a stored file, by its storage name.

    Straight from the bucket when it is reachable from outside (no app in the way); else through
    the app's signed links when it has a public address; else None: the engine uploads the files
    to DashScope's temporary storage.
    """
    if settings.INPAINT_S3_REACHABLE_FROM_OUTSIDE:
        return bucket_link_create
    if settings.INPAINT_PUBLIC_BASE_URL:
        return media_link_create
    return None


def download_link_create(name: str, *, filename: str, content_type: str | None, as_attachment: bool) -> str | None:
    """A presigned bucket URL, valid for minutes, through which a person's browser downloads a stored
    file the view has already checked is theirs; None when the view must stream it instead.

    A download (a full-size picture of up to tens of MB) is sent to the bucket so it does not hold a
    web worker, when browsers can reach the bucket. What the page itself shows or fetches is streamed:
    the Content-Security-Policy allows images and fetches from this app only, and a fetch from the
    bucket would need a CORS rule on it; a download is a plain navigation, bound by neither.
    """
    if not (settings.INPAINT_S3_REACHABLE_FROM_OUTSIDE and as_attachment):
        return None
    # The bucket answers with the name and type the app would have given, so a download is saved
    # under inpaint-<job>-result-1.png rather than under its storage name.
    parameters = {"ResponseContentDisposition": content_disposition_header(True, filename)}
    if content_type:
        parameters["ResponseContentType"] = content_type
    return default_storage.url(name, parameters=parameters, expire=settings.INPAINT_S3_REDIRECT_TTL)


def result_link_path(result: JobResult) -> str:
    """The path of a signed link to one finished result at full resolution, for a script of its owner (the gateway's
    ``results[].url``); it works for RESULT_LINK_SECONDS, and no longer than the result itself."""
    token = signing.dumps([str(result.job_id), result.slot], salt=RESULT_LINK_SALT)
    return reverse("api:result-link", args=[token, f"result-{result.slot + 1}.png"])


def result_link_resolve(token: str) -> JobResult | None:
    """The stored result a result link names, while it is signed, unexpired and still kept."""
    try:
        job_id, slot = signing.loads(token, salt=RESULT_LINK_SALT, max_age=RESULT_LINK_SECONDS)
    except (signing.BadSignature, ValueError):
        return None
    return JobResult.objects.filter(job_id=job_id, slot=slot).exclude(image="").select_related("job").first()
