"""The job card's tag: what its owner's page already shows, so a poll that would change nothing is
answered 304 without loading the session or rendering the card (inpaint.card_polls).

Thirty phones and the wall poll every second, and almost every poll finds nothing new. The tag is a digest
of everything the card shows that can change, signed with the job's id: only a page the card was served to
holds it, and the answer to it says no more than "still as you have it". What changes by itself every
second (the elapsed time and the time bar) is kept moving by the page (static/inpaint/card-clock.js).
"""

from __future__ import annotations

import hashlib

from django.db import connection
from django.utils.crypto import constant_time_compare, salted_hmac

from inpaint.models import InpaintJob, JobResult

TAG_SALT = "inpaint.services.cards"
DIGEST_CHARS = 16


UNFINISHED = sorted(InpaintJob.UNFINISHED_STATUSES)


def _digest_sql() -> str:
    # Written out once, not built by the ORM on every poll: building five subqueries costs more than
    # running them. The queue position and the estimate follow the engine's other unfinished jobs: any
    # of them arriving, being claimed for sending or ending changes a count or a newest time here.
    job, result = InpaintJob._meta.db_table, JobResult._meta.db_table
    unfinished = f"FROM {job} u WHERE u.engine = j.engine AND u.status IN ({', '.join(['%s'] * len(UNFINISHED))})"
    return (f"SELECT j.status, j.waiting_reason, j.remote_status, j.submit_claimed_at, j.finished_at, j.error_message, "
            f"(SELECT COUNT(*) FROM {result} r WHERE r.job_id = j.id AND r.image <> ''), "
            f"(SELECT COUNT(*) FROM {result} r WHERE r.job_id = j.id AND r.error_code <> ''), "
            f"(SELECT COUNT(*) {unfinished}), (SELECT MAX(u.created_at) {unfinished}), "
            f"(SELECT MAX(u.submit_claimed_at) {unfinished}) "
            f"FROM {job} j WHERE j.id = %s")


DIGEST_SQL = _digest_sql()
FINAL_ONLY_COLUMNS = 8  # an ended job's card no longer shows a position or an estimate


def card_digest(job_id) -> str | None:
    """A digest of what the job's card shows, from one query; None if there is no such job."""
    key = InpaintJob._meta.pk.get_db_prep_value(job_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(DIGEST_SQL, [*UNFINISHED * 3, key])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[0] in InpaintJob.FINAL_STATUSES:
        row = row[:FINAL_ONLY_COLUMNS]
    return hashlib.sha256(repr(row).encode()).hexdigest()[:DIGEST_CHARS]


def _signature(job_id, digest: str) -> str:
    return salted_hmac(TAG_SALT, f"{job_id}:{digest}", algorithm="sha256").hexdigest()[:DIGEST_CHARS]


def card_tag(job_id) -> str:
    """The tag the card is served with (an entity tag, quotes included), for its next poll to send back."""
    digest = card_digest(job_id) or ""
    return f'"{digest}.{_signature(job_id, digest)}"'


def card_tag_current(job_id, if_none_match: str) -> bool:
    """Whether a poll's If-None-Match is a tag this app served for this job and the card is unchanged."""
    digest, _, signature = if_none_match.strip().strip('"').partition(".")
    if not digest or not constant_time_compare(signature, _signature(job_id, digest)):
        return False
    return digest == card_digest(job_id)
