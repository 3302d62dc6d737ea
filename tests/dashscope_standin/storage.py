"""DashScope's temporary storage (getPolicy, then an OSS form POST, then ``oss://`` URLs), the signing both it and
the result links use, and how a running task fetches its inputs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import requests as http_client

from tests.dashscope_standin.wire import (
    CHINA_TZ,
    MSG_DOWNLOAD_FAILED,
    ApiError,
    OssError,
    RecordedRequest,
    Response,
    TaskFailure,
    json_response,
    multipart_parse,
    new_request_id,
    oss_request_id,
)

OSS_UPLOAD_PATH = "/oss"
INPUT_DOWNLOAD_TIMEOUT_SECONDS = 10
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)


class Signer:
    """One OSS access key of the stand-in: HMAC-SHA1 signatures for upload policies and result links."""

    def __init__(self) -> None:
        self._secret = uuid.uuid4().bytes
        self.access_key_id = "LTAI5tStandIn" + uuid.uuid4().hex[:10]

    def sign(self, text: str) -> str:
        return base64.b64encode(hmac.new(self._secret, text.encode(), hashlib.sha1).digest()).decode()

    def matches(self, text: str, signature: str) -> bool:
        return hmac.compare_digest(signature, self.sign(text))


class TemporaryStorage:
    """Upload policies, the OSS form POST, and the files it holds, each bound to the model named in its policy."""

    def __init__(self, signer: Signer, account_id: str, lock: threading.RLock):
        self._signer = signer
        self._account_id = account_id
        self._lock = lock
        self._files: dict[str, bytes] = {}
        self._file_models: dict[str, str] = {}
        # Never route the stand-in's own downloads through a proxy from the environment.
        self._fetcher = http_client.Session()
        self._fetcher.trust_env = False

    @property
    def files(self) -> dict[str, bytes]:
        with self._lock:
            return dict(self._files)

    def close(self) -> None:
        self._fetcher.close()

    def policy_issue(self, request: RecordedRequest, upload_host: str, ttl_seconds: int, max_mb: float) -> Response:
        """``GET /uploads?action=getPolicy&model=…``: a signed policy for uploading into a fresh directory."""
        if request.query.get("action") != "getPolicy":
            raise ApiError(400, "InvalidParameter", "The action must be getPolicy")
        model = request.query.get("model")
        if not model:
            raise ApiError(400, "InvalidParameter", "Field required: model")
        now = datetime.now(timezone.utc)
        upload_dir = f"dashscope-instant/{self._account_id}/{now.astimezone(CHINA_TZ):%Y-%m-%d}/{uuid.uuid4()}"
        expiration = now + timedelta(seconds=ttl_seconds)
        policy_document = {
            "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "conditions": [
                ["content-length-range", 0, int(max_mb * 1024 * 1024)],
                ["starts-with", "$key", upload_dir],
                {"x-oss-object-acl": "private"},
                {"x-oss-forbid-overwrite": "true"},
            ],
            # Not part of a real OSS policy: how the stand-in binds the upload to the model that asked for it.
            "model": model,
        }
        policy = base64.b64encode(json.dumps(policy_document).encode()).decode()
        data = {
            "policy": policy,
            "signature": self._signer.sign(policy),
            "upload_dir": upload_dir,
            "upload_host": upload_host,
            "expire_in_seconds": ttl_seconds,
            "max_file_size_mb": max_mb,
            "capacity_limit_mb": 999999,
            "oss_access_key_id": self._signer.access_key_id,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }
        return json_response(200, {"request_id": new_request_id(), "data": data})

    def upload_accept(self, request: RecordedRequest) -> Response:
        """The OSS form POST: checks the signature and every policy condition, then stores the file."""
        fields = multipart_parse(request.body, request.headers.get("Content-Type", ""))
        if not fields or fields[-1][0] != "file":
            raise OssError(400, "InvalidArgument", "The file must be the last form field.")
        form = {name: value.decode("utf-8", "replace") for name, value in fields[:-1]}
        content = fields[-1][1]
        for required in ("OSSAccessKeyId", "Signature", "policy", "key"):
            if not form.get(required):
                raise OssError(400, "InvalidArgument", f"The form field {required} is missing.")
        if form["OSSAccessKeyId"] != self._signer.access_key_id:
            raise OssError(
                403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records."
            )
        if not self._signer.matches(form["policy"], form["Signature"]):
            raise OssError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
        policy = json.loads(base64.b64decode(form["policy"]))
        expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        if datetime.now(timezone.utc) >= expiration:
            raise OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        for condition in policy["conditions"]:
            _policy_condition_check(condition, form, content)
        key = form["key"]
        with self._lock:
            if key in self._files and form.get("x-oss-forbid-overwrite", "").lower() == "true":
                raise OssError(
                    409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten."
                )
            self._files[key] = content
            self._file_models[key] = policy["model"]
        status = 200 if form.get("success_action_status") == "200" else 204  # OSS's default success is 204
        return Response(status, headers={"x-oss-request-id": oss_request_id()})

    def input_fetch(self, model: str, url: str) -> bytes:
        """The bytes behind an input URL as a task of `model` sees them: ``oss://``, ``data:`` or http(s)."""
        download_failed = TaskFailure("BadRequest.InputDownloadFailed", MSG_DOWNLOAD_FAILED)
        if url.startswith("oss://"):
            key = url.removeprefix("oss://")
            with self._lock:
                # Temporary files are bound to the model named when the upload policy was issued.
                if self._file_models.get(key) != model:
                    raise download_failed
                return self._files[key]
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.partition(";base64,")[2], validate=True)
            except ValueError:
                raise download_failed from None
        try:
            response = self._fetcher.get(url, timeout=INPUT_DOWNLOAD_TIMEOUT_SECONDS)
        except http_client.RequestException:
            raise download_failed from None
        if response.status_code != 200:
            raise download_failed
        return response.content


def _policy_condition_check(condition: list | dict, form: dict[str, str], content: bytes) -> None:
    condition_failed = OssError(
        403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
    )
    if isinstance(condition, dict):
        if any(form.get(name) != value for name, value in condition.items()):
            raise condition_failed
    elif condition[0] == "content-length-range":
        if not condition[1] <= len(content) <= condition[2]:
            raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    elif condition[0] == "starts-with":
        if not form.get(condition[1].removeprefix("$"), "").startswith(condition[2]):
            raise condition_failed
