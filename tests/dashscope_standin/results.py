"""Result links: signed, expiring OSS-style URLs to each slot's PNG, and the ways a download of one can go wrong.

Faults are queued (the next `count` downloads) or standing (every download until cleared); a queued fault
goes first. Each applies only to a valid, unexpired link, so it stands for trouble on the way, not a bad link.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol
from urllib.parse import quote

from tests.dashscope_standin.storage import SIGNATURE_MISMATCH, Signer
from tests.dashscope_standin.wire import OssError, RecordedRequest, Response, oss_request_id

RESULT_PATH = re.compile(r"^/results/(?P<task_id>[^/]+)/(?P<slot>\d+)\.png$")
STREAM_CHUNK = bytes(1024 * 1024)
NOT_AN_IMAGE = (
    b"<!DOCTYPE html><html><head><title>Access verification</title></head>"
    b"<body><p>Please enable JavaScript to continue.</p></body></html>"
)
# What OSS answers for each status a download may be failed with.
OSS_FAILURES = {
    403: ("AccessDenied", "You have no right to access this object because of bucket acl."),
    404: ("NoSuchKey", "The specified key does not exist."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Please reduce your request rate."),
}


class ResultOwner(Protocol):
    """What a link serves from: a task, or a synchronous call, with its PNGs by slot once it has them."""

    task_id: str
    results_expire_at: float | None
    result_pngs: dict[int, bytes]


# A fault turns the slot's real PNG into the answer that goes out instead (or raises an OssError).
Fault = Callable[[bytes], Response]


def failure_fault(status: int) -> Fault:
    if status not in OSS_FAILURES:
        raise ValueError(f"status must be one of {sorted(OSS_FAILURES)}")
    code, message = OSS_FAILURES[status]

    def fail(png: bytes) -> Response:
        raise OssError(status, code, message)

    return fail


def redirect_fault(url: str) -> Fault:
    return lambda png: Response(302, headers={"Location": url, "x-oss-request-id": oss_request_id()})


def corrupt_fault(body: bytes, content_type: str) -> Fault:
    return lambda png: Response(200, body, content_type, {"x-oss-request-id": oss_request_id()})


class ResultLinks:
    """Signs result links, serves them, and counts what was fetched."""

    def __init__(self, signer: Signer, lock: threading.RLock):
        self._signer = signer
        self._lock = lock
        self.downloads = 0
        self.bytes_sent = 0
        self._queued: deque[Fault] = deque()
        self._standing: Fault | None = None

    def link(self, root_url: str, task: ResultOwner, slot: int) -> str:
        expires = int(task.results_expire_at)
        signature = self._signer.sign(_string_to_sign(task.task_id, slot, expires))
        return (
            f"{root_url}/results/{task.task_id}/{slot}.png"
            f"?Expires={expires}&OSSAccessKeyId={self._signer.access_key_id}&Signature={quote(signature, safe='')}"
        )

    def faults_add(self, fault: Fault, count: int | None) -> None:
        """The next `count` downloads meet `fault`; with `count` None, every download from now on does."""
        with self._lock:
            if count is None:
                self._standing = fault
            else:
                self._queued.extend(fault for _ in range(count))

    def faults_clear(self) -> None:
        with self._lock:
            self._queued.clear()
            self._standing = None

    def oversize_fault(self, total_bytes: int, declare_length: bool) -> Fault:
        """The real PNG padded with zeros to `total_bytes`, streamed a megabyte at a time."""

        def oversize(png: bytes) -> Response:
            if total_bytes <= len(png):
                raise ValueError(f"an oversize result must be larger than the {len(png)} bytes of the image")
            return Response(
                200,
                content_type="image/png",
                headers={"x-oss-request-id": oss_request_id()},
                chunks=self._padded_stream(png, total_bytes),
                length=total_bytes if declare_length else None,
            )

        return oversize

    def _padded_stream(self, png: bytes, total_bytes: int) -> Iterator[bytes]:
        remaining = total_bytes - len(png)
        yield png
        self._sent(len(png))  # counted once the handler comes back for more, i.e. once the write went through
        while remaining:
            chunk = memoryview(STREAM_CHUNK)[: min(remaining, len(STREAM_CHUNK))]
            yield chunk
            self._sent(len(chunk))
            remaining -= len(chunk)

    def _sent(self, count: int) -> None:
        with self._lock:
            self.bytes_sent += count

    def serve(self, request: RecordedRequest, task_id: str, slot: int, task: ResultOwner | None) -> Response:
        """A GET of a result link: the PNG, an OSS error, or what an injected fault makes of it."""
        with self._lock:
            self.downloads += 1
        query = request.query
        try:
            expires = int(query.get("Expires", ""))
        except ValueError:
            raise OssError(403, *OSS_FAILURES[403]) from None
        if query.get("OSSAccessKeyId") != self._signer.access_key_id or not self._signer.matches(
            _string_to_sign(task_id, slot, expires), query.get("Signature", "")
        ):
            raise OssError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
        with self._lock:
            png = task.result_pngs.get(slot) if task else None
            if png is None:
                raise OssError(404, *OSS_FAILURES[404])
            if time.time() >= min(expires, task.results_expire_at):
                raise OssError(403, "AccessDenied", "Request has expired.")
            fault = self._queued.popleft() if self._queued else self._standing
        if fault is not None:
            return fault(png)
        self._sent(len(png))
        return Response(200, png, "image/png", {"x-oss-request-id": oss_request_id()})


def _string_to_sign(task_id: str, slot: int, expires: int) -> str:
    """OSS's V1 string-to-sign for a presigned GET."""
    return f"GET\n\n\n{expires}\n/results/{task_id}/{slot}.png"
