"""Benchmark: a burst of 20 jobs from 5 sessions on one DashScope account (issue 5).

Runs the burst scenario of tests/test_faults.py through the real parts (web server, a Celery
worker process on Redis, the DashScope stand-in with wanx-x-painting's limits: 2 submissions a
second, 1 running task) and prints makespan, how busy the service's running slot was, and each
job's wait in our queue. Needs PostgreSQL and Redis as for `make test`.

    .venv/bin/python bench/bench_burst.py [--running-seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "tests/test_faults.py::test_burst_of_20_jobs_from_5_sessions_keeps_the_slot_busy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--running-seconds", type=float, default=3.0, help="how long the stand-in paints one task")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "burst.json"
        env = {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/inpaint_bench",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
            **os.environ,
            "INPAINT_BENCH_REPORT": str(report),
            "INPAINT_BENCH_RUNNING_SECONDS": str(args.running_seconds),
        }
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SCENARIO],
                       cwd=ROOT, env=env, check=True)
        figures = json.loads(report.read_text())
    waits = figures["queue_wait_s"]
    print(f"\n| jobs | task run time | makespan | slot busy | queue wait min / median / max |")
    print("|---|---|---|---|---|")
    print(f"| {figures['jobs']} | {args.running_seconds:.1f} s | {figures['makespan_s']:.1f} s | "
          f"{figures['slot_busy_fraction']:.1%} | {waits['min']:.1f} / {waits['median']:.1f} / {waits['max']:.1f} s |")


if __name__ == "__main__":
    main()
