"""Signed, expiring links through which the cloud service fetches a stored file."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

MEDIA_LINK_SALT = "inpaint.media-link"


def media_link_create(name: str) -> str:
    """A signed URL under INPAINT_PUBLIC_BASE_URL that serves one stored file until INPAINT_LINK_TTL passes."""
    token = signing.dumps(name, salt=MEDIA_LINK_SALT)
    filename = name.rsplit("/", 1)[-1]
    return settings.INPAINT_PUBLIC_BASE_URL + reverse("inpaint:media-link", args=[token, filename])


def media_link_resolve(token: str) -> str | None:
    try:
        return signing.loads(token, salt=MEDIA_LINK_SALT, max_age=settings.INPAINT_LINK_TTL)
    except signing.BadSignature:
        return None
