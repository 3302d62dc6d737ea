"""inpaint.views through Django's test client: creating a job, its refusals in plain words, and a picture the
server holds taken as the new base."""

from __future__ import annotations

import io
import os

import pytest
from django.test import Client
from django.utils.html import escape
from PIL import Image

from inpaint import options
from inpaint.engines import engine_get
from inpaint.models import InpaintJob, JobResult
from inpaint.services import submission
from inpaint.services.owners import VISITOR_SESSION_KEY
from tests.live import (  # noqa: F401 (quiet_settings: autouse)
    HTMX, add_result, assert_refused, create_job, form_data, quiet_settings, set_status)
from tests.pictures import mask, open_image, picture

pytestmark = pytest.mark.django_db

Status = InpaintJob.Status


# --- Creating a job -------------------------------------------------------------------------------

def test_job_create_offline_returns_the_job_card(client):
    response = client.post("/jobs/", form_data(), headers=HTMX)
    assert response.status_code == 200
    assert 'data-testid="job-card"' in response.content.decode()


def test_job_create_offline_stores_the_job_for_this_session(client):
    client.post("/jobs/", form_data(), headers=HTMX)
    job = InpaintJob.objects.get()
    assert job.visitor_id == client.session[VISITOR_SESSION_KEY]
    assert job.visitor_id != client.session.session_key  # the app's own id, never the session key
    assert job.owner_key == f"visitor:{job.visitor_id}"  # turns and limits are the person's, not the address's
    assert (job.engine, job.status, job.base_width, job.base_height) == ("offline", Status.QUEUED, 640, 480)


def test_job_create_without_htmx_redirects_to_the_job_page(client):
    response = client.post("/jobs/", form_data())
    job = InpaintJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"


def test_job_create_cloud_with_a_key_creates_a_job(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    response = client.post("/jobs/", form_data(engine="wanx-x-painting", prompt="a red boat"), headers=HTMX)
    assert response.status_code == 200
    assert InpaintJob.objects.get().prompt == "a red boat"


def test_job_create_refuses_a_too_small_picture(client):
    response = client.post("/jobs/", form_data(base=picture(20, 200), mask_png=mask(20, 200)), headers=HTMX)
    assert_refused(response, "The picture is 20 × 200 pixels; each side must be at least 32 pixels.")


def test_job_create_refuses_a_picture_over_the_apps_pixel_limit(client, settings):
    settings.INPAINT_MAX_PIXELS = 200_000
    response = client.post("/jobs/", form_data(), headers=HTMX)
    assert_refused(response, "The picture has 0.3 megapixels (640 × 480); the limit is 0.2 megapixels.")


def test_job_create_keeps_the_context_and_edge_softness_chosen(client):
    job = create_job(client, context="whole", edge_softness="20")
    assert (job.context, job.edge_softness, job.size) == ("whole", 20, "original")


def test_job_create_refuses_an_edge_softness_out_of_range(client):
    response = client.post("/jobs/", form_data(edge_softness="65"), headers=HTMX)
    assert response.status_code == 200
    assert InpaintJob.objects.count() == 0
    assert "less than or equal to 64" in response.content.decode()


def test_a_negative_prompt_reaches_an_engine_that_takes_one_and_no_other(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-views"
    job = create_job(client, engine="qwen-image-edit-plus", prompt="a boat", negative_prompt="text, a watermark")
    assert job.negative_prompt == "text, a watermark"
    submission.job_region_prepare(job, engine_get(job.engine))
    assert submission.job_input_build(job).negative_prompt == "text, a watermark"
    other = create_job(Client(), engine="wanx2.1-imageedit", prompt="a boat", negative_prompt="text")
    assert other.negative_prompt == "", "an engine without one is sent none"


def test_a_negative_prompt_over_the_models_limit_is_refused(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-views"
    response = client.post("/jobs/", form_data(engine="qwen-image-edit-plus", prompt="a boat",
                                               negative_prompt="x" * (options.NEGATIVE_PROMPT_MAX_CHARS + 1)),
                           headers=HTMX)
    assert InpaintJob.objects.count() == 0
    assert f"at most {options.NEGATIVE_PROMPT_MAX_CHARS} characters" in response.content.decode()


def test_a_wrong_field_and_a_wrong_picture_are_both_named_in_one_answer(client):
    response = client.post("/jobs/", form_data(base=picture(20, 200), mask_png=mask(20, 200), edge_softness="65"),
                           headers=HTMX)
    page = response.content.decode()
    assert InpaintJob.objects.count() == 0
    assert "less than or equal to 64" in page
    assert "The picture is 20 × 200 pixels; each side must be at least 32 pixels." in page


def test_a_style_is_not_kept_for_an_engine_that_has_none(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-views"
    job = create_job(client, engine="wanx2.1-imageedit", prompt="a boat", style="<watercolor>")
    assert job.style == "<auto>"


def test_job_create_refuses_a_mask_of_another_shape(client):
    response = client.post("/jobs/", form_data(mask_png=mask(300, 300)), headers=HTMX)
    assert_refused(response, "The mask is 300 × 300 pixels but the picture is 640 × 480; "
                             "the mask must have the picture's shape.")


def test_job_create_accepts_a_mask_of_the_same_shape_and_another_size(client):
    response = client.post("/jobs/", form_data(mask_png=mask(320, 240)), headers=HTMX)
    assert response.status_code == 200
    assert InpaintJob.objects.count() == 1


def test_job_create_refuses_an_empty_mask(client):
    response = client.post("/jobs/", form_data(mask_png=mask(fill=0)), headers=HTMX)
    assert_refused(response, "The mask is empty: paint the area you want to change.")


def test_job_create_refuses_a_missing_prompt_for_a_cloud_engine(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    response = client.post("/jobs/", form_data(engine="wanx-x-painting", prompt="  "), headers=HTMX)
    assert_refused(response, "Say in a few words what should appear in the painted area.")


def test_job_create_refuses_a_prompt_too_long_for_the_model(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    response = client.post("/jobs/", form_data(engine="wanx-x-painting", prompt="x" * 76), headers=HTMX)
    assert_refused(response, "The prompt is 76 characters; this model reads at most 75. Shorten it.")


def test_job_create_refuses_bad_mask_colour_json(client):
    response = client.post("/jobs/", form_data(mask_color="[[0, 0, 0]"), headers=HTMX)
    assert_refused(response, "Write the mask colours as a list of [red, green, blue], e.g. [[0, 0, 0]].")


def test_job_create_refuses_a_cloud_engine_without_a_key(client):
    response = client.post("/jobs/", form_data(engine="wanx-x-painting", prompt="a red boat"), headers=HTMX)
    assert_refused(response, "This server has no DashScope key, so cloud models are switched off.")


def test_job_create_refuses_a_cloud_job_past_the_monthly_cap(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    settings.INPAINT_MONTHLY_IMAGE_CAP = 1
    create_job(Client(), engine="wanx-x-painting", prompt="a red boat")
    response = client.post("/jobs/", form_data(engine="wanx-x-painting", prompt="a blue boat"), headers=HTMX)
    assert response.status_code == 200
    assert escape("This month's limit of 1 cloud images has been reached.") in response.content.decode()
    assert InpaintJob.objects.count() == 1


def test_job_create_refusal_without_htmx_is_not_an_error_page(client):
    response = client.post("/jobs/", form_data(mask_png=mask(fill=0)))
    assert_refused(response, "The mask is empty: paint the area you want to change.")


def test_job_create_tells_how_transparency_is_handled(client):
    response = client.post("/jobs/", form_data(base=picture(fmt="PNG", mode="RGBA")), headers=HTMX)
    assert "the results keep the transparency" in response.content.decode()


def test_job_create_accepts_a_chinese_prompt_of_75_characters(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    prompt = "一只戴着红色眼镜的小狗" * 6 + "在草地上奔跑吧朋友们大家好"  # 66 + 13 = 79 characters
    assert_refused(client.post("/jobs/", form_data(engine="wanx-x-painting", prompt=prompt), headers=HTMX),
                   "The prompt is 79 characters; this model reads at most 75. Shorten it.")
    job = create_job(client, engine="wanx-x-painting", prompt=prompt[:75])
    assert job.prompt == prompt[:75]


# --- A picture the server holds as the new base -------------------------------------------------

def noise_png(width: int = 640, height: int = 480) -> bytes:
    """A picture no compressor can shrink: its PNG is larger than the upload limit the tests set."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_result_over_the_upload_limit_becomes_the_next_jobs_picture_without_being_sent(client, settings):
    first = create_job(client)
    set_status(first, Status.SUCCEEDED)
    result_png = noise_png()
    add_result(first, result_png)
    settings.INPAINT_MAX_UPLOAD_BYTES = 200_000
    assert len(result_png) > settings.INPAINT_MAX_UPLOAD_BYTES
    response = client.post("/jobs/", form_data(base_source=f"result:{first.pk}:0", base_image=""), headers=HTMX)
    assert response.status_code == 200 and 'data-testid="job-card"' in response.content.decode()
    second = InpaintJob.objects.exclude(pk=first.pk).get()
    with second.base_image.open("rb") as stored:
        assert open_image(stored.read()).tobytes() == open_image(result_png).tobytes()


def test_a_jobs_own_picture_is_taken_again_by_reference(client):
    first = create_job(client)
    client.post("/jobs/", form_data(base_source=f"job:{first.pk}", base_image=""), headers=HTMX)
    second = InpaintJob.objects.exclude(pk=first.pk).get()
    with first.base_image.open("rb") as original, second.base_image.open("rb") as again:
        assert original.read() == again.read()


@pytest.mark.parametrize("source", ["result:{other}:0", "job:{other}", "result:{mine}:3", "job:not-a-job", "elsewhere:{mine}"])
def test_a_picture_that_is_not_the_visitors_or_not_there_is_refused_in_plain_words(client, source):
    mine = create_job(client)
    other = create_job(Client())
    set_status(other, Status.SUCCEEDED)
    add_result(other, noise_png(64, 64))
    response = client.post("/jobs/", form_data(base_source=source.format(mine=mine.pk, other=other.pk), base_image=""),
                           headers=HTMX)
    assert "That picture is no longer here" in response.content.decode()
    assert InpaintJob.objects.count() == 2


def test_no_picture_at_all_is_asked_for(client):
    response = client.post("/jobs/", form_data(base_image=""), headers=HTMX)
    assert "Choose a picture to paint on." in response.content.decode()
    assert not InpaintJob.objects.exists()


def test_the_editor_gets_a_large_result_as_a_proxy_with_its_full_size(client):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    add_result(job, noise_png(5000, 600))
    JobResult.objects.filter(job=job).update(width=5000, height=600)  # as the worker stores it
    response = client.get(f"/jobs/{job.pk}/results/0/editor/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert (response["X-Picture-Width"], response["X-Picture-Height"]) == ("5000", "600")
    assert max(open_image(response.content).size) == 4096
    assert "private" in response["Cache-Control"] and response.has_header("ETag")
    assert Client().get(f"/jobs/{job.pk}/results/0/editor/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/results/1/editor/").status_code == 404
    picture = client.get(f"/jobs/{job.pk}/picture/editor/")
    assert (picture["X-Picture-Width"], picture["X-Picture-Height"]) == ("640", "480")


def test_job_create_refuses_an_extension_wider_than_the_model_takes_in_plain_words(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    response = client.post("/jobs/", form_data(engine="wanx2.1-imageedit", prompt="a beach", function="expand",
                                               left_scale="2.5"), headers=HTMX)
    assert_refused(response, "The left edge can be extended at most to 2 times the picture; extend it less, or "
                             "extend the finished picture again.")


def test_job_create_refuses_an_extension_past_the_apps_limit_before_anything_is_stored(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    settings.INPAINT_MAX_PIXELS = 1_000_000  # the 640 × 480 picture becomes 1920 × 720: 1.4 MP
    response = client.post("/jobs/", form_data(engine="wanx2.1-imageedit", prompt="a beach", function="expand",
                                               left_scale="2", right_scale="2", top_scale="1.5"), headers=HTMX)
    assert_refused(response, "Extended this far, the picture would be 1920 × 720 pixels (1.4 megapixels); this app "
                             "makes pictures of at most 1 megapixels.")
