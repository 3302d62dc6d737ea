"""The flood limits' counts: one atomic upsert per arrival, so parallel posts never slip past a limit together."""

from __future__ import annotations

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from inpaint.models import RateCount
from inpaint.services import floods

LIMIT = 10
POSTS = 40


@pytest.mark.django_db(transaction=True)
def test_parallel_arrivals_on_separate_connections_are_each_counted_once():
    start = threading.Barrier(POSTS)

    def arrive(_) -> bool:
        start.wait()
        try:
            return floods.rate_take("race", "203.0.113.50", f"{LIMIT}/600")
        finally:
            connection.close()  # each thread had its own connection to the test database

    with ThreadPoolExecutor(max_workers=POSTS) as pool:
        taken = list(pool.map(arrive, range(POSTS)))
    assert taken.count(True) == LIMIT
    [row] = RateCount.objects.all()
    assert row.count == POSTS


@pytest.mark.django_db
def test_each_window_counts_apart_and_passed_windows_are_swept(monkeypatch):
    assert floods.rate_take("sweep", "198.51.100.7", "1/60")
    assert not floods.rate_take("sweep", "198.51.100.7", "1/60")
    # Two windows on, the window slid past both arrivals (one window on, it still weighs them).
    later = timezone.now() + datetime.timedelta(seconds=121)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert floods.rate_take("sweep", "198.51.100.7", "1/60")
    monkeypatch.setattr(timezone, "now", lambda: later + datetime.timedelta(seconds=60))
    assert floods.rate_counts_expire() == 1
    assert RateCount.objects.count() == 1
