"""inpaint.views through Django's test client: the job's files (picture, mask, results) served to their owner
only, privately cached, and by signed links for the cloud service."""

from __future__ import annotations

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from inpaint.models import InpaintJob
from inpaint.services import links
from tests.live import add_result, body, create_job, quiet_settings  # noqa: F401 (quiet_settings: autouse)
from tests.pictures import open_image, picture

pytestmark = pytest.mark.django_db


def test_result_downloads_as_png_and_as_jpeg(client):
    job = create_job(client)
    add_result(job, content=picture(64, 64, fmt="PNG"))
    png = client.get(f"/jobs/{job.pk}/results/0/?download")
    jpeg = client.get(f"/jobs/{job.pk}/results/0/?download&format=jpeg")
    assert png["Content-Type"] == "image/png" and open_image(body(png)).format == "PNG"
    assert jpeg["Content-Type"] == "image/jpeg" and open_image(body(jpeg)).format == "JPEG"
    assert 'filename="inpaint-' in jpeg["Content-Disposition"] and '.jpg"' in jpeg["Content-Disposition"]


def test_the_model_output_is_served_apart(client):
    job = create_job(client)
    result = add_result(job)
    result.raw_image.save("model-output.png", ContentFile(picture(32, 32, fmt="PNG")), save=True)
    raw = client.get(f"/jobs/{job.pk}/results/0/model-output/")
    assert raw.status_code == 200 and open_image(body(raw)).size == (32, 32)


@pytest.mark.parametrize("path", ["", "picture/", "mask/", "results/0/", "results/0/?download=1"])
def test_other_session_gets_404_for_the_job_and_its_files(client, path):
    job = create_job(client)
    add_result(job)
    assert client.get(f"/jobs/{job.pk}/{path}").status_code == 200
    assert Client().get(f"/jobs/{job.pk}/{path}").status_code == 404


def test_job_picture_serves_the_stored_picture(client):
    job = create_job(client)
    response = client.get(f"/jobs/{job.pk}/picture/")
    assert response["Content-Type"] == "image/jpeg"
    assert body(response) == picture()


def test_job_picture_of_a_transparent_picture_has_its_transparency(client):
    original = open_image(picture(fmt="PNG", mode="RGBA"))
    job = create_job(client, base=picture(fmt="PNG", mode="RGBA"))
    response = client.get(f"/jobs/{job.pk}/picture/?download=1")

    assert response["Content-Type"] == "image/png"
    assert f'inpaint-{str(job.pk)[:8]}-base.png' in response["Content-Disposition"]
    served = open_image(body(response))
    assert served.mode == "RGBA"
    assert served.getchannel("A").tobytes() == original.getchannel("A").tobytes()


def test_result_download_is_an_attachment(client):
    job = create_job(client)
    add_result(job, b"\x89PNG the result")
    response = client.get(f"/jobs/{job.pk}/results/0/?download=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert f'inpaint-{str(job.pk)[:8]}-result-1.png' in response["Content-Disposition"]
    assert body(response) == b"\x89PNG the result"


def test_result_view_without_download_is_inline(client):
    job = create_job(client)
    add_result(job)
    assert client.get(f"/jobs/{job.pk}/results/0/")["Content-Disposition"].startswith("inline")


def test_missing_result_slot_is_404(client):
    job = create_job(client)
    assert client.get(f"/jobs/{job.pk}/results/3/").status_code == 404


# --- Signed links for the cloud service -----------------------------------------------------------

@pytest.fixture
def linked_job(client, settings) -> InpaintJob:
    settings.INPAINT_PUBLIC_BASE_URL = "http://testserver"
    return create_job(client)


def link_path(name: str) -> str:
    return links.media_link_create(name).removeprefix("http://testserver")


def test_media_link_serves_the_file(linked_job):
    response = Client().get(link_path(linked_job.mask_image.name))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    with linked_job.mask_image.open("rb") as stored:
        assert body(response) == stored.read()


def test_media_link_tampered_token_is_404(linked_job):
    path = link_path(linked_job.base_image.name)
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert Client().get(tampered).status_code == 404


def test_media_link_for_another_file_name_is_404(linked_job):
    path = link_path(linked_job.base_image.name)
    assert Client().get(path.rsplit("/", 1)[0] + "/mask.png").status_code == 404


def test_media_link_expired_is_404(linked_job, monkeypatch):
    two_hours_ago = signing.b62_encode(int(timezone.now().timestamp()) - 7200)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: two_hours_ago)
        path = link_path(linked_job.base_image.name)
    assert Client().get(path).status_code == 404


def test_files_are_privately_cached_and_answered_304_when_unchanged(client):
    job = create_job(client)
    first = client.get(f"/jobs/{job.pk}/picture/")
    assert "private" in first["Cache-Control"] and first["ETag"]
    again = client.get(f"/jobs/{job.pk}/picture/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_a_stranger_gets_404_not_304(client):
    job = create_job(client)
    etag = client.get(f"/jobs/{job.pk}/picture/")["ETag"]
    assert Client().get(f"/jobs/{job.pk}/picture/", headers={"If-None-Match": etag}).status_code == 404


def test_a_transparent_picture_is_put_back_together_once(client, media_root):
    job = create_job(client, base=picture(fmt="PNG", mode="RGBA"))
    body(client.get(f"/jobs/{job.pk}/picture/"))
    made = list(media_root.rglob("base-with-transparency.png"))
    assert len(made) == 1
    stamp = made[0].stat().st_mtime_ns
    assert open_image(body(client.get(f"/jobs/{job.pk}/picture/"))).mode == "RGBA"
    assert made[0].stat().st_mtime_ns == stamp
