"""The editor's proxy of a held picture (views.job_file_for_editor) is made once and stored: a later GET, with
or without If-None-Match, decodes nothing."""

from __future__ import annotations

import pytest

from inpaint import images
from tests.pictures import mask, open_image, picture
from tests.live import create_job, quiet_settings  # noqa: F401 - the view tests' settings

pytestmark = pytest.mark.django_db


def test_the_editor_proxy_is_made_once_then_served_without_decoding(client, monkeypatch):
    job = create_job(client, base=picture(5000, 1000), mask_png=mask(5000, 1000))
    first = client.get(f"/jobs/{job.pk}/picture/editor/")
    assert first.status_code == 200 and open_image(first.content).size == (4096, 819)
    assert (first["X-Picture-Width"], first["X-Picture-Height"]) == ("5000", "1000")

    def decoded(*args, **kwargs):
        raise AssertionError("the stored proxy was decoded again")

    monkeypatch.setattr(images, "picture_preview", decoded)
    again = client.get(f"/jobs/{job.pk}/picture/editor/")
    assert again.status_code == 200 and again.content == first.content
    assert client.get(f"/jobs/{job.pk}/picture/editor/", headers={"If-None-Match": first["ETag"]}).status_code == 304
