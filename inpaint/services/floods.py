"""Flood limits per client network, sized for a room: thirty phones behind one Wi-Fi share an
address, so the address limits only how fast new visitors and new jobs arrive from it, never what
one person may have (that is inpaint.services.usage, per person).

A script that drops its cookie on every post is a new visitor each time, so the new-visitor limit
is what stops a cookie-less flood. Counts live in the shared cache, so every web process and host
sees the same numbers.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from inpaint.services.refusals import JobActionRefused

# A visitor counted once stays known this long, so the people of a day-long workshop are never
# counted again as newcomers when they come back after a break.
VISITOR_SEEN_SECONDS = 24 * 3600


def _rate_parse(rate: str) -> tuple[int, int]:
    """A rate setting "count/seconds" as (count, seconds)."""
    count, seconds = (int(part) for part in rate.split("/"))
    return count, seconds


def rate_take(name: str, network: str, rate: str) -> bool:
    """Count one arrival from the network in the current window; False once the window is full."""
    count, seconds = _rate_parse(rate)
    window = int(timezone.now().timestamp() // seconds)
    key = f"inpaint:{name}:{network}:{window}"
    cache.add(key, 0, timeout=seconds * 2)
    return cache.incr(key) <= count


def network_job_rate_check(network: str) -> None:
    """At most INPAINT_CREATE_RATE new jobs from one network."""
    if not rate_take("create-rate", network, settings.INPAINT_CREATE_RATE):
        count, seconds = _rate_parse(settings.INPAINT_CREATE_RATE)
        raise JobActionRefused(f"Too many new jobs from your network right now (at most {count} every "
                               f"{seconds} seconds); wait a minute and try again.")


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
        count, seconds = _rate_parse(rate)
        raise JobActionRefused(f"{count} new people have started from your network in the last "
                               f"{seconds // 60} minutes, the most it may have; try again in a few minutes, "
                               "or ask whoever runs the session for a room link.")


def network_preview_rate_check(network: str) -> None:
    """At most INPAINT_PREVIEW_RATE picture previews for the editor from one network."""
    if not rate_take("preview-rate", network, settings.INPAINT_PREVIEW_RATE):
        count, seconds = _rate_parse(settings.INPAINT_PREVIEW_RATE)
        raise JobActionRefused(f"Too many pictures opened from your network right now (at most {count} every "
                               f"{seconds} seconds); wait a minute and try again.")
