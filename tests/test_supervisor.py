"""`make run`'s process supervision, with real processes: web, three workers and beat; whatever dies is
started again, a killed fill is recovered, SIGTERM stops everything, and every file lives under
INPAINT_VAR_DIR."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.live import wait_for
from webapp.supervisor import WORKER_NICENESS
from tests.supervised import (ROOT, alive, children, descendants, http_ok, jobs_read, log_text, post_slow_fill,
                              process_pid, startup_run, supervisor_start, supervisor_start_ready, supervisor_stop,
                              var_dir)  # var_dir: a fixture

pytestmark = pytest.mark.integration


def test_supervisor_restarts_a_killed_worker_and_stops_everything_on_sigterm(var_dir):
    supervisor, url = supervisor_start(var_dir)
    try:
        first = wait_for(lambda: process_pid(supervisor, "steps"), timeout=30, message="the worker to start")
        wait_for(lambda: http_ok(url), timeout=30, message="the web server to answer")
        started = list(children(supervisor.pid))
        assert len(started) == 5  # web, steps, fills, edits, beat
        os.killpg(first, signal.SIGKILL)  # the worker and its pool, as a crash would take them
        second = wait_for(lambda: (pid := process_pid(supervisor, "steps")) and pid != first and pid, timeout=10,
                          message="the worker to be started again")
        assert alive(second)
        # The new worker's pool and gunicorn's workers must go too, not only the leaders.
        wait_for(lambda: children(second), timeout=30, message="the new worker's pool to start")
        # The page answers first: the workers (the restarted one and its pool too) and beat run below it.
        own = os.getpriority(os.PRIO_PROCESS, 0)
        web = process_pid(supervisor, "gunicorn")
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in [web, *children(web)]] == [own] * (1 + len(children(web)))
        for pid in [second, *children(second), *(process_pid(supervisor, role) for role in ("fills", "edits", "beat"))]:
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(own + WORKER_NICENESS, 19)
        everything = descendants(supervisor.pid)

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=40) == 0
        for pid in set(started + [second] + everything):
            wait_for(lambda pid=pid: not alive(pid), timeout=20, message=f"process {pid} to stop")
        # Every file lives under the var directory, none in the checkout.
        assert list((var_dir / "broker" / "control").glob("*.exchange"))
        assert _beat_schedule_written(var_dir)
        assert not (ROOT / "control").exists()
    finally:
        supervisor_stop(supervisor)


def _job_status(var_dir: Path) -> str | None:
    rows = jobs_read(var_dir, "status")
    return rows and rows[0][0]


def _cpu_ticks(pid: int) -> int:
    # utime + stime, the 14th and 15th fields of /proc/<pid>/stat (counted after the command name).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _filling_pool(supervisor: subprocess.Popen) -> tuple[int, int]:
    """(worker, pool process) of the pool that is filling, whichever worker's queue the fill went to."""
    pools = {pool: worker for role in ("steps", "fills") if (worker := process_pid(supervisor, role))
             for pool in children(worker)}
    before = {pool: _cpu_ticks(pool) for pool in pools}
    time.sleep(0.3)
    busiest = max(pools, key=lambda pool: _cpu_ticks(pool) - before[pool])
    assert _cpu_ticks(busiest) - before[busiest] >= 5, "no pool process is busy filling"
    return pools[busiest], busiest


def _fill_started(supervisor: subprocess.Popen, url: str, var_dir: Path) -> tuple[int, int]:
    """Post an offline job and wait until it fills: (worker, pool process) doing it."""
    post_slow_fill(url)
    wait_for(lambda: _job_status(var_dir) == "RUNNING", timeout=30, interval=0.05, message="the fill to start")
    return _filling_pool(supervisor)


def _assert_killed_mid_fill(var_dir: Path, pid: int) -> None:
    wait_for(lambda: not alive(pid), timeout=5, interval=0.05, message="the pool process to die")
    # Otherwise the fill had ended before the kill and the test would prove nothing.
    assert _job_status(var_dir) == "RUNNING"


def test_a_restarted_beat_sweeps_and_a_fill_whose_pool_process_is_killed_is_recovered(var_dir):
    supervisor, url = supervisor_start_ready(var_dir)
    try:
        first_beat = process_pid(supervisor, "beat")
        os.killpg(first_beat, signal.SIGKILL)
        wait_for(lambda: (pid := process_pid(supervisor, "beat")) and pid != first_beat, timeout=15,
                 message="beat to be started again")
        restarted_at = len(log_text(var_dir))
        _, pool = _fill_started(supervisor, url, var_dir)
        os.kill(pool, signal.SIGKILL)
        _assert_killed_mid_fill(var_dir, pool)
        # The step goes back to the broker about a second later (acks_late, reject_on_worker_lost,
        # worker_lost_wait); whatever that cannot recover, the new beat's sweep does within
        # lease 6 s + grace 4 s + interval 2 s, and the fill then runs again from the start: 30 s was once not
        # enough on a loaded machine, so the bound leaves room for it.
        wait_for(lambda: _job_status(var_dir) == "SUCCEEDED", timeout=60, message="the killed fill to be recovered")
        assert "Sending due task jobs-sweep" in log_text(var_dir)[restarted_at:]
    finally:
        supervisor_stop(supervisor)


def test_a_plain_worker_serves_both_queues(var_dir):
    env = {**os.environ, "INPAINT_VAR_DIR": str(var_dir), "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
           "CELERY_BROKER_URL": "filesystem://"}
    startup_run(env)  # the broker's folders, as `make run` makes them
    # A task no worker knows: a worker that consumes its queue rejects it, so the queue empties.
    assert _queue_sizes(env, send=True) == {"steps": 1, "fills": 1, "edits": 1}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp", "worker", "--concurrency", "1",
                               "--hostname", f"plain-{os.getpid()}@%h"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _queue_sizes(env) == {"steps": 0, "fills": 0, "edits": 0}, timeout=30, interval=0.5,
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
    first, first_url = supervisor_start(var_dir)
    second, second_url = supervisor_start(other_dir)
    try:
        for url in (first_url, second_url):
            wait_for(lambda url=url: http_ok(url), timeout=30, message=f"{url} to answer")
        wait_for(lambda: _beat_schedule_written(var_dir) and _beat_schedule_written(other_dir),
                 timeout=30, message="each beat to write its own schedule")
        assert (var_dir / "secret_key").read_text() != (other_dir / "secret_key").read_text()
        assert (var_dir / "gunicorn.ctl").is_socket() and (other_dir / "gunicorn.ctl").is_socket()
    finally:
        supervisor_stop(first)
        supervisor_stop(second)


def _beat_schedule_written(var_dir: Path) -> bool:
    # shelve may add a suffix (.db, .dat) depending on the dbm module Python was built with.
    return any(var_dir.glob("celerybeat-schedule*"))
