"""`make run`'s processes under the real supervisor, for tests: start them with their own var directory
(SQLite; the filesystem broker unless a test names another), find each role's processes, post jobs through
the page's own form and read the jobs back from the database."""

from __future__ import annotations

import contextlib
import datetime
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
import redis
import requests

from tests import pictures
from tests.live import wait_for

ROOT = Path(__file__).resolve().parent.parent
# A fill of this picture with its mask lasts seconds: long enough to be caught in the middle.
SLOW_FILL_SIDE = 2000
# steps --concurrency 2, fills --concurrency 1 (webapp/supervisor.py)
POOL_PROCESSES = 3


@pytest.fixture
def var_dir():
    """A var directory outside the checkout, as a deployment would set INPAINT_VAR_DIR (and short enough for
    gunicorn's control socket path)."""
    folder = Path(tempfile.mkdtemp(prefix="inpaint-var-"))
    assert ROOT not in folder.parents
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["filesystem", "redis"])
def broker_url(request) -> str:
    """Each test that takes this runs on the embedded filesystem broker and on the suite's Redis."""
    if request.param == "filesystem":
        return "filesystem://"
    url = os.environ.get("CELERY_BROKER_URL", "")
    assert url.startswith("redis://"), "this test needs Redis: run it with `make test`"
    redis.Redis.from_url(url).flushdb()  # nothing left over from an earlier run
    return url


def children(pid: int) -> list[int]:
    """Children of every thread: billiard's threaded pool starts replacement processes from a thread."""
    found = []
    with contextlib.suppress(FileNotFoundError):  # the process itself may have just exited
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def process_pid(supervisor: subprocess.Popen, role: str) -> int | None:
    """The supervisor's child in this role: "steps", "fills", "edits" (Celery workers), "beat" or "gunicorn"."""
    marks = {"steps": "--queues steps", "fills": "--queues fills", "edits": "--queues edits", "beat": " beat ",
             "gunicorn": "gunicorn"}
    return next((pid for pid in children(supervisor.pid) if marks[role] in command_line(pid)), None)


def pool_pids(supervisor: subprocess.Popen, role: str) -> list[int]:
    """The prefork pool processes of the "steps" or "fills" worker."""
    worker = process_pid(supervisor, role)
    return children(worker) if worker else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def startup_run(env: dict[str, str]) -> None:
    """The start-up step `make run` runs first (webapp/startup.py), in the environment its processes get."""
    subprocess.run([sys.executable, "-m", "webapp.startup"], cwd=ROOT, env=env, check=True, timeout=120)


def supervisor_start(var_dir: Path, **settings: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "INPAINT_VAR_DIR": str(var_dir),
           "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}", "CELERY_BROKER_URL": "filesystem://", **settings}
    startup_run(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    # The processes' output stays in the var directory, for reading when a test fails.
    with open(var_dir / "supervisor.log", "wb") as log:
        supervisor = subprocess.Popen([sys.executable, "-m", "webapp.supervisor"], cwd=ROOT, env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
    return supervisor, f"http://127.0.0.1:{port}"


def supervisor_start_ready(var_dir: Path, **settings: str) -> tuple[subprocess.Popen, str]:
    """Started, with beat, both workers' pools and the web server up."""
    supervisor, url = supervisor_start(var_dir, **settings)
    wait_for(lambda: process_pid(supervisor, "beat") and pool_pids(supervisor, "fills")
             and pool_pids(supervisor, "steps"), timeout=30, message="beat and both workers to start")
    wait_for(lambda: http_ok(url), timeout=30, message="the web server to answer")
    return supervisor, url


def supervisor_stop(supervisor: subprocess.Popen) -> None:
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=40)
        except subprocess.TimeoutExpired:
            supervisor.kill()


def http_ok(url: str) -> bool:
    try:
        return requests.get(url + "/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def log_text(var_dir: Path) -> str:
    return (var_dir / "supervisor.log").read_text(errors="replace")


class Browser:
    """One person's browser: a session of its own, its cookies taken from the page, as a phone would."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        self.session.get(url + "/", timeout=30)

    def post_job(self, engine: str = "offline", prompt: str = "", side: int = 640) -> None:
        response = self.session.post(
            self.url + "/jobs/", timeout=60,
            headers={"HX-Request": "true", "X-CSRFToken": self.session.cookies["csrftoken"], "Referer": self.url + "/"},
            data={"engine": engine, "prompt": prompt, "style": "<auto>", "size": "original", "n": "1"},
            files={"base_image": ("p.png", pictures.picture(side, side, fmt="PNG"), "image/png"),
                   "mask_image": ("m.png", pictures.mask(side, side, box=(side // 10, side // 10, side * 9 // 10,
                                                                            side * 9 // 10)), "image/png")})
        assert response.status_code == 200 and 'data-testid="job-card"' in response.text, response.text[:500]


def post_slow_fill(url: str) -> None:
    """An offline job through the page's own form, with a picture big enough that its fill lasts seconds."""
    Browser(url).post_job(side=SLOW_FILL_SIDE)


def jobs_read(var_dir: Path, *columns: str) -> list[tuple]:
    """These columns of every job, oldest first."""
    with contextlib.closing(sqlite3.connect(var_dir / "db.sqlite3", timeout=10)) as db:
        return db.execute(f"SELECT {', '.join(columns)} FROM inpaint_inpaintjob ORDER BY created_at").fetchall()


def pools_kill(supervisor) -> tuple[datetime.datetime, list[int]]:
    """SIGKILL every pool process of both workers at once: (when, which)."""
    victims = pool_pids(supervisor, "steps") + pool_pids(supervisor, "fills")
    assert len(victims) == POOL_PROCESSES, victims
    killed_at = datetime.datetime.now(datetime.timezone.utc)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    for pid in victims:
        wait_for(lambda pid=pid: not alive(pid), timeout=5, interval=0.05, message=f"pool process {pid} to die")
    return killed_at, victims


def pools_back(supervisor, killed: list[int]) -> None:
    def back():
        pools = pool_pids(supervisor, "steps") + pool_pids(supervisor, "fills")
        return len(pools) == POOL_PROCESSES and not set(pools) & set(killed) and all(alive(pid) for pid in pools)

    wait_for(back, timeout=30, message="both workers' pools to be started again")


def jobs_list(var_dir: Path) -> list[dict]:
    """Every job, oldest first, as a dict of the columns tests look at."""
    columns = ("engine", "status", "error_code", "owner_key", "remote_task_id", "started_at", "submitted_at",
               "finished_at")
    return [dict(zip(columns, row)) for row in jobs_read(var_dir, *columns)]


def jobs_all_succeeded(var_dir: Path, count: int, timeout: float = 120) -> list[dict]:
    """Wait until there are this many jobs and every one has ended; each must have succeeded."""
    def done():
        jobs = jobs_list(var_dir)
        final = {"SUCCEEDED", "FAILED", "CANCELED"}
        return len(jobs) == count and all(job["status"] in final for job in jobs) and jobs

    jobs = wait_for(done, timeout=timeout, interval=0.5,
                    message=f"{count} jobs to end: {[job['status'] for job in jobs_list(var_dir)]}")
    assert all(job["status"] == "SUCCEEDED" for job in jobs), jobs
    return jobs
