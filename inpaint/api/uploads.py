"""The gateway's temporary storage, as DashScope's works (reference §3.8): ``getPolicy`` hands out a signed policy
for a fresh folder, the SDK posts each local file to ``upload_host`` with it (no key: the policy is the right to
upload), then names the file ``oss://<key>`` with ``X-DashScope-OssResourceResolve: enable``.

A folder is ``api-uploads/<person>/<model>/<time issued>-<random>``, so an ``oss://`` URL opens only for the person
who uploaded it and the model named in the policy, as DashScope binds its files to both, and only for FILE_SECONDS
after its policy was issued; the hourly sweep deletes the folders older than that (uploads_expire).
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext

from inpaint.api.answers import ApiRefusal
from inpaint.models import ApiKey

UPLOAD_ROOT = "api-uploads"
POLICY_SALT = "inpaint.api.upload-policy"
SIGNATURE_SALT = "inpaint.api.upload-signature"
# DashScope's own: a policy is good for 300 s, its files for 48 h.
POLICY_SECONDS = 300
FILE_SECONDS = 48 * 3600
ACCESS_KEY_ID = "inpaint-gateway"
FOLDER_BYTES = 16
# One file name in the folder: no path, nothing hidden, of a length storage keeps.
FILE_NAME = r"[\w.-]{1,100}"


logger = logging.getLogger(__name__)


def _folder_pattern(user_id: int, model: str) -> re.Pattern:
    return re.compile(rf"{UPLOAD_ROOT}/{user_id}/{re.escape(model)}/\d+-[0-9a-f]{{{2 * FOLDER_BYTES}}}/"
                      rf"(?!\.){FILE_NAME}")


def _folder_expired(folder: str) -> bool:
    issued = folder.partition("-")[0]
    return not issued.isdigit() or int(issued) + FILE_SECONDS < time.time()


def upload_policy_issue(api_key: ApiKey, model: str, upload_host: str) -> dict:
    """The ``data`` of a getPolicy answer: where and how the SDK posts the files of one call."""
    upload_dir = f"{UPLOAD_ROOT}/{api_key.user_id}/{model}/{int(time.time())}-{secrets.token_hex(FOLDER_BYTES)}"
    policy = signing.dumps({"dir": upload_dir}, salt=POLICY_SALT)
    max_mb = settings.INPAINT_MAX_UPLOAD_BYTES / (1024 * 1024)
    return {"policy": policy, "signature": signing.Signer(salt=SIGNATURE_SALT).signature(policy),
            "upload_dir": upload_dir, "upload_host": upload_host, "expire_in_seconds": POLICY_SECONDS,
            "max_file_size_mb": max_mb, "capacity_limit_mb": max_mb, "oss_access_key_id": ACCESS_KEY_ID,
            "x_oss_object_acl": "private", "x_oss_forbid_overwrite": "true"}


def upload_accept(fields, file: UploadedFile | None) -> None:
    """Store the file of an upload form (``fields`` as the SDK sends them) under its key; raises ApiRefusal."""
    denied = ApiRefusal(403, "AccessDenied", gettext("Invalid according to Policy: Policy expired."))
    policy = fields.get("policy", "")
    signature = signing.Signer(salt=SIGNATURE_SALT).signature(policy)
    if fields.get("OSSAccessKeyId") != ACCESS_KEY_ID or not constant_time_compare(signature,
                                                                                 fields.get("Signature", "")):
        raise ApiRefusal(403, "SignatureDoesNotMatch", gettext("The upload's signature does not match its policy."))
    try:
        upload_dir = signing.loads(policy, salt=POLICY_SALT, max_age=POLICY_SECONDS)["dir"]
    except signing.BadSignature:
        raise denied from None
    key = fields.get("key", "")
    if not (key.startswith(upload_dir + "/") and re.fullmatch(rf"(?!\.){FILE_NAME}", key.removeprefix(upload_dir + "/"))):
        raise ApiRefusal(403, "AccessDenied", gettext("Invalid according to Policy: the key is not in the policy's "
                                                      "folder, or its file name is not plain."))
    if file is None:
        raise ApiRefusal(400, "InvalidArgument", gettext("The file must be the last form field."))
    if file.size > settings.INPAINT_MAX_UPLOAD_BYTES:
        raise ApiRefusal(400, "EntityTooLarge", gettext("Your proposed upload exceeds the maximum allowed size."))
    if default_storage.exists(key):
        raise ApiRefusal(409, "FileAlreadyExists",
                         gettext("The object you specified already exists and can not be overwritten."))
    default_storage.save(key, file)


def uploaded_read(api_key: ApiKey, model: str, url: str) -> bytes | None:
    """The bytes of an ``oss://`` URL this key's person uploaded for ``model``; None for any other."""
    name = url.removeprefix("oss://")
    match = _folder_pattern(api_key.user_id, model).fullmatch(name)
    if not match or _folder_expired(name.rsplit("/", 2)[-2]) or not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def uploads_expire() -> int:
    """Delete the files of the temporary uploads older than FILE_SECONDS (the hourly sweep); returns how many."""
    deleted = 0
    if not default_storage.exists(UPLOAD_ROOT):
        return deleted
    for person in default_storage.listdir(UPLOAD_ROOT)[0]:
        for model in default_storage.listdir(f"{UPLOAD_ROOT}/{person}")[0]:
            for folder in default_storage.listdir(f"{UPLOAD_ROOT}/{person}/{model}")[0]:
                if not _folder_expired(folder):
                    continue
                path = f"{UPLOAD_ROOT}/{person}/{model}/{folder}"
                for name in default_storage.listdir(path)[1]:
                    default_storage.delete(f"{path}/{name}")
                    deleted += 1
                default_storage.delete(path)  # the folder itself, on storage that has folders
    if deleted:
        logger.info("temporary uploads: deleted %d files older than %d hours", deleted, FILE_SECONDS // 3600)
    return deleted
