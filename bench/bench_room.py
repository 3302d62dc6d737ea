"""Benchmark: a demo room of 30 people on one address, posting and polling every second, and the wall (issue 16).

Starts `make run`'s processes (the real supervisor) in a var directory of its own, on the embedded default
(SQLite, filesystem broker) or, with DATABASE_URL and CELERY_BROKER_URL set, on PostgreSQL and Redis, with
the DashScope stand-in behind wanx-x-painting (its limits: 2 submissions a second, 1 running task; each task
runs TASK_SECONDS). A staff member's room is opened; 30 people join it by its link from one address, each
with their own cookies. For DURATION seconds each person posts a cloud job, polls its card every second as
the page does (htmx's headers and the card's tag), and posts the next when it ends; the wall polls every
second too. Reported: the card poll's and the wall's median and 99th-percentile latency, the web server's
CPU (gunicorn's processes, in cores), jobs done a minute against what the account allows, 5xx answers and
"database is locked" in the logs.

    .venv/bin/python bench/bench_room.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inpaint_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/bench_room.py
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pictures  # noqa: E402
from tests.live import TEST_API_KEY  # noqa: E402
from tests.supervised import (descendants, free_port, log_text, process_pid,  # noqa: E402
                              startup_run, supervisor_start_ready, supervisor_stop)
from tests.live import wait_for  # noqa: E402

PEOPLE = 30
DURATION = 90.0
TASK_SECONDS = 2.0
POLL_SECONDS = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The people run in a few processes of their own, and the stand-in in another: in one Python process, 31
# threads and the stand-in's server would wait on each other's GIL, and that wait would be counted as the
# web server's latency.
CLIENT_PROCESSES = 3
ROOM_OPEN = """
from tests.rooms import room_open
room, links = room_open(image_cap=0, guest_image_cap=0)
print(links.join_token, links.wall_token)
"""


def room_tokens(env: dict) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", ROOM_OPEN], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return out[-2], out[-1]


class Person:
    """One phone in the room: joins by the link, then posts, polls the card every second, posts again."""

    def __init__(self, url: str, join_token: str, person: int, figures: dict, lock: threading.Lock):
        self.url, self.figures, self.lock, self.person = url, figures, lock, person
        self.session = requests.Session()
        join = f"{url}/rooms/join/{join_token}/"
        self.session.get(join, timeout=30)
        self.session.post(join, timeout=30, headers=self.headers())
        self.session.get(url + "/", timeout=30)

    def headers(self) -> dict:
        return {"X-CSRFToken": self.session.cookies["csrftoken"], "Referer": self.url + "/"}

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.figures[kind].append(seconds)
            if kind in ("card polls", "posts"):
                self.figures["statuses"].append(status)

    def post(self) -> str | None:
        answer = self.session.post(
            self.url + "/jobs/", timeout=60, headers=self.headers() | {"HX-Request": "true"},
            data={"engine": "wanx-x-painting", "prompt": f"a kite {self.person}", "style": "<auto>",
                  "size": "original", "n": "1"},
            files={"base_image": ("p.jpg", pictures.picture(), "image/jpeg"),
                   "mask_image": ("m.png", pictures.mask(), "image/png")})
        self.record("posts", answer.elapsed.total_seconds(), answer.status_code)
        marker = 'id="job-'
        return answer.text.split(marker, 1)[1][:36] if marker in answer.text else None

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                self.round(until)
            except requests.ConnectionError:
                with self.lock:
                    self.figures["connection errors"] += 1

    def round(self, until: float) -> None:
        """One job: posted, then its card polled every second until it ends."""
        while time.monotonic() < until:
            pk = self.post()
            if pk is None:
                time.sleep(POLL_SECONDS)  # refused (a limit): try again, as a person would
                continue
            tag = ""
            poll = {"HX-Request": "true", "HX-Trigger": f"job-{pk}", "HX-Target": f"job-{pk}"}
            while time.monotonic() < until:
                time.sleep(POLL_SECONDS)
                answer = self.session.get(f"{self.url}/jobs/{pk}/", timeout=30,
                                          headers=poll | ({"If-None-Match": tag} if tag else {}))
                kind = "card polls, unchanged (304)" if answer.status_code == 304 else "card polls, changed"
                self.record("card polls", answer.elapsed.total_seconds(), answer.status_code)
                self.record(kind, answer.elapsed.total_seconds(), answer.status_code)
                tag = answer.headers.get("ETag", tag)
                if answer.status_code == 286:
                    return


def wall_watch(url: str, wall_token: str, until: float, figures: dict, lock: threading.Lock) -> None:
    session, tag = requests.Session(), ""
    while time.monotonic() < until:
        # As the page polls: htmx's header and the wall's tag, answered 304 while nothing on it changed.
        answer = session.get(f"{url}/rooms/wall/{wall_token}/", timeout=30,
                             headers={"HX-Request": "true"} | ({"If-None-Match": tag} if tag else {}))
        tag = answer.headers.get("ETag", tag)
        with lock:
            figures["wall polls"].append(answer.elapsed.total_seconds())
            figures["statuses"].append(answer.status_code)
        time.sleep(POLL_SECONDS)


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def jobs_done(env: dict) -> int:
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                          "from inpaint.models import InpaintJob; print(InpaintJob.objects.filter(status='SUCCEEDED').count())"],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split()
    return int(out[-1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


KINDS = ("card polls", "card polls, unchanged (304)", "card polls, changed", "wall polls", "posts")


def figures_new() -> dict:
    return {**{kind: [] for kind in KINDS}, "statuses": [], "connection errors": 0}


def people_run(url: str, join_token: str, persons: list[int], until: float) -> dict:
    """One client process: its share of the room's people, each on a thread of its own."""
    figures, lock = figures_new(), threading.Lock()
    with ThreadPoolExecutor(max_workers=len(persons)) as pool:
        people = list(pool.map(lambda n: Person(url, join_token, n, figures, lock), persons))
        for run in [pool.submit(person.run, until) for person in people]:
            run.result()
    return figures


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def standin_start(port: int) -> subprocess.Popen:
    standin = subprocess.Popen([sys.executable, "-m", "tests.dashscope_standin", "--port", str(port), "--key",
                                TEST_API_KEY, "--running-seconds", str(TASK_SECONDS)], cwd=ROOT,
                               stdout=subprocess.DEVNULL)
    wait_for(lambda: port_open(port), timeout=30, message="the stand-in to listen")
    return standin


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="inpaint-bench-"))
    backends = {key: os.environ[key] for key in ("DATABASE_URL", "CELERY_BROKER_URL") if key in os.environ}
    figures, lock = figures_new(), threading.Lock()
    standin_port = free_port()
    standin = standin_start(standin_port)
    try:
        settings = {"DASHSCOPE_API_KEY": TEST_API_KEY, "DASHSCOPE_BASE_URL": f"http://127.0.0.1:{standin_port}/api/v1",
                    # The room's people may post as long as the run lasts: no cap but the account's limits.
                    "INPAINT_MONTHLY_IMAGE_CAP": "1000000", "INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER": "1000000",
                    **backends}
        env = {**os.environ, "INPAINT_VAR_DIR": str(var_dir),
               "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}", **settings}
        if backends:  # nothing left from an earlier run: its jobs would hold the account's running slot
            startup_run(env)
            for command in (["migrate", "-v", "0"], ["flush", "--noinput"]):
                subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
            redis.Redis.from_url(backends["CELERY_BROKER_URL"]).flushdb()
        supervisor, url = supervisor_start_ready(var_dir, **settings)
        try:
            join_token, wall_token = room_tokens(env)
            web = process_pid(supervisor, "gunicorn")
            web_pids = [web, *descendants(web)]
            done_before, cpu_before, started = jobs_done(env), cpu_seconds(web_pids), time.monotonic()
            until = started + DURATION
            shares = [list(range(PEOPLE))[share::CLIENT_PROCESSES] for share in range(CLIENT_PROCESSES)]
            with ProcessPoolExecutor(max_workers=CLIENT_PROCESSES) as clients:
                runs = [clients.submit(people_run, url, join_token, share, until) for share in shares]
                wall_watch(url, wall_token, until, figures, lock)
                for run in runs:
                    for kind, values in run.result().items():
                        figures[kind] += values
            elapsed = time.monotonic() - started
            cpu = (cpu_seconds(web_pids) - cpu_before) / elapsed
            done = jobs_done(env) - done_before
            locked = log_text(var_dir).count("database is locked")
        finally:
            # The processes' own log, for reading after the run (gunicorn's and the workers' lines).
            Path(tempfile.gettempdir(), f"bench-room-{backends.get('DATABASE_URL', 'sqlite').split(':')[0]}.log").write_text(
                log_text(var_dir))
            supervisor_stop(supervisor)
            shutil.rmtree(var_dir, ignore_errors=True)
    finally:
        standin.terminate()
        standin.wait()
    database = backends.get("DATABASE_URL", "sqlite (embedded)").split(":")[0]
    broker = backends.get("CELERY_BROKER_URL", "filesystem (embedded)").split(":")[0]
    print(f"\n{PEOPLE} people and the wall for {DURATION:.0f} s; {database}, {broker}; tasks of {TASK_SECONDS:g} s\n")
    print("| requests | count | p50 | p99 |")
    print("|---|---|---|---|")
    for kind in KINDS:
        values = figures[kind]
        print(f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.0f} ms | "
              f"{percentile(values, 0.99) * 1000:.0f} ms |")
    allowed = 60 / TASK_SECONDS  # one running task at a time
    print(f"\nweb server CPU: {cpu:.2f} cores; jobs done: {done / elapsed * 60:.1f} a minute "
          f"(the account allows at most {allowed:.0f} with {TASK_SECONDS:g} s tasks, 1 running); "
          f"5xx answers: {sum(status >= 500 for status in figures['statuses'])}; "
          f"connections reset: {figures['connection errors']}; "
          f"\"database is locked\" in the logs: {locked}")


if __name__ == "__main__":
    main()
