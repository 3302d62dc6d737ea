"""The pictures a script points the gateway to: a file of its own temporary upload (``oss://``), a ``data:`` URL,
or an https URL fetched by the app's one hardened fetcher (public addresses only, redirects checked, size and
time capped). What comes back is checked like any upload by the job's own preparation."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.utils.translation import gettext

from inpaint.api.answers import ApiRefusal
from inpaint.api.uploads import uploaded_read
from inpaint.models import ApiKey
from inpaint.services import fetcher

OSS_RESOLVE_HEADER = "X-DashScope-OssResourceResolve"


def _refused(field: str, reason: str) -> ApiRefusal:
    return ApiRefusal(400, "InvalidParameter", gettext("%(field)s: %(reason)s") % {"field": field, "reason": reason})


def _data_url_read(field: str, url: str) -> bytes:
    head, comma, data = url.partition(",")
    if not comma or not head.endswith(";base64"):
        raise _refused(field, gettext("a data: URL must be base64, e.g. data:image/png;base64,…"))
    # base64 is 4 characters for 3 bytes: a text this long is over the limit whatever it holds.
    if len(data) > (settings.INPAINT_MAX_UPLOAD_BYTES + 2) // 3 * 4:
        raise _refused(field, gettext("the picture is larger than %(megabytes)d MB") % {
            "megabytes": settings.INPAINT_MAX_UPLOAD_BYTES // (1024 * 1024)})
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _refused(field, gettext("the data: URL is not valid base64")) from None


def _fetched(field: str, url: str) -> bytes:
    limits = fetcher.FetchLimits(max_bytes=settings.INPAINT_MAX_UPLOAD_BYTES,
                                 seconds=settings.INPAINT_DOWNLOAD_TIMEOUT, connect_seconds=settings.DASHSCOPE_TIMEOUT[0])
    try:
        return fetcher.url_fetch(url, limits)
    except (fetcher.FetchRefused, fetcher.FetchFailed) as failure:
        raise _refused(field, gettext("the picture could not be fetched (%(reason)s)") % {"reason": failure}) from None


def input_picture_read(api_key: ApiKey, model: str, field: str, url: str, *, oss_resolve: bool) -> bytes:
    """The bytes behind one of the request's picture URLs (``field`` names it in refusals); raises ApiRefusal."""
    if url.startswith("oss://"):
        content = uploaded_read(api_key, model, url) if oss_resolve else None
        if content is None:
            # DashScope's own answer to an oss:// URL it cannot resolve (or was not asked to).
            raise _refused(field, gettext("The provided URL does not appear to be valid"))
        return content
    if url.startswith("data:"):
        return _data_url_read(field, url)
    if url.startswith(("https://", "http://")):
        return _fetched(field, url)
    raise _refused(field, gettext("The provided URL does not appear to be valid"))
