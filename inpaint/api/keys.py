"""Personal API keys: made, checked on every request, revoked, and counted against their own rate.

A key is "sk-", a lookup prefix of PREFIX_BYTES random bytes in hex, and SECRET_BYTES random bytes; the database
keeps only its sha256. It is read from the ``Authorization: Bearer`` header alone: a query string ends up in
access logs, proxies and browser history.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from inpaint.models import ApiKey
from inpaint.services.floods import rate_take

KEY_START = "sk-"
PREFIX_BYTES = 4
SECRET_BYTES = 32
PREFIX_CHARS = 2 * PREFIX_BYTES
# last_used_at is a sign of life, not an audit trail: written at most this often, not on every poll.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)
BEARER = "Bearer "


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@sensitive_variables("key")
def api_key_create(user, name: str = "") -> tuple[ApiKey, str]:
    """A new key for ``user``: the stored row, and the key itself, which exists nowhere else and is shown once."""
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        key = KEY_START + prefix + secrets.token_urlsafe(SECRET_BYTES)
        try:
            return ApiKey.objects.create(user=user, name=name, prefix=prefix, digest=_digest(key)), key
        except IntegrityError:
            continue  # another key took this prefix; draw again


@sensitive_variables("authorization", "key")
def api_key_authenticate(authorization: str) -> ApiKey | None:
    """The live key an ``Authorization`` header carries, or None (absent, malformed, unknown or revoked)."""
    if not authorization.startswith(BEARER):
        return None
    key = authorization.removeprefix(BEARER).strip()
    if not key.startswith(KEY_START):
        return None
    prefix = key[len(KEY_START):len(KEY_START) + PREFIX_CHARS]
    found = ApiKey.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if found is None or not hmac.compare_digest(found.digest, _digest(key)) or not found.user.is_active:
        return None
    now = timezone.now()
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION),
                          pk=found.pk).update(last_used_at=now)
    return found


def api_key_revoke(api_key: ApiKey) -> bool:
    """Revoke the key from its next request on; False when it already was."""
    return bool(ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def api_key_rate_take(api_key: ApiKey) -> bool:
    """Count one request of the key against INPAINT_API_KEY_RATE; False once it holds the limit."""
    return rate_take("api-key", api_key.prefix, settings.INPAINT_API_KEY_RATE)
