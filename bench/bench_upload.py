"""Benchmark: what posting a photo costs beside what Pillow alone needs for it (issue 8, upload speed).

    .venv/bin/python bench/bench_upload.py

The photo is a 4000 × 3000 JPEG stored sideways (EXIF orientation 6), made in code like the other
benchmarks' photos, with a same-size mask PNG as the editor sends it. Three ways, side by side:

* **Pillow alone**: decode the JPEG, turn it upright, encode it again (quality 95);
* **images**: ``prepare_base_image`` and ``prepare_mask``, all the Pillow work job creation does;
* **POST**: the job form posted through Django's test client to ``/jobs/`` with the offline engine
  (the view, the form, both checks, storing the files, the job row; SQLite, no worker).

The three are taken in turn, round after round, and each figure is the median of its rounds, so
a machine that is busy for a moment slows all three alike. Target: POST ≤ 3 × Pillow alone.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time

from PIL import Image, ImageOps

from bench_full_resolution import ROOT, photo, two_percent_mask

ROUNDS = 7
MB = 1024 * 1024


def pillow_alone(picture: bytes, mask: bytes) -> None:
    with Image.open(io.BytesIO(picture)) as image:
        ImageOps.exif_transpose(image).save(io.BytesIO(), "JPEG", quality=95)


def app_images(picture: bytes, mask: bytes) -> None:
    from inpaint import images

    limits = {"max_bytes": 50 * MB, "max_pixels": 100_000_000}
    prepared = images.prepare_base_image(picture, min_side=32, **limits)
    images.prepare_mask(mask, base_size=(prepared.width, prepared.height), **limits)


def django_client():
    scratch = tempfile.mkdtemp(prefix="inpaint-bench-")
    os.environ.update(INPAINT_VAR_DIR=scratch, DJANGO_SETTINGS_MODULE="webapp.settings", CELERY_BROKER_URL="memory://",
                      DATABASE_URL=f"sqlite:///{scratch}/bench.sqlite3", ALLOWED_HOSTS="testserver",
                      # No worker runs here: the posted jobs stay waiting, so the per-person caps are lifted.
                      INPAINT_MAX_ACTIVE_JOBS="1000", INPAINT_CREATE_RATE="1000/60")
    import django

    from webapp.startup import startup_prepare

    startup_prepare()  # the scratch var dir's folders and key, as `make run` makes them
    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    client = Client()
    client.get("/")  # the visitor's session and CSRF cookie, as a browser has them before posting
    return client


def post_job(client, picture: bytes, mask: bytes) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"engine": "offline", "prompt": "", "style": "<auto>", "size": "original", "n": "1", "mask_color": "",
            "base_image": SimpleUploadedFile("photo.jpg", picture, "image/jpeg"),
            "mask_image": SimpleUploadedFile("mask.png", mask, "image/png")}
    response = client.post("/jobs/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b'data-testid="job-card"' in response.content, response.content[:300]


def main() -> None:
    picture = photo(4000, 3000, orientation=6, quality=88)
    mask = two_percent_mask(3000, 4000)
    client = django_client()
    ways = {"Pillow alone: decode, turn, re-encode": pillow_alone, "images: prepare_base_image + prepare_mask": app_images,
            "POST /jobs/ (offline engine)": lambda p, m: post_job(client, p, m)}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for way in ways.values():
        way(picture, mask)  # warm up: imports, first allocations
    for _ in range(ROUNDS):
        for name, way in ways.items():
            started = time.perf_counter()
            way(picture, mask)
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in times.items()}
    alone = medians["Pillow alone: decode, turn, re-encode"]
    print(f"photo: 4000 × 3000 JPEG, EXIF 6, {len(picture) / 1e6:.1f} MB; mask PNG {len(mask) / 1e3:.0f} kB; "
          f"median of {ROUNDS} rounds\n")
    print("| way | median | × Pillow alone |")
    print("|---|---|---|")
    for name, median in medians.items():
        print(f"| {name} | {median:.3f} s | {median / alone:.1f}× |")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
