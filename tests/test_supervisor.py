"""`make run`'s process supervision, with real processes: web, two workers and beat; whatever dies is
started again, a killed fill is recovered, SIGTERM stops everything, and every file lives under
INPAINT_VAR_DIR."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
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


def _start(var_dir: Path, **settings: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "INPAINT_VAR_DIR": str(var_dir),
           "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}", "CELERY_BROKER_URL": "filesystem://", **settings}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    # The processes' output stays in the var directory, for reading when a test fails.
    with open(var_dir / "supervisor.log", "wb") as log:
        supervisor = subprocess.Popen([sys.executable, "-m", "webapp.supervisor"], cwd=ROOT, env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
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
    supervisor, url = _start(var_dir)
    try:
        first = wait_for(lambda: _process_pid(supervisor, "steps"), timeout=30, message="the worker to start")
        wait_for(lambda: _http_ok(url), timeout=30, message="the web server to answer")
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


def _post_offline_job(url: str) -> None:
    """An offline job through the page's own form, with a picture big enough that its fill lasts seconds."""
    session = requests.Session()
    session.get(url + "/", timeout=30)
    response = session.post(
        url + "/jobs/", timeout=60,
        headers={"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"], "Referer": url + "/"},
        data={"engine": "offline", "prompt": "", "style": "<auto>", "size": "original", "n": "1"},
        files={"base_image": ("p.png", pictures.picture(2000, 2000, fmt="PNG"), "image/png"),
               "mask_image": ("m.png", pictures.mask(2000, 2000, box=(200, 200, 1800, 1800)), "image/png")})
    assert response.status_code == 200 and 'data-testid="job-card"' in response.text, response.text[:500]


def _job_status(var_dir: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(var_dir / "db.sqlite3", timeout=10)) as db:
        row = db.execute("SELECT status FROM inpaint_inpaintjob").fetchone()
    return row and row[0]


def _cpu_ticks(pid: int) -> int:
    # utime + stime, the 14th and 15th fields of /proc/<pid>/stat (counted after the command name).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _filling_pool(supervisor: subprocess.Popen) -> tuple[int, int]:
    """(worker, pool process) of the pool that is filling, whichever worker's queue the fill went to."""
    pools = {pool: worker for role in ("steps", "fills") if (worker := _process_pid(supervisor, role))
             for pool in _children(worker)}
    before = {pool: _cpu_ticks(pool) for pool in pools}
    time.sleep(0.3)
    busiest = max(pools, key=lambda pool: _cpu_ticks(pool) - before[pool])
    assert _cpu_ticks(busiest) - before[busiest] >= 5, "no pool process is busy filling"
    return pools[busiest], busiest


def _start_ready(var_dir: Path, **settings: str) -> tuple[subprocess.Popen, str]:
    supervisor, url = _start(var_dir, **settings)
    wait_for(lambda: _process_pid(supervisor, "beat") and _process_pid(supervisor, "fills"), timeout=30,
             message="beat and the fills worker to start")
    wait_for(lambda: _http_ok(url), timeout=30, message="the web server to answer")
    return supervisor, url


def _fill_started(supervisor: subprocess.Popen, url: str, var_dir: Path) -> tuple[int, int]:
    """Post an offline job and wait until it fills: (worker, pool process) doing it."""
    _post_offline_job(url)
    wait_for(lambda: _job_status(var_dir) == "RUNNING", timeout=30, interval=0.05, message="the fill to start")
    return _filling_pool(supervisor)


def _assert_killed_mid_fill(var_dir: Path, pid: int) -> None:
    wait_for(lambda: not _alive(pid), timeout=5, interval=0.05, message="the pool process to die")
    # Otherwise the fill had ended before the kill and the test would prove nothing.
    assert _job_status(var_dir) == "RUNNING"


def test_a_restarted_beat_sweeps_and_a_fill_whose_pool_process_is_killed_is_recovered(var_dir):
    supervisor, url = _start_ready(var_dir)
    try:
        first_beat = _process_pid(supervisor, "beat")
        os.killpg(first_beat, signal.SIGKILL)
        wait_for(lambda: (pid := _process_pid(supervisor, "beat")) and pid != first_beat, timeout=15,
                 message="beat to be started again")
        restarted_at = len(_log(var_dir))
        _, pool = _fill_started(supervisor, url, var_dir)
        os.kill(pool, signal.SIGKILL)
        _assert_killed_mid_fill(var_dir, pool)
        # The step goes back to the broker about a second later (acks_late, reject_on_worker_lost,
        # worker_lost_wait); whatever that cannot recover, the new beat's sweep does within
        # lease 6 s + grace 4 s + interval 2 s.
        wait_for(lambda: _job_status(var_dir) == "SUCCEEDED", timeout=30, message="the killed fill to be recovered")
        assert "Sending due task jobs-sweep" in _log(var_dir)[restarted_at:]
    finally:
        _stop(supervisor)


def _log(var_dir: Path) -> str:
    return (var_dir / "supervisor.log").read_text(errors="replace")


def test_a_plain_worker_serves_both_queues(var_dir):
    env = {**os.environ, "INPAINT_VAR_DIR": str(var_dir), "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
           "CELERY_BROKER_URL": "filesystem://"}
    # A task no worker knows: a worker that consumes its queue rejects it, so the queue empties.
    assert _queue_sizes(env, send=True) == {"steps": 1, "fills": 1}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp", "worker", "--concurrency", "1",
                               "--hostname", f"plain-{os.getpid()}@%h"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _queue_sizes(env) == {"steps": 0, "fills": 0}, timeout=30, interval=0.5,
                 message="the plain worker to take a message from each queue")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _queue_sizes(env: dict, *, send: bool = False) -> dict[str, int]:
    """Messages waiting in each declared queue, after sending one to each when ``send``."""
    code = f"""
import json, django
django.setup()
from django.conf import settings
from webapp.celery import app
names = [queue.name for queue in settings.CELERY_TASK_QUEUES]
for name in names if {send} else ():
    app.send_task("tests.no_such_task", queue=name)
with app.connection_for_write() as connection:
    print(json.dumps({{name: connection.default_channel._size(name) for name in names}}))
"""
    env = {**env, "DJANGO_SETTINGS_MODULE": "webapp.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout.splitlines()[-1])


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
        assert (var_dir / "gunicorn.ctl").is_socket() and (other_dir / "gunicorn.ctl").is_socket()
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
