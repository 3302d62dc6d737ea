"""Benchmark: a batch's ZIP of fifty 24 MP results, downloaded from the web server (issue 21 §4).

    .venv/bin/python bench/bench_batch_zip.py

Starts `make run`'s processes (the real supervisor: gunicorn, the workers, beat) in a var directory of its own,
in login mode. A signed-in person's batch of fifty finished jobs is stored, each result a 24 MP photo-like PNG as
the worker stores it (one file on disk that every result names, so the bench needs no 2 GB of fixtures). The
person signs in over HTTP and downloads the batch's ZIP chunk by chunk, as a browser does. Each gunicorn worker's
peak RSS (VmHWM) is read before and after; before, a small batch's ZIP was downloaded a few times so that both
workers have served one. The growth of the worker that sent the archive is what sending it cost in memory.
Target (issue 21): the web process's memory stays flat.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_full_resolution import photo  # noqa: E402
from tests.supervised import children, process_pid, supervisor_start_ready, supervisor_stop  # noqa: E402

ENTRIES = 50
SIZE = (6000, 4000)
WARM_UP_DOWNLOADS = 6
PASSWORD = "bench-zip-password-1"
RESULT_NAME = "bench/result.png"
BATCHES_STORE = """
from django.contrib.auth import get_user_model
from inpaint.models import Batch, InpaintJob, JobResult
from inpaint.services.owners import owner_key_for
person = get_user_model().objects.create_user("bench", password="{password}")
for count in (1, {entries}):
    batch = Batch.objects.create(owner_key=owner_key_for(person, ""), photo_count=count)
    for index in range(count):
        job = InpaintJob.objects.create(owner=person, owner_key=batch.owner_key, engine="offline", prompt="x",
                                        status="SUCCEEDED", batch=batch, source_name=f"photo-{{index + 1}}.jpg",
                                        base_width={width}, base_height={height})
        JobResult.objects.create(job=job, slot=0, width={width}, height={height}, image="{result}")
    print(batch.pk)
"""


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def signed_in(url: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/accounts/login/", timeout=30)
    answer = session.post(f"{url}/accounts/login/", timeout=30, data={
        "username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{url}/accounts/login/"})
    assert "sessionid" in session.cookies, answer.text[:500]
    return session


def download(session: requests.Session, url: str) -> int:
    sent = 0
    with session.get(url, stream=True, timeout=600) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_content(1024 * 1024):
            sent += len(chunk)
    return sent


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="inpaint-bench-zip-"))
    supervisor, url = supervisor_start_ready(var_dir, INPAINT_ACCESS="login")
    try:
        stored = var_dir / "media" / RESULT_NAME
        stored.parent.mkdir(parents=True, exist_ok=True)
        Image.open(io.BytesIO(photo(*SIZE))).save(stored, "PNG", compress_level=1)  # as the worker stores it
        env = {**os.environ, "INPAINT_VAR_DIR": str(var_dir), "INPAINT_ACCESS": "login",
               "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}"}
        script = BATCHES_STORE.format(password=PASSWORD, entries=ENTRIES, width=SIZE[0], height=SIZE[1],
                                      result=RESULT_NAME)
        small, large = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
                                      check=True, capture_output=True, text=True).stdout.split()[-2:]
        session = signed_in(url)
        for _ in range(WARM_UP_DOWNLOADS):
            download(session, f"{url}/batches/{small}/results.zip")
        workers = children(process_pid(supervisor, "gunicorn"))
        before = {pid: peak_rss_mb(pid) for pid in workers}
        started = time.perf_counter()
        sent = download(session, f"{url}/batches/{large}/results.zip")
        seconds = time.perf_counter() - started
        growth = {pid: peak_rss_mb(pid) - before[pid] for pid in workers}
        sender = max(growth, key=growth.get)
        print(json.dumps({"entries": ENTRIES, "entry_mb": round(stored.stat().st_size / 2**20, 1),
                          "streamed_mb": round(sent / 2**20), "seconds": round(seconds, 2),
                          "worker_peak_rss_before_mb": round(before[sender], 1),
                          "worker_peak_rss_after_mb": round(before[sender] + growth[sender], 1),
                          "growth_mb": round(growth[sender], 1)}))
    finally:
        supervisor_stop(supervisor)


if __name__ == "__main__":
    main()
