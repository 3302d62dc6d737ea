"""What travels on the wire: recorded requests, answers (whole or streamed), DashScope's JSON and OSS's XML
error shapes, the service's own wording, and the HTTP handler that carries them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

from requests.structures import CaseInsensitiveDict

# DashScope reports task times in China Standard Time, not UTC.
CHINA_TZ = timezone(timedelta(hours=8))

MSG_INTERNAL_ERROR = "An internal error has occured, please try again later or contact service support."
MSG_SLOT_TIMEOUT = (
    "An internal timeout error has occured during execution, please try again later or contact service support."
)
MSG_RATE_LIMITED = "Requests rate limit exceeded, please try again later."
MSG_INVALID_URL = "The provided URL does not appear to be valid"
MSG_DOWNLOAD_FAILED = "Failed to download the input file"
MSG_DATA_INSPECTION = "Input data may contain inappropriate content."
MSG_BODY_INVALID = "Required body invalid, please check the request body format."


def format_task_time(epoch: float) -> str:
    """DashScope's ``YYYY-MM-DD HH:mm:ss.SSS`` timestamp."""
    return datetime.fromtimestamp(epoch, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def new_request_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """A DashScope JSON error answer: ``{"code", "message", "request_id"}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class OssError(ApiError):
    """An OSS-style XML error answer (temporary uploads and result links)."""


class TaskFailure(Exception):
    """Ends a task FAILED with ``output.code`` / ``output.message``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict
    body: bytes
    json: Any
    time: float


def request_record(method: str, raw_path: str, headers: Any, body: bytes) -> RecordedRequest:
    """One request as received: its path split from its query (first value of each name), its JSON if any."""
    split = urlsplit(raw_path)
    return RecordedRequest(
        method=method,
        path=split.path,
        query={name: values[0] for name, values in parse_qs(split.query, keep_blank_values=True).items()},
        headers=CaseInsensitiveDict(headers.items()),
        body=body,
        json=json_parse(body, headers.get("Content-Type", "")),
        time=time.time(),
    )


@dataclass
class Response:
    """An answer. `chunks`, when given, is streamed instead of `body`: with a Content-Length of `length`,
    or chunked when `length` is None, so a huge answer never sits in memory."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    length: int | None = None


def json_response(status: int, payload: dict) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")


def api_error_response(error: ApiError) -> Response:
    return json_response(error.status, {"code": error.code, "message": error.message, "request_id": new_request_id()})


def oss_request_id() -> str:
    return uuid.uuid4().hex[:24].upper()


def oss_error_response(error: OssError) -> Response:
    request_id = oss_request_id()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Error>\n"
        f"  <Code>{xml_escape(error.code)}</Code>\n"
        f"  <Message>{xml_escape(error.message)}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "  <HostId>127.0.0.1</HostId>\n"
        "</Error>\n"
    )
    return Response(error.status, body.encode(), "application/xml", {"x-oss-request-id": request_id})


def gateway_error_response(status: int) -> Response:
    """What a load balancer in front of DashScope answers: HTML, not DashScope JSON."""
    body = (
        f"<html><head><title>{status}</title></head>"
        f"<body><center><h1>{status}</h1></center><hr><center>nginx</center></body></html>"
    )
    return Response(status, body.encode(), "text/html")


def json_parse(body: bytes, content_type: str) -> Any:
    """The JSON body, or None when it is absent, not declared as JSON, or malformed."""
    if not body or "json" not in content_type.lower():
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def multipart_parse(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """Form fields in order as (name, value); split on the boundary by hand so file bytes stay exactly as sent."""
    malformed = OssError(
        400, "InvalidArgument", "The body of your POST request is not well-formed multipart/form-data."
    )
    header = BytesHeaderParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode())
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not boundary:
        raise malformed
    fields = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):  # closing delimiter
            break
        head, separator, value = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = BytesHeaderParser().parsebytes(head + b"\r\n\r\n").get_param("name", header="content-disposition")
        if not separator or not name:
            raise malformed
        fields.append((name, value.removesuffix(b"\r\n")))
    return fields


class Handler(BaseHTTPRequestHandler):
    """Hands each request to ``server.standin.handle`` and writes its answer back."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: tests inspect ``DashScopeStandIn.requests`` instead of access logs."""

    def _serve(self, method: str) -> None:
        # Read the whole body first, even for requests answered with an error, so keep-alive connections stay in sync.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        response = self.server.standin.handle(method, self.path, self.headers, body)
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout, or a byte cap on a streamed body); nothing left to tell it.
            self.close_connection = True

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.chunks is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        chunked = response.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(response.length))
        self.end_headers()
        for chunk in response.chunks:
            if chunked:
                self.wfile.write(f"{len(chunk):X}\r\n".encode())
            self.wfile.write(chunk)
            if chunked:
                self.wfile.write(b"\r\n")
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
