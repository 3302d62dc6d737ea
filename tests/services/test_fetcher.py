"""The safe fetcher against a real HTTP server on 127.0.0.1: what it refuses never reaches the server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from inpaint.services import fetcher
from inpaint.services.fetcher import FetchFailed, FetchLimits, FetchRefused, address_is_public, url_fetch
from tests.services.fetcher_helpers import body_answer, limits, resolver, serve  # noqa: F401 (fixtures)

PUBLIC_ADDRESS = "93.184.216.34"


def test_a_trusted_local_host_is_fetched(serve):
    server = serve()
    assert url_fetch(f"http://127.0.0.1:{server.port}/r.png?sig=1", limits("127.0.0.1")) == b"picture"
    assert server.paths == ["/r.png?sig=1"]


@pytest.mark.parametrize("template", [
    "http://127.0.0.1:{port}\\@93.184.216.34/x",  # urlsplit sees the public host, urllib3 the local one
    "http://127.0.0.1:{port}\\@127.0.0.1:{port}/x",
    "http://127.0.0.1:{port}/x\\y",
])
def test_a_backslash_url_is_refused_before_any_connection(serve, template):
    server = serve()
    with pytest.raises(FetchRefused, match="backslash"):
        url_fetch(template.format(port=server.port), limits("127.0.0.1", "93.184.216.34"))
    assert server.paths == []


def test_a_backslash_cannot_borrow_the_trusted_hosts_name(resolver):
    table, asked = resolver
    table["dashscope.aliyuncs.com"] = [PUBLIC_ADDRESS]
    with pytest.raises(FetchRefused, match="backslash"):
        url_fetch("http://169.254.169.254\\@dashscope.aliyuncs.com/", limits("dashscope.aliyuncs.com"))
    assert asked == []


@pytest.mark.parametrize("template", [
    "http://127.0.0.1:{port}@127.0.0.1:{port}/x",
    "http://user:secret@127.0.0.1:{port}/x",
    "http://@127.0.0.1:{port}/x",
])
def test_a_url_with_user_info_is_refused(serve, template):
    server = serve()
    with pytest.raises(FetchRefused, match="user name or password"):
        url_fetch(template.format(port=server.port), limits("127.0.0.1"))
    assert server.paths == []


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.7", "169.254.169.254", "100.64.0.1", "224.0.0.1", "0.0.0.0",
    "::1", "fe80::1", "fc00::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "::127.0.0.1", "::a9fe:a9fe",  # IPv4-compatible
    "2002:7f00:1::", "2002:a9fe:a9fe::1",  # 6to4
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:7",  # NAT64
    "64:ff9b:1::5db8:d822",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo to 127.0.0.1
])
def test_inner_addresses_are_not_public(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", [PUBLIC_ADDRESS, "2606:4700:4700::1111", "2002:5db8:d822::1",
                                     "64:ff9b::5db8:d822", "::ffff:93.184.216.34"])
def test_public_addresses_are_public(address):
    assert address_is_public(address)


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "2002:7f00:1::", "64:ff9b::7f00:1", "10.0.0.7"])
def test_a_name_resolving_inward_is_refused_without_connecting(resolver, monkeypatch, address):
    table, _ = resolver
    table["results.example"] = [PUBLIC_ADDRESS, address]
    monkeypatch.setattr(fetcher, "_connection_open", pytest.fail)
    with pytest.raises(FetchRefused, match="private network"):
        url_fetch("https://results.example/r.png", limits())


def test_a_failed_lookup_connects_nowhere(resolver, monkeypatch):
    table, _ = resolver
    table["gone.example"] = None
    monkeypatch.setattr(fetcher, "_connection_open", pytest.fail)
    with pytest.raises(FetchFailed, match="could not be looked up"):
        url_fetch("https://gone.example/r.png", limits())


def test_the_name_is_looked_up_once_and_the_connection_goes_to_that_address(serve, resolver):
    server = serve()
    table, asked = resolver
    table["results.test"] = ["127.0.0.1"]
    assert url_fetch(f"http://results.test:{server.port}/r.png", limits("results.test")) == b"picture"
    assert asked == ["results.test"]
    assert server.hosts == [f"results.test:{server.port}"]


def test_a_proxy_from_the_environment_is_not_used(serve, monkeypatch):
    server = serve()
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    assert url_fetch(f"http://127.0.0.1:{server.port}/r.png", limits("127.0.0.1")) == b"picture"


def redirect_answer(location: str) -> Callable:
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return answer


@pytest.mark.parametrize(("location", "reason"), [
    ("/second", "not https"),  # the trusted host's own plain http is for the first hop only
    ("https://127.0.0.1:{port}/second", "private network"),
    ("https://localhost:{port}/second", "private network"),
    ("https://[::ffff:127.0.0.1]:{port}/second", "private network"),
    ("http://127.0.0.1:{port}\\@93.184.216.34/", "backslash"),
])
def test_a_redirect_inward_is_refused(serve, location, reason):
    server = serve()
    target = location.format(port=server.port)
    redirecting = serve(redirect_answer(target))
    with pytest.raises(FetchRefused, match=reason):
        url_fetch(f"http://127.0.0.1:{redirecting.port}/first", limits("127.0.0.1"))
    assert redirecting.paths == ["/first"] and server.paths == []


def test_redirects_stop_after_the_limit(serve):
    server = serve(redirect_answer("/again"))
    with pytest.raises(FetchRefused, match="too many redirects"):
        url_fetch(f"http://127.0.0.1:{server.port}/first", FetchLimits(
            max_bytes=1024, seconds=5, connect_seconds=2, trusted_hosts=frozenset({"127.0.0.1"}), max_redirects=0))
    assert server.paths == ["/first"]


def trickle_answer(handler):
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.05)


def test_the_deadline_covers_the_whole_fetch_however_slowly_bytes_trickle_in(serve):
    server = serve(trickle_answer)
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="took too long"):
        url_fetch(f"http://127.0.0.1:{server.port}/slow", limits("127.0.0.1", seconds=1.0, max_bytes=10_000))
    assert time.monotonic() - started < 1.5


def test_headers_that_never_come_are_cut_at_the_deadline(serve):
    release = threading.Event()
    server = serve(lambda handler: release.wait(10))
    started = time.monotonic()
    try:
        with pytest.raises(FetchFailed, match="took too long"):
            url_fetch(f"http://127.0.0.1:{server.port}/hang", limits("127.0.0.1", seconds=0.5))
        assert time.monotonic() - started < 1.0
    finally:
        release.set()


def test_a_declared_length_over_the_cap_is_refused(serve):
    server = serve(body_answer(b"", declared=10_000))
    with pytest.raises(FetchRefused, match="too large"):
        url_fetch(f"http://127.0.0.1:{server.port}/big", limits("127.0.0.1", max_bytes=1024))


def test_a_body_over_the_cap_is_cut_off_whatever_it_declares(serve):
    def undeclared(handler):
        handler.send_response(200)
        handler.end_headers()  # no length: the body runs until the connection closes
        try:
            for _ in range(100):
                handler.wfile.write(b"x" * 65536)
        except OSError:
            pass

    server = serve(undeclared)
    with pytest.raises(FetchRefused, match="too large"):
        url_fetch(f"http://127.0.0.1:{server.port}/big", limits("127.0.0.1", max_bytes=100_000))


def test_a_status_other_than_200_fails_with_its_status(serve):
    def not_found(handler):
        handler.send_error(404)

    server = serve(not_found)
    with pytest.raises(FetchFailed, match="HTTP 404") as failed:
        url_fetch(f"http://127.0.0.1:{server.port}/gone", limits("127.0.0.1"))
    assert failed.value.status == 404


def test_plain_http_to_an_untrusted_host_is_refused(serve):
    server = serve()
    with pytest.raises(FetchRefused, match="not https"):
        url_fetch(f"http://127.0.0.1:{server.port}/r.png", limits())
    assert server.paths == []
