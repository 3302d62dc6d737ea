"""The editor's picture proxy (views.picture_preview): an upright JPEG of at most 4096 px a side, with the
picture's full size in headers, or a plain-words refusal."""

from __future__ import annotations

import pillow_heif
import pytest
from django.test import Client
from django.urls import reverse

from tests import pictures
from tests.live import post_preview

pytestmark = pytest.mark.django_db

pillow_heif.register_heif_opener()  # so the tests can write HEIC themselves


def test_a_large_photo_comes_back_as_an_upright_proxy_with_its_full_size(client):
    response = post_preview(client, pictures.picture(6000, 4000, orientation=6))

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert (response["X-Picture-Width"], response["X-Picture-Height"]) == ("4000", "6000")
    proxy = pictures.open_image(response.content)
    assert proxy.format == "JPEG" and proxy.size == (2731, 4096)


@pytest.mark.parametrize(("fmt", "name"), [("HEIF", "photo.heic"), ("TIFF", "scan.tif")])
def test_formats_the_browser_cannot_show_come_back_as_jpeg_at_their_size(client, fmt, name):
    response = post_preview(client, pictures.picture(640, 480, fmt=fmt), name)

    assert response.status_code == 200
    assert (response["X-Picture-Width"], response["X-Picture-Height"]) == ("640", "480")
    assert pictures.open_image(response.content).size == (640, 480)


def test_a_picture_over_the_pixel_limit_is_refused_in_plain_words(client, settings):
    settings.INPAINT_MAX_PIXELS = 1_000_000
    response = post_preview(client, pictures.picture(1500, 1000))

    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert "1.5 megapixels" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, settings):
    settings.INPAINT_MAX_UPLOAD_BYTES = 1000
    response = post_preview(client, pictures.picture(640, 480))

    assert response.status_code == 400
    assert "the limit is" in response.content.decode()


def test_no_file_and_not_a_picture_are_refused(client):
    missing = client.post(reverse("inpaint:picture-preview"))
    assert missing.status_code == 400 and missing.content.decode() == "Choose a picture to open."
    assert post_preview(client, b"GIF89a not really", "x.gif").status_code == 400
    assert client.get(reverse("inpaint:picture-preview")).status_code == 405


def test_the_preview_needs_the_pages_csrf_token():
    response = post_preview(Client(enforce_csrf_checks=True), pictures.picture(640, 480))
    assert response.status_code == 403
