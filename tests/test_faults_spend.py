"""Spend guards through the real web server: a cookie-less flood is limited, and parallel posts cannot
pass a cap together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from inpaint.models import InpaintJob
from tests import pictures
from tests.live import assert_each_paid_once, cloud_worker, wait_all_final

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


def test_a_cookieless_flood_is_limited_and_what_it_was_allowed_is_paid_once(
        live_server, dashscope, standin_settings, documented_flood_limits, start_worker):
    standin_settings.INPAINT_BEHIND_PROXY = True
    dashscope.running_seconds = 0.2
    cloud_worker(start_worker, dashscope, live_server)
    flood = [post_once(live_server.url, address="203.0.113.66", prompt=f"flood {i}") for i in range(60)]
    # Every cookie-less post is a new visitor: the network's new-visitor limit is what stops it.
    assert all(response.status_code < 500 for response in flood)
    assert sum(accepted(response) for response in flood) == 30
    assert "new people have started from your network" in flood[-1].text
    assert_each_paid_once(wait_all_final(30, timeout=120), dashscope)


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
