"""The whole pipeline through the real parts: the form over HTTP, a Celery worker process on Redis,
and the DashScope stand-in fetching our images and serving its results."""

from __future__ import annotations

import pytest
import requests

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import TEST_API_KEY, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def post_job(live_server, *, engine="wanx-x-painting", prompt="a red kite", n=2, size="original", width=640, height=480,
             base: tuple[str, bytes, str] | None = None, mask: bytes | None = None):
    """Post the page's form as the browser's htmx would, in a fresh visitor session."""
    session = requests.Session()
    page = session.get(live_server.url + "/", timeout=10)
    assert page.status_code == 200
    response = session.post(
        live_server.url + "/jobs/",
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": live_server.url + "/"},
        data={"engine": engine, "prompt": prompt, "style": "<watercolor>", "size": size, "n": str(n), "mask_color": ""},
        files={"base_image": base or ("photo.jpg", pictures.picture(width, height), "image/jpeg"),
               "mask_image": ("mask.png", mask or pictures.mask(width, height), "image/png")},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:500]
    assert 'data-testid="job-card"' in response.text, response.text[:2000]
    return session, InpaintJob.objects.get()


def wait_until_final(job: InpaintJob, timeout: float = 60) -> InpaintJob:
    def final():
        job.refresh_from_db()
        return job.is_final

    wait_for(final, timeout=timeout, message=f"job {job.pk} to end (status {job.status})")
    return job


def assert_results_stored(job: InpaintJob, n: int, size: tuple[int, int]) -> None:
    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    results = list(job.results.all())
    assert [r.slot for r in results] == list(range(n))
    for result in results:
        with result.image.open("rb") as stored:
            assert pictures.open_image(stored.read()).size == size
    assert job.image_count == n
    assert job.remote_task_id and job.remote_request_id
    assert job.task_metrics == {"TOTAL": n, "SUCCEEDED": n, "FAILED": 0}
    assert job.remote_submit_time and job.remote_end_time


def test_job_through_public_links_reaches_succeeded(live_server, dashscope, standin_settings, start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)

    session, job = post_job(live_server)
    wait_until_final(job)

    assert_results_stored(job, 2, (640, 480))
    [create] = [r for r in dashscope.requests if r.method == "POST" and r.path.endswith("/image-synthesis")]
    assert create.json["input"]["base_image_url"].startswith(live_server.url + "/links/")
    # The work region (the whole 4:3 picture here) is sent at the nearest model shape, padded, never stretched.
    assert create.json["parameters"] == {"style": "<watercolor>", "size": "1024*1024", "n": 2}
    assert "X-DashScope-OssResourceResolve" not in create.headers
    assert dashscope.creates_accepted == 1
    # The card, once final, answers 286 so htmx stops polling, and shows the stored images.
    card = session.get(f"{live_server.url}/jobs/{job.pk}/", headers={"HX-Request": "true"}, timeout=10)
    assert card.status_code == 286
    assert card.text.count('data-testid="result-image"') == 2
    image = session.get(f"{live_server.url}/jobs/{job.pk}/results/0/", timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"


def test_job_through_temporary_storage_reaches_succeeded(live_server, dashscope, standin_settings, start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = ""
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY, INPAINT_PUBLIC_BASE_URL="")

    _, job = post_job(live_server, n=1, prompt="一只戴着红色眼镜的小狗")
    wait_until_final(job)

    assert_results_stored(job, 1, (640, 480))
    [create] = [r for r in dashscope.requests if r.method == "POST" and r.path.endswith("/image-synthesis")]
    assert create.json["input"]["base_image_url"].startswith("oss://")
    assert create.json["input"]["mask_image_url"].startswith("oss://")
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"
    assert len(dashscope.uploads) == 2
    assert create.json["input"]["prompt"] == "一只戴着红色眼镜的小狗"


def test_another_visitor_cannot_see_the_job_or_its_files(live_server, dashscope, standin_settings, start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    _, job = post_job(live_server, n=1)
    wait_until_final(job)

    stranger = requests.Session()
    for path in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/picture/", f"/jobs/{job.pk}/results/0/"):
        assert stranger.get(live_server.url + path, timeout=10).status_code == 404
    assert str(job.pk) not in stranger.get(live_server.url + "/", timeout=10).text


def test_offline_job_without_key_reaches_succeeded(live_server, settings, start_worker):
    """A fresh machine: no DashScope key and no network, and the offline engine still paints."""
    settings.DASHSCOPE_API_KEY = ""
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")

    session = requests.Session()
    page = session.get(live_server.url + "/", timeout=10).text
    assert 'value="offline" selected' in page  # the default when no key is set
    _, job = post_job(live_server, engine="offline", prompt="", n=2)
    wait_until_final(job)

    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    assert not job.remote_task_id
    sizes = []
    for result in job.results.all():
        with result.image.open("rb") as stored:
            sizes.append(pictures.open_image(stored.read()).size)
    assert sizes == [(640, 480), (640, 480)]


def test_results_of_a_transparent_picture_keep_its_transparency(live_server, settings, start_worker):
    settings.DASHSCOPE_API_KEY = ""
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")
    # 640 × 480 with its top-right quarter transparent; the mask paints the centre quarter.
    cut_out = ("product.png", pictures.picture(fmt="PNG", mode="RGBA"), "image/png")
    _, job = post_job(live_server, engine="offline", prompt="", n=1, base=cut_out)
    wait_until_final(job)

    assert job.status == InpaintJob.Status.SUCCEEDED, (job.error_code, job.error_message)
    with job.results.get().image.open("rb") as stored:
        result = pictures.open_image(stored.read())
    assert (result.format, result.mode, result.size) == ("PNG", "RGBA", (640, 480))
    alpha = result.getchannel("A")
    assert alpha.getpixel((600, 30)) == 0  # transparent, not painted
    assert alpha.getpixel((400, 150)) == 255  # transparent but painted over: new, solid content
    assert alpha.getpixel((40, 300)) == 255  # opaque all along


def test_cloud_job_refused_in_plain_words_without_key(live_server, settings):
    settings.DASHSCOPE_API_KEY = ""
    session = requests.Session()
    session.get(live_server.url + "/", timeout=10)
    response = session.post(
        live_server.url + "/jobs/",
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": live_server.url + "/"},
        data={"engine": "wanx-x-painting", "prompt": "a kite", "style": "<auto>", "size": "original", "n": "1"},
        files={"base_image": ("p.jpg", pictures.picture(), "image/jpeg"), "mask_image": ("m.png", pictures.mask(), "image/png")},
        timeout=30,
    )
    assert response.status_code == 200
    assert "no DashScope key" in response.text
    assert not InpaintJob.objects.exists()
