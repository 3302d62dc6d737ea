"""What the worker stores on a job for its card (why it waits, why it failed) is written in English, the language
the worker runs in, and put in the reader's language as the card is shown (the ``translated`` filter,
inpaint.templatetags.stored_messages).

A fixed message is its own gettext msgid (marked with ``gettext_noop`` where it is written). A message with
values in it is made with ``stored_fill`` from a template registered with ``stored_template``; the card reads
the values back out of the stored text against that template and fills them into its translation. A length of
time among the values (inpaint.services.durations) is written again in the reader's language.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext

from inpaint.services.durations import duration_in_words

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_DURATION = re.compile(r"(\d+) (second|minute|hour)s?")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}
_templates: dict[str, re.Pattern] = {}


def stored_template(template: str) -> str:
    """Register a message template (``%(name)s`` placeholders only) whose filled text a job may store."""
    parts = _PLACEHOLDER.split(template)
    # Even parts are the template's own text, odd ones the names of its values.
    pattern = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
    _templates[template] = re.compile(pattern, re.DOTALL)
    return template


def stored_fill(template: str, **values) -> str:
    """The English text to store, from a registered template."""
    assert template in _templates, template
    return template % {name: str(value) for name, value in values.items()}


def stored_translate(text: str) -> str:
    """A stored message in the active language; as stored when it has no translation."""
    if not text:
        return text
    translated = gettext(text)
    if translated != text:
        return translated
    for template, pattern in _templates.items():
        match = pattern.fullmatch(text)
        if match:
            return gettext(template) % {name: _value_translate(value) for name, value in match.groupdict().items()}
    return text


def _value_translate(value: str) -> str:
    duration = _DURATION.fullmatch(value)
    if duration:
        return duration_in_words(int(duration[1]) * _UNIT_SECONDS[duration[2]])
    return stored_translate(value)
