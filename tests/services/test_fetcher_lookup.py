"""The fetcher's name look-up is held to the fetch's deadline: getaddrinfo has no timeout of its own."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from inpaint.services import fetcher
from inpaint.services.fetcher import FetchFailed, FetchLimits, url_fetch


def test_a_resolver_that_never_answers_is_cut_at_the_deadline(monkeypatch):
    resolver_released = threading.Event()

    def silent_resolver(*args, **kwargs):
        resolver_released.wait(30)  # a resolver that never answers (its own timeout is far off)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", silent_resolver)
    monkeypatch.setattr(fetcher, "_connection_open", pytest.fail)
    started = time.monotonic()
    try:
        with pytest.raises(FetchFailed, match="took too long"):
            url_fetch("https://silent.example/r.png", FetchLimits(max_bytes=1024, seconds=0.5, connect_seconds=2))
    finally:
        resolver_released.set()
    assert time.monotonic() - started < 2


def test_an_answer_within_the_deadline_is_used(monkeypatch):
    def slow_resolver(host, port, *args, **kwargs):
        time.sleep(0.2)  # the stand-in for a resolver that answers late, but within the deadline
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_resolver)
    with pytest.raises(fetcher.FetchRefused, match="private network"):
        url_fetch("https://slow.example/r.png", FetchLimits(max_bytes=1024, seconds=5, connect_seconds=2))
