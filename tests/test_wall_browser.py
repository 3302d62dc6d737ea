"""The wall in a real browser: a new result appears within 3 s of finishing, and a removed one never shows."""

from __future__ import annotations

import os
import time

import pytest

from inpaint.services import rooms
from tests.live import wait_for
from tests.rooms import entry_finish, guest_job, room_open

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SHOWN_WITHIN = 3.0
# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def entry_shown(page, wall_ref: str) -> bool:
    # Shown means on the page with both pictures decoded, not only named.
    return page.evaluate("""ref => {
        const entry = document.querySelector(`[data-entry="${ref}"]`);
        return !!entry && [...entry.querySelectorAll('img')].every(img => img.complete && img.naturalWidth > 0);
    }""", wall_ref)


def test_the_wall_shows_a_new_result_within_3_s_and_never_a_removed_one(live_server, browser, sent_steps):
    room, links = room_open()
    guest = rooms.room_join(room, "192.0.2.1")
    removed = entry_finish(guest_job(guest, "offline", prompt="taken off before"))
    rooms.wall_entry_hide(room, removed.wall_ref)

    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    requested, problems = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    page.goto(f"{live_server.url}/rooms/wall/{links.wall_token}/")
    page.wait_for_selector(".wall-empty")

    job = guest_job(guest, "offline", prompt="a yellow kite")
    wait_for(lambda: "1 queued" in page.inner_text("[data-testid=wall-counts]"), timeout=10, message="queued count")
    entry_finish(job)
    finished = time.monotonic()
    wait_for(lambda: entry_shown(page, job.wall_ref), timeout=10, interval=0.05, message="the new result")
    assert time.monotonic() - finished <= SHOWN_WITHIN
    assert "a yellow kite" in page.inner_text("[data-testid=wall-entries]")

    rooms.wall_entry_hide(room, job.wall_ref)
    wait_for(lambda: page.query_selector(f'[data-entry="{job.wall_ref}"]') is None, timeout=SHOWN_WITHIN,
             interval=0.05, message="the removed result gone")
    assert "taken off before" not in page.content()
    assert not [url for url in requested if removed.wall_ref in url]
    assert not [url for url in requested if not url.startswith(live_server.url)]
    assert problems == []
    context.close()
