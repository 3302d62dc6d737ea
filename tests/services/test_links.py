"""Signed, expiring media links, and presigned bucket URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.utils import timezone

from inpaint.models import InpaintJob
from inpaint.services import links
from tests.services.fakes import submitted_job
from webapp import settings as documented
from webapp.settings import s3_media_storage


def link_token(url: str) -> str:
    return url.split("/links/", 1)[1].split("/", 1)[0]


@pytest.mark.django_db
def test_media_link_round_trip_while_the_job_waits_on_the_service(settings):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    job = submitted_job()
    for name in (job.region_image.name, job.region_mask.name):
        url = links.media_link_create(name)
        assert url.startswith("https://studio.example/links/")
        assert url.endswith("/" + name.rsplit("/", 1)[-1])
        assert links.media_link_resolve(link_token(url)) == name


@pytest.mark.django_db
@pytest.mark.parametrize("status", [InpaintJob.Status.SUCCEEDED, InpaintJob.Status.FAILED, InpaintJob.Status.CANCELED])
def test_media_link_of_a_job_no_longer_waiting_is_refused(settings, status):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    job = submitted_job()
    token = link_token(links.media_link_create(job.region_image.name))
    InpaintJob.objects.filter(pk=job.pk).update(status=status)
    assert links.media_link_resolve(token) is None


@pytest.mark.django_db
def test_media_link_of_a_file_no_job_holds_is_refused(settings):
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    assert links.media_link_resolve(link_token(links.media_link_create("jobs/abc/base.jpg"))) is None


def test_media_links_live_about_five_minutes_by_default():
    assert documented.INPAINT_LINK_TTL == 300


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




@pytest.fixture
def private_bucket(settings, monkeypatch):
    """Media in a bucket that people and DashScope can reach (presigning needs no server)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    settings.STORAGES = {**settings.STORAGES,
                         "default": s3_media_storage("media", endpoint_url="http://store.example:9000", region="eu-1")}
    settings.INPAINT_S3_REACHABLE_FROM_OUTSIDE = True
    return settings


def test_the_service_fetches_from_the_bucket_when_it_is_reachable(private_bucket):
    private_bucket.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    private_bucket.INPAINT_LINK_TTL = 1800
    url = links.service_link_choose()("jobs/abc/region.png")
    assert url.startswith("http://store.example:9000/media/jobs/abc/region.png?")
    assert "X-Amz-Expires=1800" in url and "X-Amz-Signature=" in url


def test_the_service_fetches_through_the_app_or_temporary_storage_otherwise(settings):
    settings.INPAINT_S3_REACHABLE_FROM_OUTSIDE = False
    settings.INPAINT_PUBLIC_BASE_URL = "https://studio.example"
    assert links.service_link_choose() is links.media_link_create
    settings.INPAINT_PUBLIC_BASE_URL = ""
    assert links.service_link_choose() is None


def test_a_stored_file_in_a_reachable_bucket_gets_a_download_link_for_minutes(private_bucket):
    url = links.download_link_create("jobs/abc/result-0.png", filename="inpaint-abc-result-1.png",
                                     content_type="image/png", as_attachment=True)
    assert url.startswith("http://store.example:9000/media/jobs/abc/result-0.png?")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == ['attachment; filename="inpaint-abc-result-1.png"']
    assert query["response-content-type"] == ["image/png"]


def test_what_the_page_shows_is_streamed_even_from_a_reachable_bucket(private_bucket):
    # The page's images and fetches must stay on the app's own origin (its CSP, no CORS needed).
    assert links.download_link_create("jobs/abc/mask.png", filename="m.png", content_type="image/png",
                                      as_attachment=False) is None


def test_a_bucket_people_cannot_reach_gives_no_download_link(private_bucket):
    private_bucket.INPAINT_S3_REACHABLE_FROM_OUTSIDE = False
    assert links.download_link_create("jobs/abc/mask.png", filename="m.png", content_type="image/png",
                                      as_attachment=True) is None
