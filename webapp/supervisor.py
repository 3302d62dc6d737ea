"""What `make run` runs: the web server, three Celery workers and beat as separate processes, kept alive.

- web: gunicorn;
- steps: a worker for the short steps that submit and poll cloud jobs (queue "steps");
- fills: a worker for offline fills, which hold a process for seconds (queue "fills"), so
  they never delay a cloud job's steps;
- edits: a worker for synchronous edit calls (Qwen-Image-Edit), each holding a process for up to
  minutes (queue "edits"), so they never delay a poll or a fill;
- beat: the periodic sweep that finds lost steps. One per deployment.

It runs the start-up step (webapp/startup.py) before it starts any of them, so it may also be run
on its own, and stays in the foreground; Ctrl-C or SIGTERM stops every process it started. A
process that dies, beat included, is started again after a short pause, as a process manager
would. Every file any of them writes lives under INPAINT_VAR_DIR, so two `make run`s with
different var directories share nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from webapp.startup import startup_prepare

RESTART_PAUSE = 2.0
# How long a warm shutdown may take: a worker finishes the step it is on (a paid call in flight
# gets its task id stored) before it exits.
STOP_GRACE = 25.0
# The page answers first: every process but the web server runs at this lower CPU priority, so on a
# small machine a paste-back or a 48 MP offline fill never holds up a poll or a post (deploy/*.service
# set the same Nice=).
WORKER_NICENESS = 10
WEB = "web"


def process_commands(port: str, var_dir: Path) -> dict[str, list[str]]:
    celery = [sys.executable, "-m", "celery", "-A", "webapp"]
    # Node names carry the port, so two `make run`s on one machine never answer for each other;
    # gunicorn's control socket would otherwise be one per user (~/.gunicorn/gunicorn.ctl), taken
    # over by whichever `make run` started last.
    return {
        WEB: [sys.executable, "-m", "gunicorn", "webapp.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "--threads", "4", "--timeout", "60", "--access-logfile", "-",
                "--control-socket", str(var_dir / "gunicorn.ctl"),
                "--logger-class", "webapp.gunicorn_logging.TokenHidingLogger"],
        "steps": [*celery, "worker", "--loglevel", "INFO", "--queues", "steps", "--concurrency", "2",
                  "--hostname", f"steps-{port}@%h"],
        "fills": [*celery, "worker", "--loglevel", "INFO", "--queues", "fills", "--concurrency", "1",
                  "--hostname", f"fills-{port}@%h"],
        # A call mostly waits on the network: two at once, one for each Qwen model's running limit by default.
        "edits": [*celery, "worker", "--loglevel", "INFO", "--queues", "edits", "--concurrency", "2",
                  "--hostname", f"edits-{port}@%h"],
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", str(var_dir / "celerybeat-schedule")],
    }


def process_start(name: str, command: list[str]) -> subprocess.Popen:
    # preexec_fn is safe here: the supervisor runs no threads.
    lower = None if name == WEB else (lambda: os.nice(WORKER_NICENESS))
    return subprocess.Popen(command, start_new_session=True, preexec_fn=lower)


def main() -> None:
    settings = startup_prepare()
    port = str(settings.RUN_PORT)
    commands = process_commands(port, settings.VAR_DIR)
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in commands.items():
        processes[name] = process_start(name, command)
    print(f"Inpaint Studio is running on http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None and not stopping:
                print(f"{name} exited with {process.returncode}; starting it again", flush=True)
                time.sleep(RESTART_PAUSE)
                processes[name] = process_start(name, commands[name])
        time.sleep(0.5)
    # SIGTERM to each leader only: gunicorn and Celery then shut down warmly and stop their own
    # children. Whatever is left of a process group after the grace period is killed.
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the whole group has already exited


if __name__ == "__main__":
    main()
