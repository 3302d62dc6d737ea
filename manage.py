#!/usr/bin/env python
import importlib
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Read here, before any command: a malformed setting then stops `make run` with its one plain
    # sentence rather than a traceback from inside Django's start-up.
    try:
        importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    except ImproperlyConfigured as problem:
        sys.exit(f"Inpaint Studio cannot start: {problem}")
    execute_from_command_line(sys.argv)
