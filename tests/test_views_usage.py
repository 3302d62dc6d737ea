"""The studio page says how many cloud images are left this month, where a cap applies."""

from __future__ import annotations

import pytest
from django.test import Client

from inpaint.models import InpaintJob
from inpaint.services.owners import VISITOR_SESSION_KEY
from tests.services.fakes import make_job

pytestmark = pytest.mark.django_db


def visitor_page(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_what_is_left_of_the_persons_cloud_images(client, caps_unset, sent_steps):
    assert "20 of 20 cloud images left this month" in visitor_page(client)
    job = make_job(status=InpaintJob.Status.SUCCEEDED, image_count=3)
    InpaintJob.objects.filter(pk=job.pk).update(visitor_id=client.session[VISITOR_SESSION_KEY])
    page = visitor_page(client)
    assert 'data-testid="images-left">17 of 20 cloud images left this month' in page


def test_the_page_shows_the_servers_cap_when_only_that_one_applies(client, caps_unset):
    caps_unset.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 0
    assert "500 of this server's 500 cloud images left this month" in visitor_page(client)


@pytest.mark.parametrize("change", [{"INPAINT_MONTHLY_IMAGE_CAP": 0, "INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER": 0},
                                    {"DASHSCOPE_API_KEY": ""}])
def test_the_page_says_nothing_of_a_cap_when_none_applies(client, caps_unset, change):
    for name, value in change.items():
        setattr(caps_unset, name, value)
    assert 'data-testid="images-left"' not in visitor_page(client)
