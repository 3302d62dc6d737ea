"""The job card's tag: what its owner's page already shows, so a poll that would change nothing is
answered 304 without loading the session or rendering the card (inpaint.card_polls).

Thirty phones and the wall poll every second, and almost every poll finds nothing new. The tag is a digest
of everything the card shows that can change, signed with the job's id: only a page the card was served to
holds it, and the answer to it says no more than "still as you have it". What changes by itself every
second (the elapsed time and the time bar) is kept moving by the page (static/inpaint/card-clock.js).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.db import connection
from django.utils.crypto import constant_time_compare, salted_hmac

from inpaint.models import InpaintJob, JobResult
from inpaint.services import selectors

TAG_SALT = "inpaint.services.cards"
DIGEST_CHARS = 16


UNFINISHED = sorted(InpaintJob.UNFINISHED_STATUSES)
QUEUE_AGGREGATES = ("COUNT(*)", "MAX(u.created_at)", "MAX(u.submit_claimed_at)", "MAX(u.remote_ended_at)")


def _state_sql() -> str:
    # Written out once, not built by the ORM on every poll: building the subqueries costs more than
    # running them. The job's own columns come first, then its engine, then a summary of the engine's
    # queue: any unfinished job arriving, being claimed for sending, its task ending or the job ending
    # changes a count or a newest time there, and only then can a waiting card's place or estimate move.
    job, result = InpaintJob._meta.db_table, JobResult._meta.db_table
    unfinished = f"FROM {job} u WHERE u.engine = j.engine AND u.status IN ({', '.join(['%s'] * len(UNFINISHED))})"
    queue = ", ".join(f"(SELECT {aggregate} {unfinished})" for aggregate in QUEUE_AGGREGATES)
    # A job may come and go between two polls; the newest success still tells that the estimate moved.
    succeeded = f"(SELECT MAX(d.finished_at) FROM {job} d WHERE d.engine = j.engine AND d.status = %s)"
    return (f"SELECT j.status, j.waiting_reason, j.remote_status, j.submit_claimed_at, j.finished_at, j.error_message, "
            f"(SELECT COUNT(*) FROM {result} r WHERE r.job_id = j.id AND r.image <> ''), "
            f"(SELECT COUNT(*) FROM {result} r WHERE r.job_id = j.id AND r.error_code <> ''), "
            f"j.engine, {queue}, {succeeded} FROM {job} j WHERE j.id = %s")


STATE_SQL = _state_sql()
OWN_COLUMNS = 8  # status … failed slots; then the engine, then the queue's summary


@dataclass(frozen=True)
class QueueView:
    """What every waiting card of one engine shows of the queue, while its summary stays the same."""

    positions: dict  # job id → how many jobs take their turn before it
    estimate: float | None


@dataclass(frozen=True)
class Card:
    """What a job's card shows that can change, and its tag."""

    tag: str
    queue_position: int | None = None
    estimate: float | None = None


# One per engine and process: thirty waiting cards polled every second share one reckoning of the
# turns (two queries) until the queue's summary changes, instead of making it on every poll.
_queue_views: dict[str, tuple[tuple, QueueView]] = {}


def _queue_view(engine_key: str, summary: tuple) -> QueueView:
    kept = _queue_views.get(engine_key)
    if kept is not None and kept[0] == summary:
        return kept[1]
    view = QueueView(positions={pk: index for index, pk in enumerate(selectors.waiting_in_turn(engine_key))},
                     estimate=selectors.job_estimate_seconds(engine_key))
    _queue_views[engine_key] = (summary, view)
    return view


def _card_state(job_id) -> tuple[tuple, int | None, float | None] | None:
    """The job's own columns, its place in the queue and the estimate; None if there is no such job."""
    key = InpaintJob._meta.pk.get_db_prep_value(job_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(STATE_SQL, [*UNFINISHED * len(QUEUE_AGGREGATES), InpaintJob.Status.SUCCEEDED, key])
        row = cursor.fetchone()
    if row is None:
        return None
    own, engine_key = row[:OWN_COLUMNS], row[OWN_COLUMNS]
    status, submit_claimed_at = own[0], own[3]
    if status in InpaintJob.FINAL_STATUSES:
        return own, None, None  # an ended job's card no longer shows a place or an estimate
    view = _queue_view(engine_key, row[OWN_COLUMNS + 1:])
    position = None
    if selectors.job_waits_its_turn(status, submit_claimed_at, engine_key):
        position = view.positions.get(uuid.UUID(str(job_id)))
    return own, position, view.estimate


def _digest(state) -> str:
    own, position, estimate = state
    # The card writes the estimate in whole seconds; its time bar may keep a tenth it was served with.
    shown = (own, position, None if estimate is None else round(estimate))
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:DIGEST_CHARS]


def _signature(job_id, digest: str) -> str:
    return salted_hmac(TAG_SALT, f"{job_id}:{digest}", algorithm="sha256").hexdigest()[:DIGEST_CHARS]


def _tag(job_id, digest: str) -> str:
    return f'"{digest}.{_signature(job_id, digest)}"'


def card_read(job_id) -> Card:
    """What the card shows that can change, with the tag it is served with (an entity tag, quotes
    included) for its next poll to send back."""
    state = _card_state(job_id)
    if state is None:
        return Card(tag=_tag(job_id, ""))
    return Card(tag=_tag(job_id, _digest(state)), queue_position=state[1], estimate=state[2])


def card_tag_current(job_id, if_none_match: str) -> bool:
    """Whether a poll's If-None-Match is a tag this app served for this job and the card is unchanged."""
    digest, _, signature = if_none_match.strip().strip('"').partition(".")
    if not digest or not constant_time_compare(signature, _signature(job_id, digest)):
        return False
    state = _card_state(job_id)
    return state is not None and digest == _digest(state)
