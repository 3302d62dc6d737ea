"""Fixtures of the service tests: settings at their documented values, a faked cloud engine, steps recorded."""

from __future__ import annotations

import pytest

from inpaint.engines import engine_get
from tests.services.fakes import CLOUD, FakeCloud


@pytest.fixture(autouse=True)
def service_settings(settings):
    """A configured cloud engine and the documented defaults, whatever the environment says."""
    settings.DASHSCOPE_API_KEY = "sk-unit-test"
    settings.INPAINT_PUBLIC_BASE_URL = ""
    settings.INPAINT_SUBMIT_RATES = {}
    settings.INPAINT_RUNNING_LIMITS = {}
    settings.INPAINT_POLL_INTERVAL = 1.0
    settings.INPAINT_ADMISSION_RECHECK = 5.0
    settings.INPAINT_JOB_DEADLINE = 900
    settings.INPAINT_LATE_POLL_INTERVAL = 30.0
    settings.INPAINT_SWEEP_GRACE = 60.0
    settings.INPAINT_MAX_ACTIVE_JOBS = 0  # many jobs of one person; the limit has its own tests
    return settings


@pytest.fixture
def cloud(monkeypatch) -> FakeCloud:
    fake = FakeCloud()
    engine = engine_get(CLOUD)
    for name in ("submit", "poll", "cancel", "list_tasks"):
        monkeypatch.setattr(engine, name, getattr(fake, name))
    return fake


@pytest.fixture(autouse=True)
def no_broker(sent_steps) -> list[tuple]:
    """No step of a service test reaches a broker."""
    return sent_steps
