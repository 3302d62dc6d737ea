"""The fetcher's test rig: a real HTTP server on 127.0.0.1, host names answered from a table, and the fetch
limits a test names (shared by the fetcher's modules; fixtures apply where a module imports them)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable

import pytest

from inpaint.services.fetcher import FetchLimits


class LocalServer:
    """A real HTTP server on 127.0.0.1; ``answer`` writes each response, ``paths`` records each request."""

    def __init__(self, answer: Callable[[http.server.BaseHTTPRequestHandler], None]):
        self.paths: list[str] = []
        self.hosts: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.paths.append(self.path)
                server.hosts.append(self.headers.get("Host", ""))
                answer(self)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def body_answer(body: bytes, *, declared: int | None = None) -> Callable:
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body) if declared is None else declared))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


@pytest.fixture
def serve():
    servers: list[LocalServer] = []

    def start(answer: Callable = body_answer(b"picture")) -> LocalServer:
        servers.append(LocalServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def resolver(monkeypatch):
    """Names looked up by the fetcher answered from a table (None: the lookup fails); returns the names asked."""
    table: dict[str, list[str] | None] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        if table[host] is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table, asked


def limits(*trusted: str, seconds: float = 5, max_bytes: int = 1024) -> FetchLimits:
    return FetchLimits(max_bytes=max_bytes, seconds=seconds, connect_seconds=2, trusted_hosts=frozenset(trusted))
