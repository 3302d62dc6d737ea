"""`make run`'s process supervision, with real processes: web, two workers and beat; whatever dies is
started again, SIGTERM stops everything, and every file lives under INPAINT_VAR_DIR."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from tests import pictures
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


def _process_pid(supervisor: subprocess.Popen, role: str) -> int | None:
    """The supervisor's child in this role: "steps", "fills" (Celery workers), "beat" or "gunicorn"."""
    marks = {"steps": "--queues steps", "fills": "--queues fills", "beat": " beat ", "gunicorn": "gunicorn"}
    return next((pid for pid in _children(supervisor.pid) if marks[role] in _command_line(pid)), None)


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


def _start(var_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "INPAINT_VAR_DIR": str(var_dir),
           "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}", "CELERY_BROKER_URL": "filesystem://"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    supervisor = subprocess.Popen([sys.executable, "-m", "webapp.supervisor"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return supervisor, f"http://127.0.0.1:{port}"


def _stop(supervisor: subprocess.Popen) -> None:
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=40)
        except subprocess.TimeoutExpired:
            supervisor.kill()


@pytest.fixture
def var_dir():
    """A var directory outside the checkout, as a deployment would set INPAINT_VAR_DIR."""
    folder = Path(tempfile.mkdtemp(prefix="inpaint-var-"))
    assert ROOT not in folder.parents
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_supervisor_restarts_a_killed_worker_and_stops_everything_on_sigterm(var_dir):
    supervisor, _ = _start(var_dir)
    try:
        first = wait_for(lambda: _process_pid(supervisor, "steps"), timeout=30, message="the worker to start")
        started = list(_children(supervisor.pid))
        assert len(started) == 4  # web, steps, fills, beat
        os.killpg(first, signal.SIGKILL)  # the worker and its pool, as a crash would take them
        second = wait_for(lambda: (pid := _process_pid(supervisor, "steps")) and pid != first and pid, timeout=10,
                          message="the worker to be started again")
        assert _alive(second)
        # The new worker's pool and gunicorn's workers must go too, not only the leaders.
        wait_for(lambda: _children(second), timeout=30, message="the new worker's pool to start")
        descendants = _descendants(supervisor.pid)

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=40) == 0
        for pid in set(started + [second] + descendants):
            wait_for(lambda pid=pid: not _alive(pid), timeout=20, message=f"process {pid} to stop")
        # Every file lives under the var directory, none in the checkout.
        assert list((var_dir / "broker" / "control").glob("*.exchange"))
        assert _beat_schedule_written(var_dir)
        assert not (ROOT / "control").exists()
    finally:
        _stop(supervisor)


def _post_offline_job(url: str) -> str:
    session = requests.Session()
    session.get(url + "/", timeout=30)
    response = session.post(
        url + "/jobs/", timeout=60,
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/"},
        data={"engine": "offline", "prompt": "", "style": "<auto>", "size": "original", "n": "2", "mask_color": ""},
        files={"base_image": ("p.png", pictures.picture(2400, 1800, fmt="PNG"), "image/png"),
               "mask_image": ("m.png", pictures.mask(2400, 1800, box=(300, 300, 2100, 1500)), "image/png")})
    assert response.status_code == 200 and 'data-testid="job-card"' in response.text, response.text[:500]
    return response.text


def _job_status(var_dir: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(var_dir / "db.sqlite3", timeout=10)) as db:
        row = db.execute("SELECT status FROM inpaint_inpaintjob").fetchone()
    return row and row[0]


def test_a_job_whose_fill_worker_is_killed_is_recovered_with_the_var_dir_outside_the_checkout(var_dir):
    supervisor, url = _start(var_dir)
    try:
        wait_for(lambda: _process_pid(supervisor, "beat") and _process_pid(supervisor, "fills"), timeout=30,
                 message="beat and the fills worker to start")
        wait_for(lambda: _http_ok(url), timeout=30, message="the web server to answer")
        _post_offline_job(url)
        wait_for(lambda: _job_status(var_dir) == "RUNNING", timeout=30, interval=0.05, message="the fill to start")
        os.killpg(_process_pid(supervisor, "fills"), signal.SIGKILL)  # mid-fill: the broker cannot hand it back
        # Only the sweep can find the lost step: lease 6 s + grace 4 s + interval 2 s, plus the fill itself.
        wait_for(lambda: _job_status(var_dir) == "SUCCEEDED", timeout=45, message="the lost job to be recovered")
    finally:
        _stop(supervisor)


def test_beat_that_dies_is_started_again(var_dir):
    supervisor, _ = _start(var_dir)
    try:
        first = wait_for(lambda: _process_pid(supervisor, "beat"), timeout=30, message="beat to start")
        os.killpg(first, signal.SIGKILL)
        wait_for(lambda: (pid := _process_pid(supervisor, "beat")) and pid != first, timeout=15,
                 message="beat to be started again")
    finally:
        _stop(supervisor)


def test_two_supervisors_with_their_own_var_dirs_share_nothing(var_dir, tmp_path):
    other_dir = tmp_path / "other-var"
    first, first_url = _start(var_dir)
    second, second_url = _start(other_dir)
    try:
        for url in (first_url, second_url):
            wait_for(lambda url=url: _http_ok(url), timeout=30, message=f"{url} to answer")
        wait_for(lambda: _beat_schedule_written(var_dir) and _beat_schedule_written(other_dir),
                 timeout=30, message="each beat to write its own schedule")
        assert (var_dir / "secret_key").read_text() != (other_dir / "secret_key").read_text()
    finally:
        _stop(first)
        _stop(second)


def _beat_schedule_written(var_dir: Path) -> bool:
    # shelve may add a suffix (.db, .dat) depending on the dbm module Python was built with.
    return any(var_dir.glob("celerybeat-schedule*"))


def _http_ok(url: str) -> bool:
    try:
        return requests.get(url + "/", timeout=5).status_code == 200
    except requests.RequestException:
        return False
