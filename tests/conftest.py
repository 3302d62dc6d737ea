"""Fixtures shared by the suite: media in tmp_path, a real Celery worker process, the DashScope stand-in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dashscope as dashscope_sdk
import pytest
from django.utils import translation
from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.live import TEST_API_KEY, database_url
from webapp import settings as documented_settings

WORKER_READY_TIMEOUT = 60
# How much of each worker's log a failed test prints: what the worker did is often the only clue to a
# failure seen once under CI load.
WORKER_LOG_TAIL_LINES = 60


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# The flood limits count per address in the shared cache, which outlives each test, and the suite posts from
# 127.0.0.1 as more new browsers in ten minutes than a room has; tests of the limits ask for their defaults.
UNLIMITED_RATE = "1000000/60"


@pytest.fixture(autouse=True)
def flood_limits_lifted(settings):
    settings.INPAINT_CREATE_RATE = settings.INPAINT_NEW_VISITOR_RATE = settings.INPAINT_JOIN_RATE = UNLIMITED_RATE
    settings.INPAINT_PREVIEW_RATE = UNLIMITED_RATE


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in English: LocaleMiddleware leaves the language of a request it answered in Chinese
    active in the test's thread (a web process activates it again on every request)."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def spend_caps_lifted(settings):
    """No monthly cap unless a test sets one: open mode with a key is capped by default (20 images a person),
    and the suite's visitors make more than that; the caps' own tests set them or leave them unset."""
    settings.INPAINT_MONTHLY_IMAGE_CAP = settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = 0


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module (tests/browser.py has the page helpers)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def caps_unset(settings):
    """Open mode with a key and neither cap set, as a fresh public deployment would run: the defaults are in force."""
    settings.INPAINT_ACCESS = "open"
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    settings.INPAINT_MONTHLY_IMAGE_CAP = settings.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = None
    return settings


@pytest.fixture
def documented_flood_limits(settings):
    """The flood limits at their documented defaults (webapp/settings.py), for the tests that check them."""
    settings.INPAINT_CREATE_RATE = documented_settings.INPAINT_CREATE_RATE
    settings.INPAINT_NEW_VISITOR_RATE = documented_settings.INPAINT_NEW_VISITOR_RATE
    return settings


@pytest.fixture
def routes_rebuilt(settings):
    """rebuild(): the URL routes made again for the settings as the test has changed them; the suite's own after."""
    from django.urls import clear_url_caches

    from webapp import urls

    def rebuild() -> None:
        urls.urlpatterns = urls.urlpatterns_build()
        clear_url_caches()

    yield rebuild
    urls.urlpatterns = urls.urlpatterns_build()
    clear_url_caches()


@pytest.fixture
def admin_in_open_mode(settings, routes_rebuilt):
    settings.INPAINT_ADMIN_IN_OPEN_MODE = True
    routes_rebuilt()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dashscope():
    """The DashScope stand-in: a real HTTP server on 127.0.0.1."""
    from tests.dashscope_standin import DashScopeStandIn

    with DashScopeStandIn(api_key=TEST_API_KEY) as standin:
        yield standin


@pytest.fixture
def sent_steps(monkeypatch) -> list[tuple]:
    """Every step handed to Celery, as (action, job id, token, countdown); nothing reaches a broker."""
    from inpaint.services import scheduling

    calls: list[tuple] = []
    monkeypatch.setattr(scheduling, "step_send",
                        lambda step: calls.append((step.action, step.job_id, step.token, step.countdown)))
    return calls


@pytest.fixture
def standin_settings(settings, dashscope):
    """The app pointed at the DashScope stand-in with its key; the web server trusts X-Forwarded-For, so
    tests can post as several people from different addresses."""
    settings.DASHSCOPE_API_KEY = TEST_API_KEY
    settings.DASHSCOPE_BASE_URL = dashscope.base_url
    settings.INPAINT_BEHIND_PROXY = True
    return settings


class WorkerProcess:
    """A `celery worker` subprocess on the suite's broker and test database."""

    def __init__(self, log_path: Path, env: dict[str, str]):
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self, *, beat: bool = False) -> "WorkerProcess":
        log = open(self.log_path, "ab")
        command = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--pool", "prefork", "--concurrency", "2",
                   "--loglevel", "INFO", "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
                   "--without-mingle", "--without-gossip"]
        if beat:
            # The periodic sweep runs inside the worker, as under `make run`.
            command += ["--beat", "--schedule", str(self.log_path.with_suffix(".beat"))]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Celery worker did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pool_pids(self) -> list[int]:
        """The prefork pool's child processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(request, transactional_db, settings, tmp_path):
    """Start real Celery worker processes: start_worker(**env overrides) -> WorkerProcess."""
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith("redis://"), "integration tests need Redis: run them with `make test`"
    import redis

    redis.Redis.from_url(broker).flushdb()  # nothing left over from an earlier run
    workers: list[WorkerProcess] = []

    def start(*, beat: bool = False, **overrides: str) -> WorkerProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "SECRET_KEY": settings.SECRET_KEY,
            "INPAINT_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "INPAINT_POLL_INTERVAL": "0.3",
            "INPAINT_RETRY_BASE_DELAY": "0.2",
            "INPAINT_RETRY_MAX_DELAY": "2",
            **overrides,
        }
        worker = WorkerProcess(tmp_path / f"worker-{len(workers)}.log", env).start(beat=beat)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        for worker in workers:
            tail = "\n".join(worker.log().splitlines()[-WORKER_LOG_TAIL_LINES:])
            print(f"--- the last lines of {worker.log_path.name} ---\n{tail}")


@pytest.fixture
def sdk(live_server, monkeypatch):
    """The official SDK pointed at the app's gateway, as a script would configure it, with no proxy in the way."""
    monkeypatch.setattr(dashscope_sdk, "base_http_api_url", live_server.url + "/api/v1")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return dashscope_sdk
