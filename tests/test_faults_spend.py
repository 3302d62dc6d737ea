"""Spend guards through the real web server: a cookie-less flood is limited and cannot starve another
person, and parallel posts cannot pass a cap together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from inpaint.models import InpaintJob
from tests import pictures
from tests.test_faults import cloud_worker, wait_all_final

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def post_once(url: str, *, address: str, n: int = 1, prompt: str = "a kite") -> requests.Response:
    """One post from a fresh client that keeps no cookie between posts, as a script would."""
    session = requests.Session()
    session.get(url + "/", timeout=10)
    return session.post(
        url + "/jobs/", timeout=30,
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/",
                 "X-Forwarded-For": address},
        data={"engine": "wanx-x-painting", "prompt": prompt, "style": "<auto>", "size": "original", "n": str(n)},
        files={"base_image": ("p.jpg", pictures.picture(), "image/jpeg"),
               "mask_image": ("m.png", pictures.mask(), "image/png")})


def accepted(response: requests.Response) -> bool:
    return response.status_code == 200 and 'data-testid="job-card"' in response.text


def test_a_cookieless_flood_is_limited_and_another_persons_job_starts_within_one_turn(
        live_server, dashscope, standin_settings, start_worker):
    standin_settings.INPAINT_BEHIND_PROXY = True
    dashscope.running_seconds = 1.0
    cloud_worker(start_worker, dashscope, live_server)
    flood = [post_once(live_server.url, address="203.0.113.66", prompt=f"flood {i}") for i in range(50)]
    # At most 4 in progress at once (a finished one makes room), and never more than the rate allows.
    taken = sum(accepted(response) for response in flood)
    assert standin_settings.INPAINT_MAX_ACTIVE_JOBS <= taken <= 20
    assert any("You have 4 jobs in progress" in response.text for response in flood)

    assert accepted(post_once(live_server.url, address="198.51.100.2", prompt="the other person"))
    other = InpaintJob.objects.get(prompt="the other person")
    wait_all_final(InpaintJob.objects.count(), timeout=90)
    other.refresh_from_db()
    # Counted from admission (the claim), not from when the create call returned: a flood job admitted just
    # before the other person posted can still be on its way to the service when they do.
    flood_admitted_before = InpaintJob.objects.filter(prompt__startswith="flood", submit_claimed_at__gt=other.created_at,
                                                      submit_claimed_at__lt=other.submit_claimed_at).count()
    assert flood_admitted_before <= 1, "the other person's job waited more than one turn"


def test_parallel_posts_cannot_pass_a_cap_together(live_server, standin_settings):
    standin_settings.INPAINT_MONTHLY_IMAGE_CAP = 4
    standin_settings.INPAINT_BEHIND_PROXY = True
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda index: post_once(live_server.url, address=f"192.0.2.{index}", n=4),
                                range(5)))
    assert sum(accepted(answer) for answer in answers) == 1
    assert InpaintJob.objects.count() == 1
    refused = [answer.text for answer in answers if not accepted(answer)]
    assert all("limit of 4 cloud images" in text for text in refused)
