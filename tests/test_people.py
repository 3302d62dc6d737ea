"""People, not addresses, through the real web server: a room of visitors behind one address are people
of their own, a new browser's double post is all its own, and a cookie-less flood is still limited."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import requests

from django.utils import timezone

from inpaint.models import InpaintJob
from inpaint.services import floods
from tests import pictures
from tests.live import Visitor

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOM_ADDRESS = "203.0.113.50"


@pytest.fixture
def behind_proxy(documented_flood_limits):
    documented_flood_limits.INPAINT_BEHIND_PROXY = True  # so each test says which address its posts come from
    return documented_flood_limits


def offline_post(session: requests.Session, url: str, prompt: str) -> requests.Response:
    return session.post(
        url + "/jobs/", timeout=30,
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/"},
        data={"engine": "offline", "prompt": prompt, "style": "<auto>", "size": "original", "n": "1"},
        files={"base_image": ("p.jpg", pictures.picture(), "image/jpeg"),
               "mask_image": ("m.png", pictures.mask(), "image/png")})


def accepted(response: requests.Response) -> bool:
    return response.status_code == 200 and 'data-testid="job-card"' in response.text


def test_a_room_behind_one_address_is_many_people(live_server, behind_proxy, sent_steps):
    behind_proxy.INPAINT_MAX_ACTIVE_JOBS = 2
    room = [Visitor(live_server, address=ROOM_ADDRESS) for _ in range(24)]
    for visitor in room:
        for index in range(2):
            visitor.post_job(f"room job {index}", engine="offline")  # asserts that each is accepted
    owners = InpaintJob.objects.values_list("owner_key", flat=True)
    assert len(owners) == 48 and len(set(owners)) == 24
    # Each visitor's third job meets their own limit, in their own words, whatever the others have.
    third = offline_post(room[5].session, live_server.url, "one too many")
    assert not accepted(third) and "You have 2 jobs in progress" in third.text


def test_two_posts_at_once_from_a_new_browser_both_belong_to_it(live_server, behind_proxy, sent_steps):
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = ROOM_ADDRESS
    browser.get(live_server.url + "/", timeout=10)  # the page, as a browser opens it before posting
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda prompt: offline_post(browser, live_server.url, prompt), ["one", "two"]))
    assert all(accepted(answer) for answer in answers)
    jobs = list(InpaintJob.objects.all())
    assert len(jobs) == 2 and len({job.visitor_id for job in jobs}) == 1
    for job in jobs:
        assert browser.get(f"{live_server.url}/jobs/{job.pk}/", timeout=10).status_code == 200


def test_a_cookieless_flood_from_one_address_is_limited_without_errors(live_server, behind_proxy, sent_steps,
                                                                      monkeypatch):
    # The counts' window slides (inpaint.services.floods), so a post or so more may be taken as the flood's first
    # seconds slide out of its 10 minutes: the clock the counts read stands still for an exact count here (the
    # server's threads share this process).
    monkeypatch.setattr(floods, "timezone", SimpleNamespace(now=lambda moment=timezone.now(): moment))

    def post_without_cookies(index: int) -> requests.Response:
        script = requests.Session()  # a new session each time: the script keeps no cookie
        script.headers["X-Forwarded-For"] = "198.51.100.66"
        script.get(live_server.url + "/", timeout=10)
        return offline_post(script, live_server.url, f"flood {index}")

    answers = [post_without_cookies(index) for index in range(60)]
    assert all(answer.status_code < 500 for answer in answers)
    taken = sum(accepted(answer) for answer in answers)
    assert taken == 30, taken  # INPAINT_NEW_VISITOR_RATE's 30 new people per 10 minutes
    assert "30 new people have started from your network" in answers[-1].text
    # Someone else, elsewhere, is not held up by it.
    assert accepted(offline_post(Visitor(live_server).session, live_server.url, "elsewhere"))
