"""Flood limits per client network, sized for a room: thirty phones behind one Wi-Fi share an
address, so the address limits only how fast new visitors and new jobs arrive from it, never what
one person may have (that is inpaint.services.usage, per person).

A script that drops its cookie on every post is a new visitor each time, so the new-visitor limit
is what stops a cookie-less flood. Counts live in the database (RateCount), so every web process and
host sees the same numbers.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from inpaint.models import RateCount
from inpaint.services.refusals import JobActionRefused
from webapp.env_readers import rate_parse

# A visitor counted once stays known this long, so the people of a day-long workshop are never
# counted again as newcomers when they come back after a break.
VISITOR_SEEN_SECONDS = 24 * 3600


def _count_sql() -> str:
    # One statement that inserts the window's row or adds one to it and answers the new count: a read
    # then a write (the cache's incr) lets parallel posts count once between them. PostgreSQL and
    # SQLite (3.35 and newer) both have ON CONFLICT … RETURNING.
    table = RateCount._meta.db_table
    return (f"INSERT INTO {table} (key, count, expires_at) VALUES (%s, 1, %s) "
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + 1 RETURNING count")


COUNT_SQL = _count_sql()


PREVIOUS_COUNT_SQL = f"SELECT count FROM {RateCount._meta.db_table} WHERE key = %s"


def rate_take(name: str, network: str, rate: str) -> bool:
    """Count one arrival from the network; False once the last window's length holds the limit.

    The window slides: the previous fixed window's count is weighed by how much of it the sliding window still
    covers, so a flood that straddles a fixed window's end is not counted afresh in the new one (fixed windows
    alone let twice the limit through across their boundary).
    """
    count, seconds = rate_parse(rate)
    now = timezone.now()
    window, into = divmod(now.timestamp(), seconds)
    window = int(window)
    # Kept until the end of the next window, which still weighs this one.
    expires_at = RateCount._meta.get_field("expires_at").get_db_prep_value(
        now + datetime.timedelta(seconds=seconds * 2), connection)
    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL, [f"{name}:{network}:{window}", expires_at])
        (counted,) = cursor.fetchone()
        cursor.execute(PREVIOUS_COUNT_SQL, [f"{name}:{network}:{window - 1}"])
        previous = cursor.fetchone()
    weighed = counted + (previous[0] if previous else 0) * (1 - into / seconds)
    return weighed <= count


def rate_counts_expire() -> int:
    """Delete the counts of windows that have passed (the periodic sweep)."""
    deleted, _ = RateCount.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


def network_job_rate_check(network: str) -> None:
    """At most INPAINT_CREATE_RATE new jobs from one network."""
    if not rate_take("create-rate", network, settings.INPAINT_CREATE_RATE):
        count, seconds = rate_parse(settings.INPAINT_CREATE_RATE)
        raise JobActionRefused(_("Too many new jobs from your network right now (at most %(count)d every "
                                 "%(seconds)d seconds); wait a minute and try again.")
                               % {"count": count, "seconds": seconds})


def visitor_arrival_check(visitor_id: str, network: str) -> None:
    """Count a visitor against INPAINT_NEW_VISITOR_RATE the first time they make a job.

    A visitor already counted is never refused here, so a person inside the room keeps working;
    one refused is not counted, so they are taken when the window has room again.
    """
    rate = settings.INPAINT_NEW_VISITOR_RATE
    seen = f"inpaint:visitor-seen:{visitor_id}"
    if not cache.add(seen, True, timeout=VISITOR_SEEN_SECONDS):
        return
    if not rate_take("new-visitors", network, rate):
        cache.delete(seen)
        count, seconds = rate_parse(rate)
        raise JobActionRefused(_("%(count)d new people have started from your network in the last %(minutes)d "
                                 "minutes, the most it may have; try again in a few minutes, or ask whoever runs "
                                 "the session for a room link.") % {"count": count, "minutes": seconds // 60})


def network_preview_rate_check(network: str) -> None:
    """At most INPAINT_PREVIEW_RATE picture previews for the editor from one network."""
    if not rate_take("preview-rate", network, settings.INPAINT_PREVIEW_RATE):
        count, seconds = rate_parse(settings.INPAINT_PREVIEW_RATE)
        raise JobActionRefused(_("Too many pictures opened from your network right now (at most %(count)d every "
                                 "%(seconds)d seconds); wait a minute and try again.")
                               % {"count": count, "seconds": seconds})
