"""The decode bound (inpaint.decode_bound): while another thread of the process holds the one decode slot, a
post answers "busy" in plain words within the wait, never a 500; and the preview endpoints are rate-limited
before anything is decoded."""

from __future__ import annotations

import threading
import time

import pytest
from django.urls import reverse
from django.utils.html import escape

from inpaint import decode_bound, images
from inpaint.models import InpaintJob
from tests.live import HTMX, form_data, post_preview
from tests import pictures

pytestmark = pytest.mark.django_db
WAIT = 0.3


@pytest.fixture
def slot_held_elsewhere(settings):
    """The process's decode slot held by another thread, as a long decode would hold it."""
    settings.INPAINT_DECODE_WAIT = WAIT
    taken, release = threading.Event(), threading.Event()

    def hold():
        with decode_bound.decode_slot_take():
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    yield
    release.set()
    holder.join()


def test_a_post_while_the_slot_is_held_answers_busy_in_plain_words_at_once(client, slot_held_elsewhere):
    started = time.monotonic()
    response = client.post(reverse("inpaint:job-create"), form_data(), headers=HTMX)
    assert response.status_code == 200
    assert escape(decode_bound.BUSY_MESSAGE) in response.content.decode()
    assert time.monotonic() - started < WAIT + 2
    assert InpaintJob.objects.count() == 0


def test_a_preview_while_the_slot_is_held_answers_503_with_retry_after(client, slot_held_elsewhere):
    response = post_preview(client, pictures.picture(640, 480))
    assert response.status_code == 503
    assert response["Retry-After"] == str(decode_bound.RETRY_AFTER_SECONDS)
    assert response.content.decode() == decode_bound.BUSY_MESSAGE


def test_the_slot_is_free_again_after_a_post(client):
    client.post(reverse("inpaint:job-create"), form_data(), headers=HTMX)
    with decode_bound.decode_slot_take():
        pass  # would raise DecodeBusy had the post kept it


def refuse_decoding(monkeypatch):
    def decoded(*args, **kwargs):
        raise AssertionError("decoded a refused post")

    for name in ("prepare_base_image", "picture_preview", "prepare_mask"):
        monkeypatch.setattr(images, name, decoded)


def test_previews_past_the_rate_are_refused_before_any_decode(client, settings, monkeypatch):
    settings.INPAINT_PREVIEW_RATE = "1/60"
    assert post_preview(client, pictures.picture(640, 480)).status_code == 200
    refuse_decoding(monkeypatch)
    response = post_preview(client, pictures.picture(640, 480))
    assert response.status_code == 429
    assert "Too many pictures opened from your network" in response.content.decode()


def test_a_job_past_the_create_rate_is_refused_before_any_decode(client, settings, monkeypatch):
    settings.INPAINT_CREATE_RATE = "0/60"
    refuse_decoding(monkeypatch)
    response = client.post(reverse("inpaint:job-create"), form_data(), headers=HTMX)
    assert response.status_code == 200
    assert "Too many new jobs from your network" in response.content.decode()
