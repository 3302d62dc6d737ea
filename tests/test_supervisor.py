"""`make run`'s process supervision, with real processes: a worker that dies is started again, and
SIGTERM stops everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _worker_pid(supervisor: subprocess.Popen) -> int | None:
    return next((pid for pid in _children(supervisor.pid) if "celery" in _command_line(pid)), None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_supervisor_restarts_a_killed_worker_and_stops_everything_on_sigterm(tmp_path):
    env = {**os.environ, "PORT": str(_free_port()), "INPAINT_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "filesystem://"}
    supervisor = subprocess.Popen([sys.executable, "-m", "webapp.supervisor"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = wait_for(lambda: _worker_pid(supervisor), timeout=30, message="the worker to start")
        started = list(_children(supervisor.pid))
        os.killpg(first, signal.SIGKILL)  # the worker and its pool, as a crash would take them
        second = wait_for(lambda: (pid := _worker_pid(supervisor)) and pid != first and pid, timeout=10,
                          message="the worker to be started again")
        assert _alive(second)
        # The new worker's pool and gunicorn's workers must go too, not only the leaders.
        wait_for(lambda: _children(second), timeout=30, message="the new worker's pool to start")
        descendants = _descendants(supervisor.pid)

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=40) == 0
        for pid in set(started + [second] + descendants):
            wait_for(lambda pid=pid: not _alive(pid), timeout=20, message=f"process {pid} to stop")
        # The embedded broker keeps all its files under var/, none in the checkout.
        assert list((tmp_path / "broker" / "control").glob("*.exchange"))
        assert not (ROOT / "control").exists()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
