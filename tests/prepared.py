"""The suite's var directory, made by the same start-up step as `make run`'s (pyproject's addopts load this
plugin): before pytest-django or a conftest reads the settings, which refuse to load without a secret key."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    # Imported only now: pytest imports this plugin before coverage starts, and webapp's modules imported
    # then would count as never run.
    from webapp.startup import startup_prepare

    startup_prepare()
