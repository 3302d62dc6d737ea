"""Benchmark: the job-card poll against a hello-world WSGI app, side by side under the same gunicorn (issue 16).

Thirty phones and the wall poll every second, so the card's answer is the app's hottest path. This starts
`make run`'s processes (the real supervisor, SQLite and the embedded broker unless DATABASE_URL and
CELERY_BROKER_URL say otherwise) in a var directory of its own, makes a job through the page's own form and
waits for it to finish, then loads with wrk, in turns:

- a finished job's card and the card of a job still waiting in the queue (polled every second while it
  waits), each as the page polls it (htmx's headers, the visitor's cookies, the card's tag: answered 304
  while nothing changed) and rendered in full (no tag: what every poll cost before);
- `bench/hello_wsgi.py` under gunicorn with exactly the web server's command line (webapp.supervisor).

It prints requests a second (median of the turns) and each one's ratio to hello world; the target is at
least 0.6. Needs wrk (Debian's package; `make bench-poll` installs it).

    .venv/bin/python bench/bench_poll.py
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import wait_for  # noqa: E402
from tests.supervised import (Browser, free_port, http_ok, jobs_read, process_pid, supervisor_start_ready,  # noqa: E402
                              supervisor_stop)
from webapp.supervisor import process_commands  # noqa: E402

TURNS = 3
TURN_SECONDS = 8
# wrk's load: as many connections as the web server has threads in all (2 workers × 4 threads).
CONNECTIONS = 8


def wrk(url: str, headers: dict[str, str]) -> dict:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{TURN_SECONDS}s", "--latency", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert not errors, out
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
            "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)}


def hello_start(var_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [part if part != "webapp.wsgi" else "bench.hello_wsgi:application"
               for part in process_commands(str(port), var_dir / "hello")["web"]]
    (var_dir / "hello").mkdir()
    with open(var_dir / "hello.log", "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_ok(url), timeout=30, message="hello world to answer")
    return server, url


def card_headers(browser: Browser, url: str, pk: str, *, tagged: bool) -> dict[str, str]:
    """What the page sends when its card polls: the cookies, htmx's headers and, once the card has been
    served, its tag (templates/inpaint/studio.html, hx-headers)."""
    cookies = "; ".join(f"{name}={value}" for name, value in browser.session.cookies.items())
    headers = {"Cookie": cookies, "HX-Request": "true", "HX-Trigger": f"job-{pk}", "HX-Target": f"job-{pk}"}
    if tagged:
        headers["If-None-Match"] = browser.session.get(f"{url}/jobs/{pk}/", headers=headers, timeout=10).headers["ETag"]
    return headers


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="inpaint-bench-"))
    settings = {key: os.environ[key] for key in ("DATABASE_URL", "CELERY_BROKER_URL") if key in os.environ}
    supervisor, url = supervisor_start_ready(var_dir, **settings)
    hello = None
    try:
        browser = Browser(url)
        browser.post_job(side=320)
        [(finished,)] = wait_for(lambda: [row[:1] for row in jobs_read(var_dir, "id", "status")
                                          if row[1] == "SUCCEEDED"], timeout=60, message="the job to finish")
        # A job that waits: the fills worker is stopped, so it stays in the queue while it is polled.
        os.kill(process_pid(supervisor, "fills"), 19)  # SIGSTOP
        browser.post_job(side=320)
        [(waiting,)] = [row[:1] for row in jobs_read(var_dir, "id", "status") if row[1] == "QUEUED"]
        # SQLite keeps a UUID as 32 hex digits; the URL has the dashed form.
        finished, waiting = str(uuid.UUID(str(finished))), str(uuid.UUID(str(waiting)))
        hello, hello_url = hello_start(var_dir)
        loads = {"hello world": (hello_url + "/", {})}
        for label, pk in (("finished", finished), ("queued", waiting)):
            loads[f"{label} card, unchanged (the page's poll)"] = (
                f"{url}/jobs/{pk}/", card_headers(browser, url, pk, tagged=True))
            loads[f"{label} card, rendered"] = (f"{url}/jobs/{pk}/", card_headers(browser, url, pk, tagged=False))
        figures = {name: [] for name in loads}
        for _ in range(TURNS):
            for name, (target, headers) in loads.items():
                figures[name].append(wrk(target, headers))
        os.kill(process_pid(supervisor, "fills"), 18)  # SIGCONT
    finally:
        if hello:
            hello.terminate()
            hello.wait()
        supervisor_stop(supervisor)
        shutil.rmtree(var_dir, ignore_errors=True)
    base = statistics.median(turn["rps"] for turn in figures["hello world"])
    database = settings.get("DATABASE_URL", "sqlite").split(":")[0]
    print(f"\n{CONNECTIONS} connections, {TURNS} turns of {TURN_SECONDS} s each, database {database}\n")
    print("| load | requests/s (median) | × hello world | p50 | p99 |")
    print("|---|---|---|---|---|")
    for name, turns in figures.items():
        rps = statistics.median(turn["rps"] for turn in turns)
        last = turns[-1]
        print(f"| {name} | {rps:.0f} | {rps / base:.2f} | {last['p50']} | {last['p99']} |")


if __name__ == "__main__":
    main()
