"""Flood limits per network: new jobs and new visitors from one address (or IPv6 /64), sized for a room."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches

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
