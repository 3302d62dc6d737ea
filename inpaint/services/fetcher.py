"""Fetching a URL someone else gave us, without letting it reach inside our network.

Result links come from answers over the network, and the gateway will take URLs from scripts, so a
URL is checked like any input, and what is checked is exactly what is connected to:

- it is parsed once, by urllib3's own parser (the one the connection uses), and refused when it
  carries user info or a backslash, where parsers disagree about which host is meant;
- the host name is looked up once and the connection goes to that pinned address, so a second,
  different answer (DNS rebinding) is never used; TLS still checks the certificate against the name
  and sends it as SNI; a failed lookup connects nowhere;
- every address must be public, including an IPv4 address carried inside an IPv6 one (IPv4-mapped,
  IPv4-compatible, 6to4, NAT64, Teredo);
- https only, except on the first hop to a trusted host (``FetchLimits.trusted_hosts``), which may
  also be plain http and private: that is how a DashScope stand-in on 127.0.0.1 serves results;
- redirects are followed here, one hop at a time, each checked again, at most ``max_redirects``;
- one wall-clock deadline covers the whole fetch (look-ups, connections, headers and body, every
  hop): a look-up is waited for only until it, and a watchdog shuts the socket when it passes,
  however slowly bytes trickle in;
- the body is capped at ``max_bytes`` and never decompressed;
- no proxy or other setting is taken from the environment: urllib3 alone reads none.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import LocationParseError
from urllib3.util.ssl_match_hostname import CertificateError
from urllib3.util import Url, parse_url

CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Prefixes whose last 32 bits are an IPv4 address the packet really goes to: NAT64 (RFC 6052) and
# the deprecated IPv4-compatible form. 6to4, Teredo and IPv4-mapped have their own accessors.
IPV4_CARRYING_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))
# Never public, though the Python in use may call them global: local-use NAT64 (RFC 8215).
NOT_PUBLIC_NETWORKS = (ipaddress.ip_network("64:ff9b:1::/48"),)
# CertificateError (a certificate for another name) is a ValueError, not an OSError.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError, CertificateError)


class FetchRefused(Exception):
    """A URL that will never give a usable body: a bad host or scheme, a redirect inward, too large."""


class FetchFailed(Exception):
    """A fetch that failed this time; ``status`` is the HTTP status when there was one."""

    def __init__(self, reason: str, status: int = 0):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    seconds: float  # the whole fetch, every hop
    connect_seconds: float  # each connection, within the whole
    trusted_hosts: frozenset[str] = field(default_factory=frozenset)
    max_redirects: int = 5


@dataclass(frozen=True)
class _Target:
    url: Url
    host: str  # as looked up: lower case, without IPv6 brackets
    port: int


def address_is_public(address: str) -> bool:
    """Whether a packet to this address leaves for the public internet (and not back inside)."""
    ip = ipaddress.ip_address(address)
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in NOT_PUBLIC_NETWORKS):
            return False
        return all(address_is_public(str(inner)) for inner in _ipv4_carried(ip))
    return True


def _ipv4_carried(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    carried += [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for network in IPV4_CARRYING_PREFIXES if ip in network]
    return [inner for inner in carried if inner is not None]


def target_parse(url: str) -> _Target:
    """The URL as the connection will see it; refuses what different parsers could read differently."""
    if "\\" in url or any(character.isspace() or not character.isprintable() for character in url):
        raise FetchRefused("the link has a backslash, a space or a control character")
    try:
        parsed = parse_url(url)
    except LocationParseError:
        raise FetchRefused("the link cannot be read") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchRefused(f"not https: {parsed.scheme or 'no scheme'}")
    # An empty user info ("http://@host/") leaves parse_url's auth unset, so the authority is looked at too.
    if parsed.auth is not None or "@" in url.partition("//")[2].split("/", 1)[0]:
        raise FetchRefused("the link carries a user name or password")
    return _Target(parsed, parsed.host.strip("[]").lower(), parsed.port or (443 if parsed.scheme == "https" else 80))


def _addresses_look_up(target: _Target, seconds: float) -> list[str]:
    """The host's addresses, within ``seconds``: getaddrinfo itself takes no timeout, and a resolver
    that never answers would otherwise hold the fetch (and its worker) past the whole deadline."""
    answer: list = []
    looked_up = threading.Event()

    def look_up() -> None:
        try:
            answer.append(socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError):
            pass  # nothing is connected to; the name may resolve on a later try
        finally:
            looked_up.set()

    # A daemon thread: one left waiting on a silent resolver ends with the resolver's own timeout.
    threading.Thread(target=look_up, name="fetcher-lookup", daemon=True).start()
    if not looked_up.wait(seconds):
        raise FetchFailed("took too long")
    if not answer or not answer[0]:
        raise FetchFailed("the host name could not be looked up")
    return [info[4][0] for info in answer[0]]


def _address_pin(target: _Target, *, trusted: bool, deadline: float) -> str:
    """The one address this hop connects to, looked up once, before the deadline."""
    addresses = _addresses_look_up(target, max(0.0, deadline - time.monotonic()))
    if not trusted and not all(address_is_public(address) for address in addresses):
        raise FetchRefused("the link points into a private network")
    return addresses[0]


def _connection_open(target: _Target, address: str, timeout: float) -> HTTPConnection:
    if target.url.scheme == "https":
        # Connected to the pinned address; the certificate is still checked against the name.
        connection = HTTPSConnection(address, target.port, timeout=timeout, server_hostname=target.host,
                                     assert_hostname=target.host, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:
        connection = HTTPConnection(address, target.port, timeout=timeout)
    connection.connect()
    return connection


def _socket_shut(connection: HTTPConnection) -> None:
    # Called from the watchdog thread: shutting the socket (not closing it) wakes the blocked read.
    try:
        socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        pass  # already closed: the fetch has ended anyway


class _Hop:
    """One request on its own connection to the pinned address, bounded by the fetch's deadline."""

    def __init__(self, target: _Target, address: str, limits: FetchLimits, deadline: float):
        self.target, self.deadline = target, deadline
        self.connection = _connection_open(target, address, min(limits.connect_seconds, self.remaining()))
        self.watchdog = threading.Timer(self.remaining(), _socket_shut, args=(self.connection,))
        self.watchdog.daemon = True
        self.watchdog.start()

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchFailed("took too long")
        return left

    def get(self) -> urllib3.BaseHTTPResponse:
        self.connection.timeout = self.remaining()
        self.connection.request("GET", self.target.url.request_uri, headers={
            "Host": self.target.url.netloc, "Accept": "*/*", "Accept-Encoding": "identity",
            "User-Agent": "inpaint-studio-fetcher"}, preload_content=False, decode_content=False)
        return self.connection.getresponse()

    def body_read(self, response: urllib3.BaseHTTPResponse, max_bytes: int) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchRefused("too large")
        body = bytearray()
        while chunk := response.read1(CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                raise FetchRefused("too large")
            self.remaining()
        return bytes(body)

    def close(self) -> None:
        self.watchdog.cancel()
        self.connection.close()


def url_fetch(url: str, limits: FetchLimits) -> bytes:
    """The body behind ``url`` (HTTP 200); raises FetchRefused or FetchFailed."""
    deadline = time.monotonic() + limits.seconds
    for hop_number in range(limits.max_redirects + 1):
        target = target_parse(url)
        trusted = hop_number == 0 and target.host in limits.trusted_hosts
        if target.url.scheme != "https" and not trusted:
            raise FetchRefused(f"not https: {target.url.scheme}")
        address = _address_pin(target, trusted=trusted, deadline=deadline)
        hop = None
        try:
            hop = _Hop(target, address, limits, deadline)
            response = hop.get()
            if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                url = urljoin(target.url.url, response.headers["Location"])
                continue
            if response.status != 200:
                raise FetchFailed(f"HTTP {response.status}", response.status)
            return hop.body_read(response, limits.max_bytes)
        except TRANSPORT_ERRORS as exc:
            if time.monotonic() >= deadline:
                raise FetchFailed("took too long") from None
            raise FetchFailed(exc.__class__.__name__) from None
        finally:
            if hop is not None:
                hop.close()
    raise FetchRefused("too many redirects")
