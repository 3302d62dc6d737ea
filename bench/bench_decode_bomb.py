"""Benchmark: four decode bombs posted at once to the app's gunicorn (issue 17, item 2).

Starts gunicorn with webapp/supervisor.py's own command line (2 workers, 4 threads) on an embedded SQLite database in a
fresh INPAINT_VAR_DIR, posts four 10000 × 10000 transparent RGBA PNGs turned by EXIF (400 KB each) with
their masks at once, and meanwhile samples the web processes' memory (VmRSS summed over the master and
workers, and the sum of their peaks, VmHWM, from /proc) and times GETs of the studio page as another
visitor. Targets: the web processes under 3 GB together, the other visitor's page within 2 s.

    .venv/bin/python bench/bench_decode_bomb.py
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.pictures import mask, png_bomb  # noqa: E402 - the repository's own helpers, after its path
from webapp.supervisor import process_commands  # noqa: E402 - the web server exactly as `make run` starts it

BOMBS = 4
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes summed over the process and its children."""
    pids = [pid] + [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    rss = hwm = 0
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        rss += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
        hwm += int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024
    return rss, hwm


def _post_bomb(base_url: str, bomb: bytes, mask_png: bytes, outcomes: list) -> None:
    with requests.Session() as session:
        page = session.get(base_url + "/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        started = time.monotonic()
        answer = session.post(base_url + "/jobs/", data={"csrfmiddlewaretoken": token, "engine": "offline",
                                                         "style": "<auto>", "n": "1", "size": "original"},
                              files={"base_image": ("bomb.png", bomb), "mask_image": ("mask.png", mask_png)},
                              headers={"Referer": base_url + "/"}, timeout=120)
        outcomes.append((answer.status_code, time.monotonic() - started,
                         "busy" if "busy opening other pictures" in answer.text else "taken"))


def main() -> None:
    var_dir, port = Path(tempfile.mkdtemp(prefix="bench-bomb-")), _free_port()
    # Decodes wait long enough that all four are decoded, one per process at a time: the worst case for memory.
    env = {**os.environ, "INPAINT_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "webapp.settings",
           "INPAINT_DECODE_WAIT": "60"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "DASHSCOPE_API_KEY"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "webapp.startup"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    web = subprocess.Popen(process_commands(str(port), var_dir)["web"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base_url + "/", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline:
                    raise
                threading.Event().wait(0.2)
        idle_rss, _ = _memory(web.pid)
        bomb, mask_png = png_bomb(), mask(10_000, 10_000)
        outcomes: list = []
        posts = [threading.Thread(target=_post_bomb, args=(base_url, bomb, mask_png, outcomes)) for _ in range(BOMBS)]
        for post in posts:
            post.start()
        peak_rss, page_times = 0, []
        while any(post.is_alive() for post in posts):
            rss, _ = _memory(web.pid)
            peak_rss = max(peak_rss, rss)
            started = time.monotonic()
            requests.get(base_url + "/", timeout=30)
            page_times.append(time.monotonic() - started)
        _, hwm_sum = _memory(web.pid)
        print(f"web processes idle: {idle_rss / MB:.0f} MB; during {BOMBS} bombs: peak sampled VmRSS sum "
              f"{peak_rss / MB:.0f} MB, sum of VmHWM {hwm_sum / MB:.0f} MB (target < 3072 MB)")
        print(f"another visitor's page: {len(page_times)} GETs, max {max(page_times):.2f} s, "
              f"median {sorted(page_times)[len(page_times) // 2]:.2f} s (target <= 2 s)")
        for status, seconds, outcome in sorted(outcomes, key=lambda o: o[1]):
            print(f"bomb post: HTTP {status} in {seconds:.1f} s ({outcome})")
    finally:
        web.terminate()
        web.wait(10)


if __name__ == "__main__":
    main()
