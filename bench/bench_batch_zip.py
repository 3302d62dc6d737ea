"""Benchmark: a batch's ZIP of fifty 24 MP results, streamed (issue 21 §4).

    .venv/bin/python bench/bench_batch_zip.py

The archive the download view sends (inpaint.files.archive) is iterated chunk by chunk into a sink, as the web
server writes it to the socket, over fifty entries that are each a 24 MP photo-like PNG as the worker stores it
(one file on disk, opened fifty times, so the bench needs no 2 GB of fixtures). The streaming runs in a fresh
process, which prints its peak RSS (VmHWM) once the app's modules are imported and again after the last chunk:
the growth is what sending the whole archive cost in memory. Target (issue 21): the web process's memory stays
flat.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from PIL import Image

from bench_full_resolution import ROOT, django_defaults, peak_rss_mb, photo

ENTRIES = 50
SIZE = (6000, 4000)


def stored_result(path: Path) -> SimpleNamespace:
    """What archive_stream reads of a JobResult: its image, opened as the storage opens it."""
    return SimpleNamespace(image=SimpleNamespace(name=path.name, open=lambda mode: path.open(mode)))


def stream(path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    django_defaults()
    from inpaint.files import archive

    entries = [(stored_result(path), f"photo-{index + 1}.png") for index in range(ENTRIES)]
    before = peak_rss_mb()
    started, sent = time.perf_counter(), 0
    for chunk in archive.archive_stream(entries):
        sent += len(chunk)
    print(json.dumps({"streamed_mb": round(sent / 2**20), "seconds": round(time.perf_counter() - started, 2),
                      "peak_rss_before_mb": round(before, 1), "peak_rss_after_mb": round(peak_rss_mb(), 1)}))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "result.png"
        buffer = io.BytesIO()
        Image.open(io.BytesIO(photo(*SIZE))).save(buffer, "PNG", compress_level=1)  # as the worker stores it
        path.write_bytes(buffer.getvalue())
        output = subprocess.run([sys.executable, __file__, "--stream", str(path)], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
        figures = json.loads(output.strip().splitlines()[-1])
    figures |= {"entries": ENTRIES, "entry_mb": round(len(buffer.getvalue()) / 2**20, 1)}
    figures["growth_mb"] = round(figures["peak_rss_after_mb"] - figures["peak_rss_before_mb"], 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stream"]:
        stream(Path(sys.argv[2]))
    else:
        main()
