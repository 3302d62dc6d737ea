"""How many full picture decodes one web process does at once (INPAINT_DECODES_AT_ONCE).

A 100 MP picture costs up to a gigabyte while it is decoded; eight server threads doing that together
would exhaust the machine. A request that cannot get a slot within INPAINT_DECODE_WAIT seconds is
answered "busy" in plain words. A thread already holding a slot (a held picture made into a file while
a form is checked) goes on without taking a second one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

BUSY_MESSAGE = gettext_noop("The server is busy opening other pictures right now; try again in a moment.")
# What a busy answer tells the browser to wait before trying again.
RETRY_AFTER_SECONDS = 5

_slots = threading.BoundedSemaphore(settings.INPAINT_DECODES_AT_ONCE)
_held = threading.local()


class DecodeBusy(Exception):
    """No decode slot came free in time; the message says so in plain words."""


@contextmanager
def decode_slot_take() -> Iterator[None]:
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    if not _slots.acquire(timeout=settings.INPAINT_DECODE_WAIT):
        raise DecodeBusy(gettext(BUSY_MESSAGE))
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        _slots.release()
