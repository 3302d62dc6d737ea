"""The DashScope-compatible gateway through Django's test client: DashScope's paths, headers and JSON shapes,
its keys, and each request made into a job of the key's person through the page's own services."""

from __future__ import annotations

import base64
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from inpaint.api import keys
from inpaint.models import InpaintJob, JobResult
from inpaint.reporting import SecretsHiddenReporterFilter, link_tokens_hidden
from tests import pictures
from tests.live import TEST_API_KEY, person_key, set_status

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/services/aigc/image2image/image-synthesis"
ASYNC = {"X-DashScope-Async": "enable"}


@pytest.fixture(autouse=True)
def gateway_settings(settings, sent_steps):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    settings.INPAINT_PUBLIC_BASE_URL = ""
    settings.INPAINT_API_KEY_RATE = "1000/60"
    return settings


@pytest.fixture
def key() -> str:
    return person_key("ada")


@pytest.fixture
def api():
    # No session: a script's client keeps no cookies of its own.
    return Client()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def data_url(content: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(content).decode()


def painting_body(**input_fields) -> dict:
    return {"model": "wanx-x-painting",
            "input": {"prompt": "a red kite", "base_image_url": data_url(pictures.picture(), "jpeg"),
                      "mask_image_url": data_url(pictures.mask()), **input_fields},
            "parameters": {"style": "<auto>", "size": "1024*1024", "n": 1}}


def create(api, key: str, body: dict, **headers):
    return api.post(CREATE, body, content_type="application/json", headers={**bearer(key), **ASYNC, **headers})


def assert_error(response, status: int, code: str) -> dict:
    answer = response.json()
    assert (response.status_code, answer["code"]) == (status, code), answer
    assert answer["message"] and answer["request_id"]
    return answer


def test_a_create_becomes_a_job_of_the_keys_person(api, key):
    response = create(api, key, painting_body())

    assert response.status_code == 200, response.content
    answer = response.json()
    job = InpaintJob.objects.get()
    assert answer["output"] == {"task_id": str(job.pk), "task_status": "PENDING"}
    assert answer["request_id"]
    ada = get_user_model().objects.get(username="ada")
    assert (job.owner, job.owner_key, job.visitor_id) == (ada, f"user:{ada.pk}", "")
    assert (job.engine, job.prompt, job.size, job.n, job.status) == ("wanx-x-painting", "a red kite", "original", 1,
                                                                      "QUEUED")
    assert (job.base_width, job.base_height) == (640, 480)
    # No cookie is set: the gateway never makes a session.
    assert not response.cookies


def test_the_task_reads_as_dashscope_says_it_and_its_result_downloads_at_full_size(api, key):
    task_id = create(api, key, painting_body()).json()["output"]["task_id"]
    pending = api.get(f"/api/v1/tasks/{task_id}", headers=bearer(key)).json()
    assert pending["output"]["task_status"] == "PENDING" and "usage" not in pending

    job = InpaintJob.objects.get()
    result = JobResult(job=job, slot=0, width=640, height=480)
    result.image.save("result.png", ContentFile(pictures.picture(fmt="PNG")), save=True)
    set_status(job, "SUCCEEDED")
    answer = api.get(f"/api/v1/tasks/{task_id}", headers=bearer(key)).json()

    output = answer["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert output["task_metrics"] == {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}
    assert answer["usage"] == {"image_count": 1}
    assert len(output["submit_time"]) == len("2026-12-04 12:00:00.000")
    (link,) = output["results"]
    assert link["url"].startswith("http://testserver/api/v1/results/")
    # The link is signed on its own: no key, no session.
    downloaded = Client().get(link["url"])
    assert downloaded.status_code == 200
    assert pictures.open_image(b"".join(downloaded.streaming_content)).size == (640, 480)
    assert "[token]" in link_tokens_hidden(link["url"])
    assert Client().get(link["url"].replace("/results/", "/results/x")).status_code == 404


def test_a_failed_job_reads_as_a_failed_task(api, key):
    task_id = create(api, key, painting_body()).json()["output"]["task_id"]
    InpaintJob.objects.update(status="FAILED", error_code="DataInspectionFailed", error_message="Not allowed.")

    output = api.get(f"/api/v1/tasks/{task_id}", headers=bearer(key)).json()["output"]

    assert (output["task_status"], output["code"], output["message"]) == ("FAILED", "DataInspectionFailed",
                                                                          "Not allowed.")


def test_another_persons_task_is_not_found(api, key):
    task_id = create(api, key, painting_body()).json()["output"]["task_id"]
    other = person_key("grace")

    assert_error(api.get(f"/api/v1/tasks/{task_id}", headers=bearer(other)), 404, "NotFound")
    assert_error(api.post(f"/api/v1/tasks/{task_id}/cancel", headers=bearer(other)), 404, "NotFound")
    assert_error(api.get("/api/v1/tasks/not-a-task", headers=bearer(key)), 404, "NotFound")
    # The person's other keys act as the same person.
    second = keys.api_key_create(get_user_model().objects.get(username="ada"))[1]
    assert api.get(f"/api/v1/tasks/{task_id}", headers=bearer(second)).status_code == 200


def test_a_waiting_task_is_cancelled_once(api, key):
    task_id = create(api, key, painting_body()).json()["output"]["task_id"]

    cancelled = api.post(f"/api/v1/tasks/{task_id}/cancel", headers=bearer(key))
    assert cancelled.status_code == 200 and cancelled.json()["request_id"]
    assert api.get(f"/api/v1/tasks/{task_id}", headers=bearer(key)).json()["output"]["task_status"] == "CANCELED"
    assert_error(api.post(f"/api/v1/tasks/{task_id}/cancel", headers=bearer(key)), 400, "UnsupportedOperation")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-0000000000"}, {"Authorization": "sk-x"}])
def test_a_missing_or_wrong_key_is_refused_in_dashscopes_shape(api, key, headers):
    response = api.post(CREATE, painting_body(), content_type="application/json", headers={**ASYNC, **headers})
    assert_error(response, 401, "InvalidApiKey")
    assert InpaintJob.objects.count() == 0


def test_a_key_in_the_query_string_or_a_signed_in_session_opens_nothing(key):
    assert_error(Client().get(f"/api/v1/uploads?action=getPolicy&model=wanx-x-painting&api_key={key}"), 401,
                 "InvalidApiKey")
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="ada"))
    response = browser.post(CREATE, painting_body(), content_type="application/json", headers=ASYNC)
    assert_error(response, 401, "InvalidApiKey")


def test_a_revoked_key_is_refused_at_once(api, key):
    assert create(api, key, painting_body()).status_code == 200
    keys.api_key_revoke(keys.api_key_authenticate(f"Bearer {key}"))
    assert_error(create(api, key, painting_body()), 401, "InvalidApiKey")


def test_the_keys_own_rate_answers_429_rate_quota(api, key, settings):
    settings.INPAINT_API_KEY_RATE = "2/60"
    for _ in range(2):
        assert api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", headers=bearer(key)).status_code == 404
    assert_error(api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", headers=bearer(key)), 429,
                 "Throttling.RateQuota")
    # Another person's key has its own count.
    assert api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000",
                   headers=bearer(person_key("grace"))).status_code == 404


def test_the_async_header_is_required(api, key):
    response = api.post(CREATE, painting_body(), content_type="application/json", headers=bearer(key))
    assert_error(response, 403, "AccessDenied")


def test_the_painting_model_without_task_image2image_is_answered_as_dashscope_does(api, key):
    response = api.post("/api/v1/services/aigc/text2image/image-synthesis", painting_body(),
                        content_type="application/json", headers={**bearer(key), **ASYNC})
    assert "url error" in assert_error(response, 400, "InvalidParameter")["message"]


@pytest.mark.parametrize("body, named", [
    ({"model": "wanx-v1", "input": {}}, "Model"),
    (painting_body(base_image_url=None), "input.base_image_url"),
    (painting_body(mask_image_url=data_url(pictures.mask(100, 100))), "input.mask_image_url"),
    (painting_body(prompt="x" * 80), "input.prompt"),
    (painting_body(base_image_url="data:image/png;base64,@@@"), "input.base_image_url"),
    (painting_body(base_image_url="http://127.0.0.1:8000/photo.jpg"), "input.base_image_url"),
    (painting_body(base_image_url="https://10.0.0.1/photo.jpg"), "input.base_image_url"),
    (painting_body(mask_image_url="https://192.168.1.1/mask.png"), "input.mask_image_url"),
    (painting_body(base_image_url="oss://api-uploads/1/wanx-x-painting/" + "0" * 32 + "/a.png"),
     "input.base_image_url"),
    (painting_body(base_image_url="ftp://example.com/a.png"), "input.base_image_url"),
    ({**painting_body(), "parameters": {"n": 9}}, "parameters.n"),
    ({**painting_body(), "parameters": {"seed": -1}}, "parameters.seed"),
    ({**painting_body(), "model": "wanx2.1-imageedit"}, "input.function"),
], ids=["unknown model", "no picture", "mask of another shape", "long prompt", "bad base64", "loopback URL",
        "private https URL", "private mask URL", "unresolved oss URL", "other scheme", "n", "seed", "no function"])
def test_what_cannot_stand_is_invalid_parameter_naming_what_was_sent(api, key, body, named):
    assert named in assert_error(create(api, key, body), 400, "InvalidParameter")["message"]
    assert InpaintJob.objects.count() == 0


def test_a_body_that_is_not_json_is_invalid_parameter(api, key):
    response = api.post(CREATE, b"{not json", content_type="application/json", headers={**bearer(key), **ASYNC})
    assert_error(response, 400, "InvalidParameter")


def test_imageedit_takes_the_pages_functions_with_their_parameters(api, key):
    body = {"model": "wanx2.1-imageedit",
            "input": {"function": "expand", "prompt": "a wide beach", "base_image_url": data_url(pictures.picture())},
            "parameters": {"top_scale": 1.5, "left_scale": 1.25, "n": 2, "seed": 7}}
    assert create(api, key, body).status_code == 200
    job = InpaintJob.objects.get()
    assert (job.engine, job.function, job.top_scale, job.left_scale, job.n, job.seed) == (
        "wanx2.1-imageedit", "expand", 1.5, 1.25, 2, 7)

    masked = {"model": "wanx2.1-imageedit",
              "input": {"function": "description_edit_with_mask", "prompt": "a kite",
                        "base_image_url": data_url(pictures.picture()), "mask_image_url": data_url(pictures.mask())}}
    response = create(api, key, masked)
    assert response.status_code == 200, response.json()
    assert InpaintJob.objects.filter(function="description_edit_with_mask").exists()

    # Taking text out needs no prompt: the painted area is cleaned.
    cleaned = {"model": "wanx2.1-imageedit",
               "input": {"function": "remove_watermark", "base_image_url": data_url(pictures.picture()),
                         "mask_image_url": data_url(pictures.mask())}}
    response = create(api, key, cleaned)
    assert response.status_code == 200, response.json()
    assert InpaintJob.objects.filter(function="remove_watermark").exists()

    # Upscaling needs neither a mask nor a prompt, and takes its factor by the API's name.
    upscaled = {"model": "wanx2.1-imageedit",
                "input": {"function": "super_resolution", "base_image_url": data_url(pictures.picture())},
                "parameters": {"upscale_factor": 3}}
    response = create(api, key, upscaled)
    assert response.status_code == 200, response.json()
    assert InpaintJob.objects.get(function="super_resolution").upscale_factor == 3


def policy_of(api, key: str, model: str = "wanx-x-painting") -> dict:
    response = api.get(f"/api/v1/uploads?action=getPolicy&model={model}", headers=bearer(key))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def upload_fields(policy: dict, name: str) -> dict:
    return {"OSSAccessKeyId": policy["oss_access_key_id"], "Signature": policy["signature"],
            "policy": policy["policy"], "key": f"{policy['upload_dir']}/{name}",
            "x-oss-object-acl": policy["x_oss_object_acl"], "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
            "success_action_status": "200", "x-oss-content-type": "image/png"}


def upload(policy: dict, name: str, content: bytes, **changed):
    path = policy["upload_host"].removeprefix("http://testserver")
    return Client().post(path, {**upload_fields(policy, name), **changed,
                                "file": SimpleUploadedFile(name, content)})


def test_files_go_through_the_temporary_upload_and_oss_urls(api, key):
    policy = policy_of(api, key)
    assert policy["upload_host"] == "http://testserver/api/v1/uploads/files"
    assert upload(policy, "photo.jpg", pictures.picture()).status_code == 200
    assert upload(policy, "mask.png", pictures.mask()).status_code == 200
    assert_error(upload(policy, "mask.png", pictures.mask()), 409, "FileAlreadyExists")

    urls = {"base_image_url": f"oss://{policy['upload_dir']}/photo.jpg",
            "mask_image_url": f"oss://{policy['upload_dir']}/mask.png"}
    assert_error(create(api, key, painting_body(**urls)), 400, "InvalidParameter")  # no resolve header
    response = create(api, key, painting_body(**urls), **{"X-DashScope-OssResourceResolve": "enable"})
    assert response.status_code == 200, response.content
    assert InpaintJob.objects.get().base_width == 640

    # Bound to its person and its model, as DashScope binds them to the account and the model.
    resolve = {"X-DashScope-OssResourceResolve": "enable"}
    assert_error(create(api, person_key("grace"), painting_body(**urls), **resolve), 400, "InvalidParameter")
    other_model = {**painting_body(**urls), "model": "wanx2.1-imageedit"}
    other_model["input"]["function"] = "description_edit_with_mask"
    assert_error(create(api, key, other_model, **resolve), 400, "InvalidParameter")


def test_an_upload_outside_its_policy_is_refused(api, key):
    policy = policy_of(api, key)
    assert_error(upload(policy, "a.png", b"x", Signature="forged"), 403, "SignatureDoesNotMatch")
    assert_error(upload(policy, "a.png", b"x", key="api-uploads/1/elsewhere/a.png"), 403, "AccessDenied")
    assert_error(upload(policy, "a.png", b"x", key=f"{policy['upload_dir']}/../a.png"), 403, "AccessDenied")
    assert_error(api.get("/api/v1/uploads?action=getPolicy&model=nothing", headers=bearer(key)), 400,
                 "InvalidParameter")


def test_the_key_stays_out_of_logs_and_error_reports(api, key, caplog):
    with caplog.at_level(logging.DEBUG):
        create(api, key, painting_body())
        create(api, key + "x", painting_body())
        api.get("/api/v1/tasks/missing", headers=bearer(key))
    assert caplog.records
    assert not any(key in record.getMessage() for record in caplog.records)
    request = RequestFactory().get("/api/v1/tasks/x", headers=bearer(key))
    assert key not in str(SecretsHiddenReporterFilter().get_safe_request_meta(request))


def test_an_unknown_gateway_path_is_dashscopes_404(api, key):
    assert_error(api.get("/api/v1/nothing/here", headers=bearer(key)), 404, "NotFound")
    assert_error(api.get(CREATE, headers=bearer(key)), 405, "MethodNotAllowed")


def test_temporary_uploads_last_48_hours_and_are_then_deleted(api, key, monkeypatch):
    from inpaint.api import uploads

    policy = policy_of(api, key)
    assert upload(policy, "photo.jpg", pictures.picture()).status_code == 200
    assert upload(policy, "mask.png", pictures.mask()).status_code == 200
    urls = {"base_image_url": f"oss://{policy['upload_dir']}/photo.jpg",
            "mask_image_url": f"oss://{policy['upload_dir']}/mask.png"}
    resolve = {"X-DashScope-OssResourceResolve": "enable"}
    assert uploads.uploads_expire() == 0

    later = uploads.time.time() + uploads.FILE_SECONDS + 1
    monkeypatch.setattr(uploads.time, "time", lambda: later)
    assert_error(create(api, key, painting_body(**urls), **resolve), 400, "InvalidParameter")
    assert uploads.uploads_expire() == 2
    assert not default_storage.exists(policy["upload_dir"] + "/photo.jpg")


def test_a_body_over_the_limit_is_refused_in_dashscopes_shape(api, key, settings):
    from inpaint.middleware import FORM_OVERHEAD_BYTES

    settings.INPAINT_MAX_UPLOAD_BYTES = 1024
    response = create(api, key, {**painting_body(), "padding": "x" * FORM_OVERHEAD_BYTES})
    assert_error(response, 413, "BadRequest.TooLarge")


def test_tasks_past_the_persons_jobs_in_progress_wait_and_their_monthly_cap_answers_429(api, key, settings):
    settings.INPAINT_MAX_ACTIVE_JOBS, settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 1, 2
    answers = [create(api, key, painting_body()) for _ in range(3)]
    assert [answer.json()["output"]["task_status"] for answer in answers[:2]] == ["PENDING"] * 2
    assert InpaintJob.objects.get(pk=answers[1].json()["output"]["task_id"]).held  # tests/services/test_holds.py
    assert "cloud images" in assert_error(answers[2], 429, "Throttling.AllocationQuota")["message"]


@pytest.mark.parametrize("body", [
    {"model": "wanx-x-painting", "input": "a kite"},
    painting_body(base_image_url=["data:"]),
    painting_body(base_image_url="data:image/png,plain"),
], ids=["input not an object", "URL not a string", "data URL not base64"])
def test_malformed_inputs_are_invalid_parameter(api, key, body):
    assert_error(create(api, key, body), 400, "InvalidParameter")


def test_a_data_url_over_the_upload_limit_is_refused_before_decoding(api, key, settings):
    settings.INPAINT_MAX_UPLOAD_BYTES = 3000
    body = painting_body(base_image_url=data_url(b"x" * 4000))
    assert "larger than" in assert_error(create(api, key, body), 400, "InvalidParameter")["message"]


def test_an_upload_without_a_file_or_over_the_limit_is_refused(api, key, settings):
    policy = policy_of(api, key)
    path = policy["upload_host"].removeprefix("http://testserver")
    assert_error(Client().post(path, upload_fields(policy, "a.png")), 400, "InvalidArgument")
    settings.INPAINT_MAX_UPLOAD_BYTES = 10
    assert_error(upload(policy, "a.png", b"x" * 11), 400, "EntityTooLarge")


@pytest.mark.parametrize("status, remote_status, task_status", [
    ("SUBMITTED", "", "PENDING"), ("SUBMITTED", "PENDING", "PENDING"), ("SUBMITTED", "RUNNING", "RUNNING"),
    ("SUBMITTED", "SUSPENDED", "SUSPENDED"), ("RUNNING", "RUNNING", "RUNNING"), ("CANCELED", "", "CANCELED")])
def test_a_sent_job_is_as_far_as_its_remote_task(api, key, status, remote_status, task_status):
    task_id = create(api, key, painting_body()).json()["output"]["task_id"]
    InpaintJob.objects.update(status=status, remote_status=remote_status)

    assert api.get(f"/api/v1/tasks/{task_id}", headers=bearer(key)).json()["output"]["task_status"] == task_status


def test_in_login_mode_a_key_is_the_sign_in_and_csrf_does_not_apply(key, settings):
    settings.INPAINT_ACCESS = "login"
    strict = Client(enforce_csrf_checks=True)

    response = create(strict, key, painting_body())

    assert response.status_code == 200, response.content
    assert_error(create(strict, "sk-nothing", painting_body()), 401, "InvalidApiKey")
