"""Demo rooms: the links kept as hashes, expiring and revocable; the room's limits with the app's; the wall."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core.cache import cache
from django.utils import timezone

from inpaint.models import InpaintJob, Room
from inpaint.services import rooms
from inpaint.services.refusals import JobActionRefused
from tests.rooms import CLOUD, Status, entry_finish, guest_job, room_open

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    # The join counts live in the shared cache, which outlives a test.
    cache.clear()


def test_the_links_are_32_random_bytes_kept_only_as_their_sha256():
    room, links = room_open()
    assert len(links.join_token) >= 43 and len(links.wall_token) >= 43  # 32 bytes, base64
    assert room.join_token_hash == hashlib.sha256(links.join_token.encode()).hexdigest()
    stored = Room.objects.filter(pk=room.pk).values().get()
    assert not any(links.join_token in str(value) or links.wall_token in str(value) for value in stored.values())
    assert rooms.room_for_join(links.join_token) == room
    assert rooms.room_for_wall(links.wall_token) == room
    assert rooms.room_for_join(links.wall_token) is None


def test_the_join_link_stops_when_the_room_ends_or_closes_or_is_rotated():
    ended, ended_links = room_open(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert rooms.room_for_join(ended_links.join_token) is None
    assert rooms.room_for_wall(ended_links.wall_token) == ended  # the wall stays readable

    room, links = room_open()
    new_links = rooms.room_links_rotate(room)
    assert rooms.room_for_join(links.join_token) is None and rooms.room_for_wall(links.wall_token) is None
    assert rooms.room_for_join(new_links.join_token) == room
    assert rooms.room_close(room) and not rooms.room_close(room)
    assert rooms.room_for_join(new_links.join_token) is None


def test_joins_are_limited_per_network(settings):
    settings.INPAINT_JOIN_RATE = "3/600"
    room, _ = room_open()
    for _ in range(3):
        rooms.room_join(room, "198.51.100.7")
    with pytest.raises(JobActionRefused, match="Too many people have joined"):
        rooms.room_join(room, "198.51.100.7")
    assert rooms.room_join(room, "198.51.100.8")
    assert room.guests.count() == 4


def test_a_guests_job_is_theirs_in_the_room_with_a_wall_reference_that_is_not_its_id():
    room, _ = room_open()
    guest = rooms.room_join(room, "192.0.2.1")
    job = guest_job(guest)
    assert (job.room_id, job.owner_key, job.owner, job.visitor_id) == (room.pk, f"guest:{guest.pk}", None, "")
    assert len(job.wall_ref) >= 22 and job.wall_ref not in str(job.pk)
    assert list(rooms.guest_jobs(guest)) == [job]


def test_a_closed_room_refuses_new_jobs_and_keeps_what_was_made():
    room, _ = room_open()
    guest = rooms.room_join(room, "192.0.2.1")
    made = guest_job(guest, "offline")
    rooms.room_close(room)
    with pytest.raises(JobActionRefused, match="This room has closed"):
        guest_job(guest, "offline")
    assert list(InpaintJob.objects.all()) == [made]


def test_an_ended_room_refuses_new_jobs():
    room, _ = room_open()
    guest = rooms.room_join(room, "192.0.2.1")
    Room.objects.filter(pk=room.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(JobActionRefused, match="This room has closed"):
        guest_job(guest, "offline")


def test_only_the_rooms_engines_are_offered_and_allowed():
    room, _ = room_open(engines=["offline"])
    guest = rooms.room_join(room, "192.0.2.1")
    assert [engine.key for engine in rooms.room_engines(room)] == ["offline"]
    with pytest.raises(JobActionRefused, match="This room does not offer"):
        guest_job(guest, CLOUD)


def test_the_rooms_cap_counts_every_guest_and_the_unfinished_jobs():
    room, _ = room_open(image_cap=3)
    first, second = rooms.room_join(room, "192.0.2.1"), rooms.room_join(room, "192.0.2.2")
    done = guest_job(first, n=2)
    InpaintJob.objects.filter(pk=done.pk).update(status=Status.SUCCEEDED, image_count=2)
    guest_job(second, n=1)  # in progress: reserves its one image
    assert rooms.room_images_left(second) == {"room": 0, "guest": None}
    with pytest.raises(JobActionRefused, match="This room's 3 cloud images have all been used; use the offline"):
        guest_job(second, n=1)
    guest_job(second, "offline")  # the offline engine costs nothing


def test_a_guests_own_limits():
    room, _ = room_open(guest_image_cap=2, guest_active_jobs=2)
    guest, other = rooms.room_join(room, "192.0.2.1"), rooms.room_join(room, "192.0.2.2")
    guest_job(guest, n=2)
    with pytest.raises(JobActionRefused, match="You have used your 2 cloud images in this room"):
        guest_job(guest, n=1)
    guest_job(guest, "offline")
    with pytest.raises(JobActionRefused, match="You have 2 jobs in progress in this room"):
        guest_job(guest, "offline")
    guest_job(other, n=2)


def test_the_wall_shows_the_newest_finished_entries_not_the_removed_and_counts_the_rest(
        django_assert_max_num_queries):
    room, _ = room_open(guest_active_jobs=0)
    guest = rooms.room_join(room, "192.0.2.1")
    finished = [entry_finish(guest_job(guest, "offline", prompt=f"entry {i}")) for i in range(rooms.WALL_ENTRIES + 2)]
    removed = finished[-1]
    assert rooms.wall_entry_hide(room, removed.wall_ref) and not rooms.wall_entry_hide(room, removed.wall_ref)
    waiting = guest_job(guest, "offline")
    painting = guest_job(guest, "offline")
    InpaintJob.objects.filter(pk=painting.pk).update(status=Status.RUNNING)
    with django_assert_max_num_queries(3):
        entries = rooms.wall_entries(room)
        counts = rooms.wall_counts(room)
    assert [job.pk for job in entries] == [job.pk for job in reversed(finished[1:-1])]
    assert counts == {"queued": 1, "painting": 1}
    assert rooms.wall_entry_get(room, removed.wall_ref) is None
    assert rooms.wall_entry_get(room, waiting.wall_ref) is None  # not finished: nothing to show


def test_the_wall_previews_are_the_reencoded_webps_never_an_original():
    room, _ = room_open()
    job = entry_finish(guest_job(rooms.room_join(room, "192.0.2.1"), "offline"))
    before, after = rooms.wall_preview(job, "before"), rooms.wall_preview(job, "after")
    assert before.name.endswith("base-preview.webp") and after.name.endswith("-preview.webp")
    assert rooms.wall_preview(job, "base") is None
