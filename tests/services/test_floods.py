"""Flood limits per network: new jobs and new visitors from one address (or IPv6 /64), sized for a room."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils import translation

from inpaint.services import floods
from inpaint.services.owners import address_network
from inpaint.services.refusals import JobActionRefused

pytestmark = pytest.mark.django_db


def test_new_jobs_per_network_are_limited(settings):
    settings.INPAINT_CREATE_RATE = "3/60"
    for _ in range(3):
        floods.network_job_rate_check("203.0.113.9")
    with pytest.raises(JobActionRefused, match="Too many new jobs from your network"):
        floods.network_job_rate_check("203.0.113.9")
    floods.network_job_rate_check("203.0.113.10")


def test_new_visitors_per_network_are_limited_and_known_visitors_keep_working(settings):
    settings.INPAINT_NEW_VISITOR_RATE = "3/600"
    for person in ("a", "b", "c"):
        floods.visitor_arrival_check(person, "198.51.100.1")
    with pytest.raises(JobActionRefused, match="3 new people have started from your network"):
        floods.visitor_arrival_check("d", "198.51.100.1")
    # The three inside keep working; the fourth is refused again (not counted as seen); another network is not.
    for person in ("a", "b", "c", "a"):
        floods.visitor_arrival_check(person, "198.51.100.1")
    with pytest.raises(JobActionRefused):
        floods.visitor_arrival_check("d", "198.51.100.1")
    floods.visitor_arrival_check("d", "198.51.100.2")


@pytest.mark.parametrize(("address", "network"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("not an address", "not an address"),
])
def test_an_ipv6_visitor_counts_by_their_64(address, network):
    assert address_network(address) == network


def test_the_cache_keeps_far_more_counters_than_djangos_default():
    # 300 entries (Django's default) is a few seconds of a cookie-less flood; evicted counters start again at 0.
    assert caches["default"]._max_entries == settings.INPAINT_CACHE_MAX_ENTRIES >= 100_000


def test_a_flood_that_straddles_a_windows_end_is_not_let_through_twice(settings, monkeypatch):
    settings.INPAINT_CREATE_RATE = "30/60"
    window_end = 60 * 29_000_000  # a minute's end, as a timestamp
    moment = {"now": window_end - 1}
    monkeypatch.setattr(floods, "timezone", SimpleNamespace(
        now=lambda: datetime.datetime.fromtimestamp(moment["now"], tz=datetime.timezone.utc)))
    taken = sum(floods.rate_take("create-rate", "203.0.113.9", "30/60") for _ in range(30))
    assert taken == 30
    moment["now"] = window_end + 1  # the next fixed window, two seconds later
    assert sum(floods.rate_take("create-rate", "203.0.113.9", "30/60") for _ in range(30)) == 0
    moment["now"] = window_end + 59
    assert not floods.rate_take("create-rate", "203.0.113.9", "30/60")
    assert floods.rate_take("create-rate", "203.0.113.10", "30/60")  # another network is not held back
    # Once the last minute holds fewer than the limit, arrivals are taken again, as the flood slides out.
    moment["now"] = window_end + 60 + 30
    assert floods.rate_take("create-rate", "203.0.113.9", "30/60")


def test_a_flood_refusal_is_in_the_readers_language(settings):
    settings.INPAINT_CREATE_RATE = "1/60"
    floods.network_job_rate_check("203.0.113.20")
    with translation.override("zh-hans"), pytest.raises(JobActionRefused, match="每 60 秒最多 1 个"):
        floods.network_job_rate_check("203.0.113.20")
