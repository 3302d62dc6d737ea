"""Signed, expiring media links."""

from __future__ import annotations

from django.core import signing
from django.utils import timezone

from inpaint.services import links


def link_token(url: str) -> str:
    return url.split("/links/", 1)[1].split("/", 1)[0]


def test_media_link_round_trip(settings):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    url = links.media_link_create("jobs/abc/base.jpg")
    assert url.startswith("https://studio.example/links/")
    assert url.endswith("/base.jpg")
    assert links.media_link_resolve(link_token(url)) == "jobs/abc/base.jpg"


def test_media_link_tampered_token_is_refused(settings):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    token = link_token(links.media_link_create("jobs/abc/base.jpg"))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert links.media_link_resolve(tampered) is None


def test_media_link_expired_token_is_refused(settings, monkeypatch):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    settings.INPAINT_LINK_TTL = 3600
    two_hours_ago = signing.b62_encode(int(timezone.now().timestamp()) - 7200)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: two_hours_ago)
        token = link_token(links.media_link_create("jobs/abc/base.jpg"))
    assert links.media_link_resolve(token) is None


