"""Fetching a finished image from the link the service gave, without trusting the link.

The link comes from an answer over the network, so it is checked like any input: https
only (plain http only for DashScope's own host and hosts a setting names, which is how a
stand-in on 127.0.0.1 serves its results), redirects followed by hand and never to a
loopback, link-local or private address, the body streamed with a byte cap and a total time
limit, and only pictures kept.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

MAX_RESULT_BYTES = 50 * 1024 * 1024
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024


class DownloadRefused(Exception):
    """A link that will never give a usable image (a bad host, a redirect inward, too large, not an image)."""


class DownloadFailed(Exception):
    """A download that failed this time; ``status`` is the HTTP status when there was one."""

    def __init__(self, reason: str, status: int = 0):
        super().__init__(reason)
        self.status = status


def _trusted_hosts() -> set[str]:
    return {urlsplit(settings.DASHSCOPE_BASE_URL).hostname or "", *settings.INPAINT_DOWNLOAD_HOSTS} - {""}


def _is_public(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return True  # the request itself will fail to connect; nothing inward is reached
    return all(ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses)


def _check_url(url: str, *, first: bool) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if first and host in _trusted_hosts() and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise DownloadRefused(f"not https: {parts.scheme or 'no scheme'}")
    if not _is_public(host):
        raise DownloadRefused("the link points into a private network")


def result_download(url: str) -> bytes:
    """The body behind a result link; raises DownloadRefused or DownloadFailed."""
    deadline = time.monotonic() + settings.INPAINT_DOWNLOAD_TIMEOUT
    first = True
    for _ in range(MAX_REDIRECTS + 1):
        _check_url(url, first=first)
        try:
            response = requests.get(url, stream=True, allow_redirects=False,
                                    timeout=(settings.DASHSCOPE_TIMEOUT[0], settings.INPAINT_DOWNLOAD_TIMEOUT))
        except requests.RequestException as exc:
            raise DownloadFailed(exc.__class__.__name__) from None
        with response:
            if response.is_redirect:
                url, first = urljoin(url, response.headers.get("Location", "")), False
                continue
            if response.status_code != 200:
                raise DownloadFailed(f"HTTP {response.status_code}", response.status_code)
            return _read_capped(response, deadline)
    raise DownloadRefused("too many redirects")


def _read_capped(response: requests.Response, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESULT_BYTES:
        raise DownloadRefused("too large")
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK_BYTES):
            body += chunk
            if len(body) > MAX_RESULT_BYTES:
                raise DownloadRefused("too large")
            if time.monotonic() > deadline:
                raise DownloadFailed("took too long")
    except requests.RequestException as exc:
        raise DownloadFailed(exc.__class__.__name__) from None
    return bytes(body)
