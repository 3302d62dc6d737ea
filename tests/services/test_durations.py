"""Deadlines in plain words on a card."""

from __future__ import annotations

import pytest

from inpaint.services.durations import duration_in_words


@pytest.mark.parametrize(("seconds", "words"), [
    (0.4, "1 second"), (1, "1 second"), (3, "3 seconds"), (59, "59 seconds"), (90, "90 seconds"),
    (120, "2 minutes"), (900, "15 minutes"), (3600, "60 minutes"), (7200, "2 hours"), (86400, "24 hours"),
])
def test_duration_in_words_never_says_zero_and_picks_a_readable_unit(seconds, words):
    assert duration_in_words(seconds) == words
