"""Engines come from INPAINT_ENGINE_CLASSES: a new engine is one module and one line of configuration."""

from __future__ import annotations

import pytest
from django.utils import translation

from inpaint.engines import all_engines, engines_listed
from inpaint.images import PreparedImage
from inpaint.models import InpaintJob
from inpaint.stored_messages import stored_translate
from tests.live import wait_for
from tests.fake_engine import FLAT_COLOUR, FlatColourEngine
from tests.pictures import open_image, picture
from tests.services.fakes import job_create_sent, job_request

FAKE_ENGINE = "tests.fake_engine.FlatColourEngine"


@pytest.fixture
def fake_engine_registered(settings):
    settings.INPAINT_ENGINE_CLASSES = [*settings.INPAINT_ENGINE_CLASSES, FAKE_ENGINE]
    settings.INPAINT_ENGINES = [*settings.INPAINT_ENGINES, FlatColourEngine.key]
    all_engines.cache_clear()
    yield
    all_engines.cache_clear()


def test_the_engines_are_the_configured_classes(fake_engine_registered):
    assert isinstance(all_engines()["flat-colour"], FlatColourEngine)


@pytest.mark.integration
def test_a_job_runs_through_an_engine_registered_from_the_test_suite(fake_engine_registered, settings, start_worker):
    start_worker(INPAINT_ENGINE_CLASSES=",".join(settings.INPAINT_ENGINE_CLASSES),
                 INPAINT_ENGINES=",".join(settings.INPAINT_ENGINES))
    asked = job_request("flat-colour", prompt="", base=PreparedImage(picture(400, 300), "jpg", 400, 300))
    job = job_create_sent(asked, user=None, visitor_id="visitor-s")
    wait_for(lambda: InpaintJob.objects.get(pk=job.pk).is_final, timeout=60, message="the job to end")
    job.refresh_from_db()
    assert job.status == InpaintJob.Status.SUCCEEDED, job.error_message
    [result] = job.results.all()
    with result.image.open("rb") as stored:
        finished = open_image(stored.read()).convert("RGB")
    assert finished.size == (400, 300)
    assert finished.getpixel((200, 150)) == FLAT_COLOUR


@pytest.mark.parametrize(("base_url", "wanx_listed"), [
    ("https://dashscope.aliyuncs.com/api/v1", True),
    ("https://ws-1a2b.cn-beijing.maas.aliyuncs.com/api/v1", True),
    ("https://dashscope-intl.aliyuncs.com/api/v1", False),
    ("https://ws-1a2b.ap-southeast-1.maas.aliyuncs.com/api/v1", False),
    ("http://127.0.0.1:8765/api/v1", True),  # a stand-in or a gateway names no region: everything is offered
])
def test_the_page_offers_what_the_services_region_has(settings, base_url, wanx_listed):
    settings.DASHSCOPE_BASE_URL = base_url

    listed = [engine.key for engine in engines_listed()]

    assert {"offline", "qwen-image-edit-plus", "qwen-image-edit-max"} <= set(listed)
    assert ("wanx2.1-imageedit" in listed, "wanx-x-painting" in listed) == (wanx_listed, wanx_listed)


def test_a_new_engine_without_explanations_of_its_own_still_says_what_to_do_in_the_readers_language():
    stored = FlatColourEngine().explain_error("Boom", "")
    assert stored == "The engine could not paint this picture (Boom). Try again, or choose another engine."
    with translation.override("zh-hans"):
        assert stored_translate(stored) != stored and "Boom" in stored_translate(stored)
