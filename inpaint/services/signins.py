"""Sign-in throttle: a few failed sign-ins per account and per client network, then a pause.

Counted in the shared cache with ``add`` then ``incr``, both atomic, so parallel guesses cannot slip
past a read-then-write. The window starts at the first failure and is not extended by later ones, so
the person themself is let in again when it ends.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from webapp.env_readers import rate_parse


def _rate() -> tuple[int, int]:
    return rate_parse(settings.INPAINT_SIGNIN_RATE)


def _keys(username: str, network: str) -> list[str]:
    return [f"inpaint:signin-fail:account:{username.casefold()}", f"inpaint:signin-fail:network:{network}"]


def signin_allowed(username: str, network: str) -> bool:
    """False while the account or the network has used up its failed sign-ins."""
    count, _ = _rate()
    return all((cache.get(key) or 0) < count for key in _keys(username, network))


def signin_failure_count(username: str, network: str) -> None:
    """Count one failed sign-in against the account and the network."""
    _, seconds = _rate()
    for key in _keys(username, network):
        cache.add(key, 0, timeout=seconds)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this failure starts a new window
            cache.add(key, 1, timeout=seconds)
