"""inpaint.views through Django's test client: the studio page and its partials, the engines it lists, the
admin's billed images and the notices it shows."""

from __future__ import annotations

import pytest
from django.test import Client

from inpaint.models import InpaintJob
from tests.live import HTMX, create_job, form_data, quiet_settings  # noqa: F401 (quiet_settings: autouse)

pytestmark = pytest.mark.django_db

Status = InpaintJob.Status


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


def test_the_page_says_how_long_pictures_are_kept(client, settings):
    settings.INPAINT_RETENTION_DAYS = 12
    assert "kept for 12 days" in client.get("/").content.decode()
