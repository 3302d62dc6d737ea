"""Unit tests for inpaint.views through Django's test client: status codes, headers, test hooks and DB effects."""

from __future__ import annotations

import io
import json
import os
import uuid

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from inpaint.models import InpaintJob, JobResult
from inpaint.services import links
from inpaint.services.owners import VISITOR_SESSION_KEY
from tests.live import HTMX, create_job, form_data, quiet_settings  # noqa: F401 (the view tests' settings)
from tests.pictures import mask, open_image, picture

pytestmark = pytest.mark.django_db

Status = InpaintJob.Status


def set_status(job: InpaintJob, status: str) -> None:
    InpaintJob.objects.filter(pk=job.pk).update(status=status)


def add_result(job: InpaintJob, content: bytes = b"\x89PNG result") -> JobResult:
    result = JobResult(job=job, slot=0)
    result.image.save("result.png", ContentFile(content), save=True)
    return result


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_refused(response, message: str) -> None:
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert InpaintJob.objects.count() == 0


# --- The page -------------------------------------------------------------------------------------

def test_studio_renders_the_form_hooks(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for hook in ("upload", "prompt", "generate"):
        assert f'data-testid="{hook}"' in html


def test_studio_never_shows_the_api_key(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-secret-5f2b9c0d1e"
    job = create_job(client, engine="wanx-x-painting", prompt="a red boat")
    for url in ("/", f"/jobs/{job.pk}/"):
        assert "sk-secret-5f2b9c0d1e" not in client.get(url).content.decode()
    assert "sk-secret-5f2b9c0d1e" not in client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()


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


def test_a_style_is_not_kept_for_an_engine_that_has_none(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-views"
    job = create_job(client, engine="wanx2.1-imageedit", prompt="a boat", style="<watercolor>")
    assert job.style == "<auto>"


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


# --- The job card ---------------------------------------------------------------------------------

def test_job_detail_polls_on_while_the_job_runs(client):
    job = create_job(client)
    set_status(job, Status.RUNNING)
    response = client.get(f"/jobs/{job.pk}/", headers=HTMX)
    assert response.status_code == 200
    assert 'data-testid="job-card"' in response.content.decode()


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.CANCELED])
def test_job_detail_stops_polling_when_final(client, status):
    job = create_job(client)
    set_status(job, status)
    assert client.get(f"/jobs/{job.pk}/", headers=HTMX).status_code == 286


def test_job_detail_shows_result_images(client):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    add_result(job)
    assert 'data-testid="result-image"' in client.get(f"/jobs/{job.pk}/", headers=HTMX).content.decode()


def test_job_detail_full_page_without_htmx(client):
    job = create_job(client)
    response = client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    assert 'data-testid="generate"' in response.content.decode()


def test_job_detail_of_an_unknown_job_is_404(client):
    assert client.get(f"/jobs/{uuid.uuid4()}/").status_code == 404


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


# --- Cancelling -----------------------------------------------------------------------------------

def test_job_cancel_cancels_a_queued_job(client):
    job = create_job(client)
    response = client.post(f"/jobs/{job.pk}/cancel/", headers=HTMX)
    assert response.status_code == 286
    assert InpaintJob.objects.get(pk=job.pk).status == Status.CANCELED


def test_job_cancel_without_htmx_redirects(client):
    job = create_job(client)
    response = client.post(f"/jobs/{job.pk}/cancel/")
    assert response.status_code == 302
    assert InpaintJob.objects.get(pk=job.pk).status == Status.CANCELED


def test_job_cancel_refused_shows_the_reason(client):
    job = create_job(client)
    set_status(job, Status.RUNNING)
    response = client.post(f"/jobs/{job.pk}/cancel/", headers=HTMX)
    assert response.status_code == 200
    assert "can no longer be stopped" in response.content.decode()
    assert InpaintJob.objects.get(pk=job.pk).status == Status.RUNNING


def test_job_cancel_by_another_session_is_404(client):
    job = create_job(client)
    assert Client().post(f"/jobs/{job.pk}/cancel/").status_code == 404
    assert InpaintJob.objects.get(pk=job.pk).status == Status.QUEUED


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


# --- Partials and notices added with the editor page ------------------------------------------------

def test_studio_history_refresh_renders_only_the_history(client):
    create_job(client)
    response = client.get("/", headers={**HTMX, "HX-Target": "job-history"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="job-history"' in page and 'data-testid="history-item"' in page


def test_studio_shows_the_visitors_cloud_images_this_month(client, settings):
    settings.DASHSCOPE_API_KEY = "sk-test"
    job = create_job(client, engine="wanx-x-painting", prompt="a kite")
    InpaintJob.objects.filter(pk=job.pk).update(image_count=3, status=Status.SUCCEEDED)
    other_visitor = Client()
    assert "3 cloud images made this month" in client.get("/").content.decode()
    assert "0 cloud images made this month" in other_visitor.get("/").content.decode()


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


def test_studio_lists_only_the_engines_in_settings(client, settings):
    settings.INPAINT_ENGINES = ["offline", "wanx2.1-imageedit"]
    page = client.get("/").content.decode()
    assert 'value="offline"' in page and 'value="wanx2.1-imageedit"' in page
    assert 'value="wanx-x-painting"' not in page
    response = client.post("/jobs/", form_data(engine="wanx-x-painting", prompt="a kite"), headers=HTMX)
    assert response.status_code == 200 and InpaintJob.objects.count() == 0


def test_admin_shows_images_billed_for_the_selection(client, django_user_model, settings, admin_in_open_mode):
    settings.DASHSCOPE_API_KEY = "sk-test"
    job = create_job(client, engine="wanx-x-painting", prompt="a kite")
    InpaintJob.objects.filter(pk=job.pk).update(image_count=4, status=Status.SUCCEEDED)
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-long-enough")
    staff = Client()
    staff.force_login(admin)
    page = staff.get("/admin/inpaint/inpaintjob/").content.decode()
    assert "4 images billed in this selection" in page


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


def test_the_page_says_how_long_pictures_are_kept(client, settings):
    settings.INPAINT_RETENTION_DAYS = 12
    assert "kept for 12 days" in client.get("/").content.decode()


# --- Deleting a job from its card or the history ------------------------------------------------

def test_the_history_offers_delete_for_finished_jobs_only(client):
    finished = create_job(client, prompt="done")
    set_status(finished, Status.SUCCEEDED)
    client.post("/jobs/", form_data(prompt="waiting"), headers=HTMX)
    waiting = InpaintJob.objects.get(prompt="waiting")
    page = client.get("/").content.decode()
    assert page.count('data-testid="history-delete"') == 1
    assert f'hx-post="/jobs/{finished.pk}/delete/"' in page and f"/jobs/{waiting.pk}/delete/" not in page


def test_deleting_a_job_removes_it_and_its_files_and_tells_the_page(client, media_root,
                                                                    django_capture_on_commit_callbacks):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    files = [media_root / add_result(job).image.name, media_root / job.base_image.name]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion has committed
        response = client.post(f"/jobs/{job.pk}/delete/", headers=HTMX)
    assert response.status_code == 200 and response.content == b""
    # The history refreshes itself, and the page drops the job's card if it shows it.
    assert json.loads(response.headers["HX-Trigger"]) == {"job-finished": {}, "job-deleted": {"id": str(job.pk)}}
    assert not InpaintJob.objects.filter(pk=job.pk).exists()
    assert not any(path.exists() for path in files)


def test_another_visitor_cannot_delete_a_job(client):
    job = create_job(client)
    set_status(job, Status.SUCCEEDED)
    assert Client().post(f"/jobs/{job.pk}/delete/", headers=HTMX).status_code == 404
    assert InpaintJob.objects.filter(pk=job.pk).exists()


def test_deleting_without_htmx_goes_back_to_the_page(client):
    job = create_job(client)
    set_status(job, Status.FAILED)
    response = client.post(f"/jobs/{job.pk}/delete/")
    assert response.status_code == 302 and response.headers["Location"] == "/"


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
