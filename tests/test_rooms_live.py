"""A room through the real web server: guests behind one address join by link, and their parallel posts
cannot pass the room's cap together."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.cache import cache

from inpaint.models import InpaintJob
from tests import pictures
from tests.rooms import CLOUD, room_open

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOM_ADDRESS = "203.0.113.77"


def guest_session(url: str, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["X-Forwarded-For"] = ROOM_ADDRESS
    session.get(f"{url}/rooms/join/{token}/", timeout=10)
    joined = session.post(f"{url}/rooms/join/{token}/", timeout=10, allow_redirects=False,
                          headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/"})
    assert joined.status_code == 302, joined.text
    session.get(url + "/", timeout=10)
    return session


def cloud_post(session: requests.Session, url: str, n: int) -> requests.Response:
    return session.post(
        url + "/jobs/", timeout=30,
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/"},
        data={"engine": CLOUD, "prompt": "a kite", "style": "<auto>", "size": "original", "n": str(n)},
        files={"base_image": ("p.jpg", pictures.picture(), "image/jpeg"),
               "mask_image": ("m.png", pictures.mask(), "image/png")})


def test_parallel_posts_of_a_rooms_guests_cannot_pass_its_cap_together(live_server, standin_settings, sent_steps):
    cache.clear()  # the join counts outlive a test
    room, links = room_open(image_cap=4, guest_image_cap=0)
    guests = [guest_session(live_server.url, links.join_token) for _ in range(6)]
    start = threading.Barrier(len(guests))

    def post(session: requests.Session) -> requests.Response:
        start.wait()
        return cloud_post(session, live_server.url, n=2)

    with ThreadPoolExecutor(max_workers=len(guests)) as pool:
        answers = list(pool.map(post, guests))
    accepted = [answer for answer in answers if 'data-testid="job-card"' in answer.text]
    assert all(answer.status_code == 200 for answer in answers)
    assert len(accepted) == 2
    assert InpaintJob.objects.filter(room=room).count() == 2
    refused = [answer.text for answer in answers if answer not in accepted]
    assert all("This room&#x27;s 4 cloud images have all been used" in text for text in refused), refused[0][-2000:]
