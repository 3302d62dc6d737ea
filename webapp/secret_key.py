"""The secret key generated for a deployment that sets none: made by the start-up step, read by the settings.

Kept on disk in the var directory so signed links and sessions survive a restart, and shared by every
process on the host (the worker signs the links the web server checks); readable by the app's user only.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_FILE = "secret_key"
# 50 random bytes are 67 characters: above the 50 the settings ask of any key.
SECRET_KEY_BYTES = 50


class SecretKeyMissing(ImproperlyConfigured):
    """No SECRET_KEY in the environment and no generated one in the var directory yet."""

    def __init__(self, key_file: Path):
        super().__init__(f"SECRET_KEY is not set and {key_file} does not exist yet; run the start-up step "
                         "(python -m webapp.startup, which make run does) or set SECRET_KEY.")
        self.key_file = key_file


def secret_key_read(var_dir: Path) -> str:
    """The key the start-up step generated into the var directory."""
    key_file = var_dir / SECRET_KEY_FILE
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        raise SecretKeyMissing(key_file) from None


def secret_key_write(key_file: Path) -> None:
    """A new random key in key_file, readable by this user only, unless one is there already."""
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written whole under another name (mkstemp makes it 0o600), then linked in: a process reading the
    # key never sees half of one, and when two units start at once the first link wins, never replaced.
    descriptor, draft = tempfile.mkstemp(dir=key_file.parent, prefix=f".{SECRET_KEY_FILE}-")
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(SECRET_KEY_BYTES))
        os.link(draft, key_file)
    except FileExistsError:
        pass  # another start-up step's key is in place; every process reads that one
    finally:
        os.unlink(draft)
