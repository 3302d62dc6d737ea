"""The studio page says how many cloud images are left this month, where a cap applies."""

from __future__ import annotations

import pytest
from django.test import Client

from inpaint.models import InpaintJob
from inpaint.services.owners import VISITOR_SESSION_KEY
from tests.services.fakes import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_page_with_a_key(settings):
    """Open mode, a key, and neither cap set: the defaults are in force."""
    settings.INPAINT_ACCESS = "open"
    settings.DASHSCOPE_API_KEY = "sk-test"
    settings.INPAINT_MONTHLY_IMAGE_CAP = settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = None
    return settings


def visitor_page(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_what_is_left_of_the_persons_cloud_images(client, open_page_with_a_key, sent_steps):
    assert "20 of 20 cloud images left this month" in visitor_page(client)
    job = make_job(status=InpaintJob.Status.SUCCEEDED, image_count=3)
    InpaintJob.objects.filter(pk=job.pk).update(visitor_id=client.session[VISITOR_SESSION_KEY])
    page = visitor_page(client)
    assert 'data-testid="images-left">17 of 20 cloud images left this month' in page


def test_the_page_shows_the_servers_cap_when_only_that_one_applies(client, open_page_with_a_key):
    open_page_with_a_key.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 0
    assert "500 of this server's 500 cloud images left this month" in visitor_page(client)


@pytest.mark.parametrize("change", [{"INPAINT_MONTHLY_IMAGE_CAP": 0, "INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER": 0},
                                    {"DASHSCOPE_API_KEY": ""}])
def test_the_page_says_nothing_of_a_cap_when_none_applies(client, open_page_with_a_key, change):
    for name, value in change.items():
        setattr(open_page_with_a_key, name, value)
    assert 'data-testid="images-left"' not in visitor_page(client)
