"""The client's address: forwarded entries believed only from trusted proxies, read from the right."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from inpaint.services.addresses import request_client_address

CDN_NETWORK = "198.51.100.0/24"


def request_from(remote: str, forwarded: str | None = None):
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


@pytest.fixture
def behind_proxy(settings):
    settings.INPAINT_BEHIND_PROXY = True
    settings.INPAINT_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    return settings


def test_a_spoofed_header_from_a_client_that_is_no_proxy_is_ignored(behind_proxy):
    assert request_client_address(request_from("203.0.113.9", "10.0.0.1")) == "203.0.113.9"


def test_without_behind_proxy_the_header_is_ignored_even_from_a_proxy(behind_proxy):
    behind_proxy.INPAINT_BEHIND_PROXY = False
    assert request_client_address(request_from("127.0.0.1", "203.0.113.9")) == "127.0.0.1"


def test_the_entry_nginx_added_is_the_client(behind_proxy):
    # The client sent its own made-up entry first; nginx appended the address it saw.
    assert request_client_address(request_from("127.0.0.1", "10.9.9.9, 203.0.113.9")) == "203.0.113.9"


def test_behind_a_cdn_and_nginx_the_entry_before_the_cdn_is_the_client(behind_proxy):
    behind_proxy.INPAINT_TRUSTED_PROXIES = ["127.0.0.1", CDN_NETWORK]
    chain = "10.9.9.9, 203.0.113.9, 198.51.100.20"  # spoofed, the client (added by the CDN), the CDN (by nginx)
    assert request_client_address(request_from("127.0.0.1", chain)) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_only_gives_its_first_entry(behind_proxy):
    behind_proxy.INPAINT_TRUSTED_PROXIES = ["127.0.0.1", CDN_NETWORK]
    assert request_client_address(request_from("127.0.0.1", "198.51.100.7, 198.51.100.20")) == "198.51.100.7"


def test_a_proxy_that_sent_no_header_leaves_its_own_address(behind_proxy):
    assert request_client_address(request_from("::1")) == "::1"
