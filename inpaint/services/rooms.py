"""Demo rooms: a staff member opens one, guests join by its link without an account, and its own cap
of cloud images, its engines and its per-guest limits hold together with the app's and the person's.

The join and wall links are access links: each token is 32 random bytes, shown once to the presenter
and kept here only as its sha256, so a copy of the database opens no room. Rotating a link makes a new
token; the join link also stops when the room ends or is closed.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.crypto import salted_hmac

from inpaint.engines import all_engines, engines_listed
from inpaint.engines.base import Engine
from inpaint.models import InpaintJob, Room, RoomGuest
from inpaint.services import floods
from inpaint.services.refusals import JobActionRefused
from inpaint.services.selectors import guest_jobs
from inpaint.services.states import IN_FLIGHT, Status

TOKEN_BYTES = 32
GUEST_SESSION_KEY = "inpaint_room_guest"
# The wall shows this many of the newest results: a poll reads a bounded page however long the room runs.
WALL_ENTRIES = 12
WALL_REF_BYTES = 16
WALL_TAG_SALT = "inpaint.services.rooms.wall"
WALL_TAG_CHARS = 16


@dataclass(frozen=True)
class RoomLinks:
    """The raw tokens of a room's links, for the one answer that shows them to the presenter."""

    join_token: str
    wall_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def room_create(*, presenter, name: str, ends_at: datetime.datetime, engines: list[str], image_cap: int = 0,
                guest_image_cap: int = 0, guest_active_jobs: int = 2) -> tuple[Room, RoomLinks]:
    links = RoomLinks(secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES))
    room = Room.objects.create(
        presenter=presenter, name=name, ends_at=ends_at, engines=engines, image_cap=image_cap,
        guest_image_cap=guest_image_cap, guest_active_jobs=guest_active_jobs,
        join_token_hash=token_hash(links.join_token), wall_token_hash=token_hash(links.wall_token))
    return room, links


def room_links_rotate(room: Room) -> RoomLinks:
    """New join and wall links for the room; the old ones stop working at once."""
    links = RoomLinks(secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES))
    Room.objects.filter(pk=room.pk).update(join_token_hash=token_hash(links.join_token),
                                           wall_token_hash=token_hash(links.wall_token))
    return links


def room_close(room: Room) -> bool:
    """End the room now (once): its guests can make no more jobs; what they made stays."""
    return bool(Room.objects.filter(pk=room.pk, closed_at__isnull=True).update(closed_at=timezone.now()))


def room_for_join(token: str) -> Room | None:
    """The open room this join token opens, or None (unknown, rotated, ended or closed)."""
    room = Room.objects.filter(join_token_hash=token_hash(token)).first()
    return room if room is not None and room.is_open else None


def room_for_wall(token: str) -> Room | None:
    """The room this wall token shows; the wall stays readable after the room ends."""
    return Room.objects.filter(wall_token_hash=token_hash(token)).first()


def room_join(room: Room, network: str) -> RoomGuest:
    """A new guest of the room, counted against INPAINT_JOIN_RATE for the client's network: a join
    link posted in public would otherwise make guests without end."""
    if not floods.rate_take("room-joins", network, settings.INPAINT_JOIN_RATE):
        raise JobActionRefused(_("Too many people have joined from your network in the last few minutes; "
                                 "wait a few minutes and try again."))
    return RoomGuest.objects.create(room=room)


def guest_get(session) -> RoomGuest | None:
    """The room guest this browser session is, or None."""
    guest_id = session.get(GUEST_SESSION_KEY)
    if guest_id is None:
        return None
    return RoomGuest.objects.select_related("room").filter(pk=guest_id).first()


def guest_enter(session, guest: RoomGuest) -> None:
    """Make the session the guest's, under a new session key (the old one may have been seen)."""
    session.cycle_key()
    session[GUEST_SESSION_KEY] = guest.pk


def _billed_engine_keys() -> list[str]:
    return [key for key, engine in all_engines().items() if engine.remote]


def _images_reserved(jobs: QuerySet[InpaintJob]) -> int:
    """Cloud images these jobs billed, plus those the unfinished ones may still bill."""
    totals = jobs.filter(engine__in=_billed_engine_keys()).aggregate(
        billed=Sum("image_count"), pending=Sum("n", filter=IN_FLIGHT))
    return (totals["billed"] or 0) + (totals["pending"] or 0)


def room_images_used(room: Room) -> int:
    return _images_reserved(room.jobs.all())


def room_images_left(guest: RoomGuest) -> dict:
    """What is left of the room's and the guest's cloud images (None where there is no cap)."""
    room = guest.room
    return {
        "room": max(0, room.image_cap - room_images_used(room)) if room.image_cap else None,
        "guest": max(0, room.guest_image_cap - _images_reserved(guest_jobs(guest))) if room.guest_image_cap else None,
    }


def room_engines(room: Room) -> list[Engine]:
    """The engines the page offers a guest: the room's, in the app's order."""
    return [engine for engine in engines_listed() if engine.key in room.engines]


def room_limits_check(guest: RoomGuest, engine: Engine, n: int) -> None:
    """Refuse a guest's new job that the room does not allow now; job_create calls it with the
    creation lock held, so parallel posts cannot pass the room's cap together."""
    room = Room.objects.get(pk=guest.room_id)
    if not room.is_open:
        raise JobActionRefused(_("This room has closed; you can still see and download what you made."))
    if engine.key not in room.engines:
        raise JobActionRefused(_("This room does not offer %(engine)s; choose another engine.") % {"engine": engine.label})
    if room.guest_active_jobs and guest_jobs(guest).filter(IN_FLIGHT).count() >= room.guest_active_jobs:
        raise JobActionRefused(_("You have %(count)d jobs in progress in this room; start another when one has "
                                 "finished.") % {"count": room.guest_active_jobs})
    if not engine.remote:
        return
    if room.image_cap and _images_reserved(room.jobs.all()) + n > room.image_cap:
        message = (_("This room's %(cap)d cloud images have all been used; use the offline engine.")
                   if _offers_offline(room) else _("This room's %(cap)d cloud images have all been used."))
        raise JobActionRefused(message % {"cap": room.image_cap})
    if room.guest_image_cap and _images_reserved(guest_jobs(guest)) + n > room.guest_image_cap:
        message = (_("You have used your %(cap)d cloud images in this room; use the offline engine.")
                   if _offers_offline(room) else _("You have used your %(cap)d cloud images in this room."))
        raise JobActionRefused(message % {"cap": room.guest_image_cap})


def _offers_offline(room: Room) -> bool:
    engines = all_engines()
    return any(key in engines and not engines[key].remote for key in room.engines)


def room_job_mark(job: InpaintJob, guest: RoomGuest) -> None:
    """Make a new (unsaved) job the guest's, in their room, with its own reference for the wall."""
    job.room_id, job.owner_key, job.owner, job.visitor_id = guest.room_id, guest.owner_key, None, ""
    job.wall_ref = secrets.token_urlsafe(WALL_REF_BYTES)


def wall_entries(room: Room) -> list[InpaintJob]:
    """The room's newest finished results the presenter has not taken off, newest first."""
    return list(room.jobs.filter(status=Status.SUCCEEDED, wall_hidden=False).exclude(base_preview="")
                .order_by("-finished_at")[:WALL_ENTRIES])


def wall_tag(room: Room, entries: list[InpaintJob], counts: dict) -> str:
    """The wall's entity tag: a digest of the entries it shows and its counts, signed with the room, so
    that its poll is answered 304 while nothing on it changed (an entry's pictures and prompt never
    change once it is finished)."""
    shown = ([job.wall_ref for job in entries], sorted(counts.items()))
    digest = hashlib.sha256(repr(shown).encode()).hexdigest()[:WALL_TAG_CHARS]
    signature = salted_hmac(WALL_TAG_SALT, f"{room.pk}:{digest}", algorithm="sha256").hexdigest()[:WALL_TAG_CHARS]
    return f'"{digest}.{signature}"'


def wall_counts(room: Room) -> dict:
    """How many of the room's jobs wait in the queue and how many are painting, in one query."""
    return room.jobs.aggregate(queued=Count("pk", filter=Q(status=Status.QUEUED)),
                               painting=Count("pk", filter=Q(status__in=[Status.SUBMITTED, Status.RUNNING])))


def wall_entry_get(room: Room, wall_ref: str) -> InpaintJob | None:
    """A job the wall may show, by its wall reference (never by its id)."""
    if not wall_ref:
        return None
    return room.jobs.filter(wall_ref=wall_ref, status=Status.SUCCEEDED, wall_hidden=False).first()


def wall_preview(job: InpaintJob, kind: str):
    """The stored WebP preview the wall shows for an entry: "before" (the picture) or "after" (its
    first result); None when there is none. Never an original file."""
    if kind == "before":
        return job.base_preview or None
    if kind == "after":
        return next((result.preview for result in job.results.all() if result.preview), None)
    return None


def wall_entry_hide(room: Room, wall_ref: str) -> bool:
    """The presenter takes a result off the wall; the guest keeps it."""
    return bool(room.jobs.filter(wall_ref=wall_ref, wall_hidden=False).exclude(wall_ref="").update(wall_hidden=True))
