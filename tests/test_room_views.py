"""Room views through Django's test client: the presenter's pages, joining by link (open and login mode),
the guest's studio, and the wall, which names no job, file or task."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from inpaint.models import InpaintJob, Room, RoomGuest
from inpaint.reporting import link_tokens_hidden
from inpaint.services import rooms
from tests.rooms import entry_finish, guest_job, presenter, room_open
from tests.live import HTMX, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def room_settings(settings, sent_steps):
    cache.clear()  # the join counts live in the shared cache, which outlives a test
    settings.DASHSCOPE_API_KEY = ""
    settings.INPAINT_PUBLIC_BASE_URL = ""
    return settings


def join(client: Client, token: str) -> RoomGuest:
    assert client.get(f"/rooms/join/{token}/").status_code == 200
    response = client.post(f"/rooms/join/{token}/")
    assert response.status_code == 302 and response["Location"] == "/"
    return RoomGuest.objects.get(pk=client.session[rooms.GUEST_SESSION_KEY])


def test_a_staff_member_opens_a_room_and_sees_its_links_and_qr_code_once(client):
    client.force_login(presenter())
    assert client.get("/rooms/").status_code == 200
    response = client.post("/rooms/", {"name": "Friday demo", "hours": "2", "engines": ["offline"],
                                       "image_cap": "40", "guest_image_cap": "4", "guest_active_jobs": "2"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    room = Room.objects.get()
    assert (room.name, room.engines, room.image_cap, room.guest_image_cap) == ("Friday demo", ["offline"], 40, 4)
    page = response.content.decode()
    assert "<svg" in page and 'data-testid="room-qr"' in page
    join_url = page.split('data-testid="room-join-url">')[1].split("<")[0]
    assert rooms.room_for_join(join_url.rsplit("/", 2)[1]) == room
    # Only the hashes are kept: the room's own page cannot show the links again.
    assert join_url not in client.get(f"/rooms/{room.pk}/").content.decode()


def test_staff_find_the_rooms_from_any_page_and_nobody_else_is_shown_the_link(client):
    client.force_login(presenter())
    assert 'data-testid="rooms-link"' in client.get("/").content.decode()
    client.force_login(get_user_model().objects.create_user("guest-person"))
    assert 'data-testid="rooms-link"' not in client.get("/").content.decode()


def test_rooms_are_for_staff_only(client):
    room, _ = room_open()
    assert client.get("/rooms/")["Location"].startswith("/accounts/login/")
    client.force_login(get_user_model().objects.create_user("guest-person"))
    for path in ("/rooms/", f"/rooms/{room.pk}/"):
        assert client.get(path).status_code == 302
    assert client.post(f"/rooms/{room.pk}/close/").status_code == 302
    room.refresh_from_db()
    assert room.closed_at is None


def test_joining_by_link_in_login_mode_gives_the_studio_and_own_jobs_and_nothing_else(client, settings,
                                                                                     routes_rebuilt):
    settings.INPAINT_ACCESS = "login"
    routes_rebuilt()  # the admin is routed in login mode
    room, links = room_open(name="Lab day", engines=["offline"])
    assert client.get("/")["Location"].startswith("/accounts/login/")
    guest = join(client, links.join_token)
    studio = client.get("/").content.decode()
    assert 'data-testid="room-banner"' in studio and "Lab day" in studio
    assert 'value="wanx-x-painting"' not in studio and 'value="offline"' in studio
    assert client.post("/jobs/", form_data(), headers=HTMX).status_code == 200
    job = InpaintJob.objects.get()
    assert (job.owner_key, job.room_id) == (guest.owner_key, room.pk)
    assert client.get(f"/jobs/{job.pk}/", headers=HTMX).status_code == 200
    assert client.get(f"/jobs/{job.pk}/picture/").status_code == 200
    assert client.get("/rooms/").status_code == 302 and client.get("/admin/").status_code == 302
    # Another guest of the same room does not see it.
    other = Client()
    join(other, links.join_token)
    assert other.get(f"/jobs/{job.pk}/").status_code == 404


def test_joining_is_a_post_that_rotates_the_session_key(client):
    _, links = room_open()
    client.get("/")  # an open-mode visitor with a session already
    before = client.session.session_key
    assert client.get(f"/rooms/join/{links.join_token}/").status_code == 200
    assert not RoomGuest.objects.exists()  # opening the link makes nobody (link previews, scanners)
    join(client, links.join_token)
    assert client.session.session_key != before
    assert RoomGuest.objects.count() == 1


def test_joins_are_rate_limited_per_address(client, settings):
    settings.INPAINT_JOIN_RATE = "2/600"
    _, links = room_open()
    answers = [Client().post(f"/rooms/join/{links.join_token}/").status_code for _ in range(3)]
    assert answers == [302, 302, 429]
    assert RoomGuest.objects.count() == 2


def test_a_closed_room_refuses_new_jobs_and_its_link_opens_nothing(client):
    room, links = room_open(engines=["offline"])
    join(client, links.join_token)
    assert client.post("/jobs/", form_data(), headers=HTMX).status_code == 200
    rooms.room_close(room)
    answer = client.post("/jobs/", form_data(), headers=HTMX).content.decode()
    assert "This room has closed" in answer
    assert InpaintJob.objects.count() == 1
    assert 'data-testid="room-closed"' in client.get("/").content.decode()
    closed = Client().get(f"/rooms/join/{links.join_token}/")
    assert closed.status_code == 404 and 'data-testid="join-closed"' in closed.content.decode()


def test_the_wall_shows_previews_only_by_its_own_token_without_sign_in(settings, django_assert_max_num_queries):
    settings.INPAINT_ACCESS = "login"
    room, links = room_open()
    guest = rooms.room_join(room, "192.0.2.1")
    shown = entry_finish(guest_job(guest, "offline", prompt="a yellow kite"))
    removed = entry_finish(guest_job(guest, "offline", prompt="something rude"))
    rooms.wall_entry_hide(room, removed.wall_ref)
    wall = Client()
    with django_assert_max_num_queries(4):
        page = wall.get(f"/rooms/wall/{links.wall_token}/", headers=HTMX)
    text = page.content.decode()
    assert page.status_code == 200 and "a yellow kite" in text and "something rude" not in text
    for secret in (str(shown.pk), shown.base_image.name, shown.base_preview.name, str(shown.pk)[:8]):
        assert secret not in text
    before = wall.get(f"/rooms/wall/{links.wall_token}/{shown.wall_ref}/before/")
    assert before["Content-Type"] == "image/webp"
    assert b"".join(before.streaming_content) == shown.base_preview.open("rb").read()
    assert wall.get(f"/rooms/wall/{links.wall_token}/{shown.wall_ref}/after/").status_code == 200
    assert wall.get(f"/rooms/wall/{links.wall_token}/{removed.wall_ref}/after/").status_code == 404
    assert wall.get(f"/rooms/wall/{links.join_token}/").status_code == 404


def test_the_wall_poll_is_answered_304_until_an_entry_or_a_count_changes():
    room, links = room_open()
    guest = rooms.room_join(room, "192.0.2.1")
    shown = entry_finish(guest_job(guest, "offline", prompt="a yellow kite"))
    wall, url = Client(), f"/rooms/wall/{links.wall_token}/"
    first = wall.get(url, headers=HTMX)
    tag = first["ETag"]
    assert first.status_code == 200 and "no-store" in first["Cache-Control"] and tag.strip('"') in first.content.decode()
    assert wall.get(url, headers=HTMX | {"If-None-Match": tag}).status_code == 304
    waiting = guest_job(guest, "offline", prompt="a green kite")  # one more queued
    assert wall.get(url, headers=HTMX | {"If-None-Match": tag}).status_code == 200
    tag = wall.get(url, headers=HTMX)["ETag"]
    entry_finish(waiting)
    assert "a green kite" in wall.get(url, headers=HTMX | {"If-None-Match": tag}).content.decode()
    tag = wall.get(url, headers=HTMX)["ETag"]
    rooms.wall_entry_hide(room, shown.wall_ref)
    taken_off = wall.get(url, headers=HTMX | {"If-None-Match": tag})
    assert taken_off.status_code == 200 and "a yellow kite" not in taken_off.content.decode()
    other_room, other_links = room_open()
    assert Client().get(f"/rooms/wall/{other_links.wall_token}/", headers=HTMX | {"If-None-Match": tag}).status_code == 200


def test_the_presenter_removes_a_result_from_the_wall_and_closes_the_room(client):
    room, links = room_open()
    job = entry_finish(guest_job(rooms.room_join(room, "192.0.2.1"), "offline", prompt="a yellow kite"))
    client.force_login(presenter())
    assert "a yellow kite" in client.get(f"/rooms/{room.pk}/").content.decode()
    assert client.post(f"/rooms/{room.pk}/entries/{job.wall_ref}/hide/").status_code == 302
    assert "a yellow kite" not in Client().get(f"/rooms/wall/{links.wall_token}/").content.decode()
    assert client.post(f"/rooms/{room.pk}/close/").status_code == 302
    assert rooms.room_for_join(links.join_token) is None
    new_links = client.post(f"/rooms/{room.pk}/links/").content.decode()
    assert "/rooms/wall/" in new_links and rooms.room_for_wall(links.wall_token) is None


def test_the_join_and_wall_tokens_are_kept_out_of_logs():
    line = '"GET /rooms/join/AbC-123_x/ HTTP/1.1" 200 · "GET /rooms/wall/Zz9/ref/after/ HTTP/1.1"'
    assert link_tokens_hidden(line) == '"GET /rooms/join/[token]/ HTTP/1.1" 200 · "GET /rooms/wall/[token]/ref/after/ HTTP/1.1"'
