"""Settings read from the environment, each checked where it is read.

A malformed value (``INPAINT_CREATE_RATE=abc``, ``INPAINT_MAX_PIXELS=lots``) stops start-up with one
plain sentence naming the variable, the form it takes and what it holds. Read later, the same value
would break requests or tasks with a bare ``ValueError`` long after the deployment looked fine.
"""

from __future__ import annotations

import math

import environ
from django.core.exceptions import ImproperlyConfigured

# Words a yes/no setting may be, in either case: anything else is a typo, not a "no".
YES_WORDS = frozenset({"1", "true", "yes", "on"})
NO_WORDS = frozenset({"0", "false", "no", "off"})
SHOWN_VALUE_CHARS = 40


class SettingMalformed(ImproperlyConfigured):
    """A setting in the environment that is not of its form; the message says which and how to fix it."""


def rate_parse(text: str) -> tuple[int, int]:
    """A rate "count/seconds" as (count, seconds): count a whole number, seconds a whole number above 0."""
    count, slash, seconds = text.strip().partition("/")
    if not (slash and count.strip().isdigit() and seconds.strip().isdigit() and int(seconds) > 0):
        raise ValueError(f"not a rate: {text!r}")
    return int(count), int(seconds)


def _rate_text(text: str) -> str:
    rate_parse(text)
    return text


def _non_negative_number(text: str) -> float:
    number = float(text)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"not a number of 0 or more: {text!r}")
    return number


def _whole_number(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"not a whole number: {text!r}")
    return int(text)


def _yes_or_no(text: str) -> bool:
    word = text.lower()
    if word not in YES_WORDS | NO_WORDS:
        raise ValueError(f"not yes or no: {text!r}")
    return word in YES_WORDS


def _counts(text: str) -> dict[str, int]:
    counts = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key, equals, count = entry.partition("=")
        if not (equals and key.strip()):
            raise ValueError(f"not key=count: {entry!r}")
        counts[key.strip()] = _whole_number(count.strip())
    return counts


class CheckedEnv(environ.Env):
    """django-environ's reader, but numbers, yes/no, rates and per-engine counts are checked as read."""

    def _checked(self, var: str, default, parse, form: str):
        text = self.ENVIRON.get(var, "").strip()
        if not text:
            if default is self.NOTSET:
                raise SettingMalformed(f"{var} is not set; set it to {form}.")
            return default
        try:
            return parse(text)
        except ValueError:
            shown = text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"
            raise SettingMalformed(f'{var} must be {form}; it is "{shown}".') from None

    def int(self, var, default=environ.Env.NOTSET):
        return self._checked(var, default, _whole_number, "a whole number of 0 or more, e.g. 60")

    def float(self, var, default=environ.Env.NOTSET):
        return self._checked(var, default, _non_negative_number, "a number of 0 or more, e.g. 2.5")

    def bool(self, var, default=environ.Env.NOTSET):
        return self._checked(var, default, _yes_or_no, 'yes or no ("true"/"false", "1"/"0", "on"/"off")')

    def rate(self, var: str, default: str) -> str:
        """A rate "count/seconds", kept as text (the form the README documents and the services read)."""
        return self._checked(var, default, _rate_text, '"count/seconds", e.g. 60/60')

    def counts(self, var: str) -> dict[str, int]:
        """Whole numbers per key, e.g. per engine: "wanx-x-painting=2,wanx2.1-imageedit=2"."""
        return self._checked(var, {}, _counts, 'a list of "engine=count", e.g. wanx-x-painting=2')
