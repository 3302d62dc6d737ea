"""Benchmark: bursts of 20 jobs on one DashScope account (issues 5 and 10).

Runs the burst scenarios of tests/test_faults.py through the real parts (web server, a Celery
worker process on Redis, the DashScope stand-in with wanx-x-painting's limits: 2 submissions a
second, 1 running task) and prints, for each: makespan, how busy the service's running slot was,
each job's wait in our queue, and the app's overhead over the service's own time per job. Needs
PostgreSQL and Redis as for `make test`.

    .venv/bin/python bench/bench_burst.py

The scenarios: 3 s tasks; the same with the pool process that holds a paid call killed with
SIGKILL (target: makespan at most 1.2 × the first); and 1 s tasks, where polling latency shows
most (targets: slot busy at least 95 %, median overhead at most 0.5 s), with the suite's fast poll
timing and again with the documented defaults (poll 1 s, 0.25 s around the expected end).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BURST = "tests/test_faults.py::test_burst_of_20_jobs_from_5_sessions_keeps_the_slot_busy"
KILLED = "tests/test_faults.py::test_burst_with_the_process_holding_a_submit_killed"
SCENARIOS = (
    ("3 s tasks", BURST, 3.0, {}),
    ("3 s tasks, submit holder killed", KILLED, 3.0, {}),
    ("1 s tasks", BURST, 1.0, {}),
    ("1 s tasks, documented poll timing", BURST, 1.0, {"INPAINT_BENCH_DOCUMENTED_TIMING": "1"}),
)


def run(scenario: str, running_seconds: float, extra_env: dict) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "burst.json"
        env = {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/inpaint_bench",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
            **os.environ,
            "INPAINT_BENCH_REPORT": str(report),
            "INPAINT_BENCH_RUNNING_SECONDS": str(running_seconds),
            "INPAINT_BENCH_JOBS": "20",
            **extra_env,
        }
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", scenario],
                       cwd=ROOT, env=env, check=True)
        return json.loads(report.read_text())


def main() -> None:
    rows = [(label, run(scenario, seconds, extra_env)) for label, scenario, seconds, extra_env in SCENARIOS]
    print("\n| scenario | jobs | makespan | slot busy | queue wait min / median / max | overhead median / max |")
    print("|---|---|---|---|---|---|")
    for label, figures in rows:
        waits, overhead = figures["queue_wait_s"], figures["overhead_s"]
        print(f"| {label} | {figures['jobs']} | {figures['makespan_s']:.1f} s | {figures['slot_busy_fraction']:.1%} | "
              f"{waits['min']:.1f} / {waits['median']:.1f} / {waits['max']:.1f} s | "
              f"{overhead['median']:.2f} / {overhead['max']:.2f} s |")
    print(f"\nkilled / unkilled makespan: {rows[1][1]['makespan_s'] / rows[0][1]['makespan_s']:.2f}×")


if __name__ == "__main__":
    main()
