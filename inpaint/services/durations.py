"""Lengths of time as a person reads them on a card: never "0 minutes" for a deadline of seconds."""

from __future__ import annotations

from django.utils.translation import ngettext

MINUTE = 60
HOUR = 60 * MINUTE


def duration_in_words(seconds: float) -> str:
    """Seconds under two minutes, minutes under two hours, hours beyond (rounded, at least 1)."""
    if seconds < 2 * MINUTE:
        count = max(1, round(seconds))
        return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}
    if seconds < 2 * HOUR:
        count = round(seconds / MINUTE)
        return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}
    count = round(seconds / HOUR)
    return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
