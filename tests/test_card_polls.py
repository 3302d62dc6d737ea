"""The job card's poll through the real WSGI application (webapp.wsgi, as gunicorn serves it) on a real HTTP
server, and in a real browser: a poll that would change nothing is answered 304 before Django, and the
card then keeps its clock moving on the page; a change reaches the card at its next poll."""

from __future__ import annotations

import os
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests.browser import open_studio
from tests.rooms import guest_job, room_open

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def wsgi_url(settings):
    from webapp.wsgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def guest_browser(url: str) -> tuple[requests.Session, InpaintJob]:
    """A room guest's session with one job of theirs waiting in the queue."""
    room, links = room_open()
    session = requests.Session()
    session.get(f"{url}/rooms/join/{links.join_token}/", timeout=10)
    session.post(f"{url}/rooms/join/{links.join_token}/", timeout=10,
                 headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/"})
    return session, guest_job(room.guests.get())


def test_an_unchanged_card_is_answered_304_before_django_and_a_changed_one_in_full(wsgi_url, sent_steps, monkeypatch):
    session, job = guest_browser(wsgi_url)
    poll = {"HX-Request": "true", "HX-Trigger": f"job-{job.pk}"}
    card = session.get(f"{wsgi_url}/jobs/{job.pk}/", headers=poll, timeout=10)
    assert card.status_code == 200 and 'data-testid="job-card"' in card.text
    tag = card.headers["ETag"]
    assert "no-store" in card.headers["Cache-Control"]
    assert "If-None-Match" in card.text and tag.strip('"') in card.text  # the card's hx-headers

    # Django is not reached at all: its handler would fail this request.
    from django.core.handlers.wsgi import WSGIHandler
    monkeypatch.setattr(WSGIHandler, "__call__", lambda *args: pytest.fail("Django handled an unchanged poll"))
    unchanged = session.get(f"{wsgi_url}/jobs/{job.pk}/", headers=poll | {"If-None-Match": tag}, timeout=10)
    assert unchanged.status_code == 304 and unchanged.content == b"" and "Set-Cookie" not in unchanged.headers
    monkeypatch.undo()

    InpaintJob.objects.filter(pk=job.pk).update(status=InpaintJob.Status.CANCELED, finished_at=timezone.now())
    changed = session.get(f"{wsgi_url}/jobs/{job.pk}/", headers=poll | {"If-None-Match": tag}, timeout=10)
    assert changed.status_code == 286 and "You cancelled this job." in changed.text
    # A tag for one job never answers for another, nor without the job's owner's session.
    other = requests.get(f"{wsgi_url}/jobs/{job.pk}/", headers=poll | {"If-None-Match": changed.headers["ETag"]},
                         timeout=10)
    assert other.status_code == 304  # says only "as you have it", to whoever holds the tag
    stranger = requests.get(f"{wsgi_url}/jobs/{job.pk}/", headers=poll, timeout=10)
    assert stranger.status_code in (302, 404)


def test_in_a_browser_the_card_polls_with_its_tag_keeps_its_clock_and_takes_a_change(live_server, browser,
                                                                                     sent_steps):
    studio = open_studio(browser, live_server.url)
    page = studio.page
    room, links = room_open()
    page.goto(f"{live_server.url}/rooms/join/{links.join_token}/")
    page.get_by_role("button").last.click()
    page.wait_for_url(live_server.url + "/")
    job = guest_job(room.guests.get())
    answers = []
    page.on("response", lambda response: f"/jobs/{job.pk}/" in response.url and answers.append(
        (response.status, response.request.headers.get("if-none-match"))))
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    card = page.get_by_test_id("job-card")
    expect(card).to_have_attribute("data-status", "QUEUED")
    first = int(page.locator(".elapsed").text_content().split()[0])
    page.wait_for_timeout(3500)
    assert [status for status, _ in answers[-2:]] == [304, 304], answers
    assert all(tag for _, tag in answers[1:]), answers  # every poll after the page's own load
    # Nothing was swapped in, yet the clock moved on.
    assert int(page.locator(".elapsed").text_content().split()[0]) >= first + 3

    InpaintJob.objects.filter(pk=job.pk).update(status=InpaintJob.Status.CANCELED, finished_at=timezone.now())
    expect(card).to_have_attribute("data-status", "CANCELED", timeout=5000)
    expect(page.get_by_text("You cancelled this job.")).to_be_visible()
    assert studio.errors == []
    studio.page.context.close()
