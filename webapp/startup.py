"""The start-up step: what the app's processes need on disk, made once before any of them starts.

Importing the settings writes nothing (issue 19): a process started with a mistyped INPAINT_VAR_DIR,
or a test that only reads a setting, must leave no folders and no secret behind. So the var directory,
the folders under it that the settings list in INPAINT_VAR_FOLDERS (static files, the filesystem
broker's queues) and the generated secret key are made here, by `make run` (before it migrates, and
again in webapp/supervisor.py), the deploy units' ExecStartPre and the test suite (tests/prepared.py).
Running it again changes nothing: a key already there is kept, so sessions and signed links survive
restarts.

    python -m webapp.startup [--static]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

import django
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from webapp.secret_key import SecretKeyMissing, secret_key_write

SETTINGS_MODULE = "webapp.settings"


def startup_prepare() -> ModuleType:
    """Make the var directory, its folders and, unless SECRET_KEY is set, the key; return the settings."""
    try:
        settings = importlib.import_module(SETTINGS_MODULE)
    except SecretKeyMissing as missing:
        # The settings ask for the key in the one place they read it from; once it is there they load.
        secret_key_write(missing.key_file)
        settings = importlib.import_module(SETTINGS_MODULE)
    settings.VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in settings.INPAINT_VAR_FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)
    return settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m webapp.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--static", action="store_true",
                        help="also collect the static files into the var directory (where a web server runs)")
    static = parser.parse_args(argv).static
    try:
        startup_prepare()
    except ImproperlyConfigured as problem:
        # A malformed setting stops the start here, in its one plain sentence, before any process runs.
        sys.exit(f"Inpaint Studio cannot start: {problem}")
    if static:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
        django.setup()
        call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    main()
