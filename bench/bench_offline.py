"""Benchmark of the offline engine beside OpenCV's Telea and Navier-Stokes inpainting.

Run from the repository root:  .venv/bin/python bench/bench_offline.py

The inputs follow /work/shared/reference/engines.md: a 1024² photo with a ~20 % solid
blob over the main object, a ~5 % thick brush stroke crossing an object edge and a
~1 % thin scribble (areas hit by bisection). scikit-image's sample photos are not
available, so the "photo" is a landscape composed here with numpy/OpenCV: 1/f noise
clouds, two mountain ranges, a grassy meadow, a shaded boulder with its shadow (the
main object), vignette, lens blur and sensor noise. Each engine and case runs in a
fresh subprocess: median wall time of 3 runs of one fill (n=1, style "<auto>",
including PNG decoding/encoding for our engine), peak RSS (VmHWM) of that process, and PSNR
over the masked pixels against the original. It prints a Markdown table and writes
docs/offline-engine-montage.jpg and docs/offline-styles-montage.jpg.
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inpaint.engines.base import JobInput  # noqa: E402
from inpaint.engines.offline import OfflineEngine  # noqa: E402
from inpaint.engines.styles import STYLE_FILTERS  # noqa: E402

SIDE = 1024
RUNS = 3
CASES = ("blob", "stroke", "scribble")
ENGINES = ("offline", "telea", "ns")
MONTAGE_TILE = 384


def fractal_noise(rng, height, width, octaves=7, persistence=0.55, cells=3):
    """Sum of cubic-upsampled random grids: cloud-like 1/f noise in [0, 1]."""
    out = np.zeros((height, width), np.float32)
    amplitude = 1.0
    for _ in range(octaves):
        grid = rng.standard_normal((cells + 1, cells + 1)).astype(np.float32)
        out += amplitude * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        amplitude *= persistence
        cells *= 2
    return (out - out.min()) / (out.max() - out.min())

def ridge(rng, width, base, amplitude):
    line = fractal_noise(rng, 1, width, octaves=8, cells=2)[0]
    return base + (line - 0.5) * amplitude

def make_photo(side, seed=7):
    rng = np.random.default_rng(seed)
    h = w = side
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    v = yy / h; u = xx / w
    # sky: blue to pale haze at the horizon, with clouds
    sky = np.stack([70 + 150 * v, 120 + 110 * v, 200 + 40 * v], -1)
    clouds = np.clip((fractal_noise(rng, h, w, cells=3) - 0.5) * 3.0, 0, 1)[..., None]
    img = sky * (1 - clouds) + np.array([245, 245, 250]) * clouds - 40 * clouds * fractal_noise(rng, h, w, cells=8)[..., None]
    # two mountain ranges, the far one paler
    for base, amp, colour, haze in ((0.40, 0.22, (120, 135, 160), 0.5), (0.50, 0.25, (70, 85, 75), 0.15)):
        top = ridge(rng, w, base * h, amp * h)
        inside = yy > top[None, :]
        rock = fractal_noise(rng, h, w, cells=16, persistence=0.65)[..., None]
        shade = np.array(colour) * (0.6 + 0.8 * rock)
        shade = shade * (1 - haze) + np.array([190, 200, 215]) * haze
        img = np.where(inside[..., None], shade, img)
    # meadow with grass blades (vertically smeared noise), darker towards the camera
    meadow_top = ridge(rng, w, 0.62 * h, 0.06 * h)
    meadow = yy > meadow_top[None, :]
    blades = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (1, 9), sigmaX=0.6, sigmaY=3)
    patches = fractal_noise(rng, h, w, cells=6)
    grass = np.stack([90 + 80 * patches, 120 + 60 * patches, 40 + 20 * patches], -1)
    grass = grass * (0.7 + 0.6 * blades[..., None]) * (1.1 - 0.4 * v[..., None])
    img = np.where(meadow[..., None], grass, img)
    # the main object: a boulder with lit/shadowed sides and its cast shadow
    cx, cy, r = 0.52 * w, 0.74 * h, 0.17 * w
    shadow = ((xx - cx - 0.6 * r) / (1.6 * r)) ** 2 + ((yy - cy - 0.8 * r) / (0.35 * r)) ** 2 < 1
    img = np.where(shadow[..., None], img * 0.55, img)
    angle = np.arctan2(yy - cy, xx - cx)
    # a few random harmonics make a lumpy outline that closes on itself
    lumps = sum(rng.uniform(0.03, 0.08) * np.cos(k * angle + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5, 7))
    boulder = np.hypot((xx - cx) / r, (yy - cy) / (0.8 * r)) < 1 + lumps
    lit = np.clip(0.6 - 0.5 * ((xx - cx) + (yy - cy)) / r, 0.15, 1.2)
    stone = fractal_noise(rng, h, w, cells=24, persistence=0.7)
    rock = np.stack([110 + 90 * stone, 100 + 80 * stone, 90 + 70 * stone], -1) * lit[..., None]
    img = np.where(boulder[..., None], rock, img)
    # camera: vignette, slight lens blur, sensor noise
    img *= (1 - 0.25 * ((u - 0.5) ** 2 + (v - 0.5) ** 2) * 2)[..., None]
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.7)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)



def draw_mask(draw_fn, side):
    mask = Image.new("L", (side, side), 0)
    draw_fn(ImageDraw.Draw(mask))
    return np.array(mask) > 0

def bisect(make_mask, target, low, high, steps=18):
    """The mask whose area fraction is closest to target; make_mask(p) grows with p."""
    for _ in range(steps):
        mid = (low + high) / 2
        if make_mask(mid).mean() < target:
            low = mid
        else:
            high = mid
    return make_mask((low + high) / 2)

def catmull_rom(points, samples=40):
    p = np.asarray(points, float)
    p = np.vstack([p[0], p, p[-1]])
    t = np.linspace(0, 1, samples)[:, None]
    curve = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        curve.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    return np.vstack(curve)

def blob_mask(side, fraction=0.20, seed=3):
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 14))
    radii = rng.uniform(0.75, 1.2, angles.size)
    cx, cy = 0.52 * side, 0.72 * side
    def make(scale):
        pts = [(cx + scale * r * np.cos(a), cy + 0.85 * scale * r * np.sin(a)) for a, r in zip(angles, radii)]
        return draw_mask(lambda d: d.polygon(pts, fill=255), side)
    return bisect(make, fraction, 1, side)

def stroke_mask(side, fraction=0.05):
    pts = catmull_rom(np.array([(0.08, 0.30), (0.30, 0.42), (0.45, 0.60), (0.62, 0.70), (0.85, 0.88)]) * side)
    line = [tuple(p) for p in pts]
    def make(width):
        return draw_mask(lambda d: d.line(line, fill=255, width=int(round(width)), joint="curve"), side)
    return bisect(make, fraction, 1, side / 4)

def scribble_mask(side, fraction=0.01, seed=5):
    rng = np.random.default_rng(seed)
    width = max(2, round(side * 5 / 1024))
    heading = rng.uniform(0, 2 * np.pi)
    point = np.array([0.3, 0.3]) * side
    walk = [tuple(point)]
    mask = np.zeros((side, side), bool)
    while mask.mean() < fraction:
        for _ in range(20):
            heading += rng.normal(0, 0.5)
            point = np.clip(point + side / 60 * np.array([np.cos(heading), np.sin(heading)]), 0.05 * side, 0.95 * side)
            walk.append(tuple(point))
        mask = draw_mask(lambda d: d.line(walk, fill=255, width=width, joint="curve"), side)
    return mask


MASK_MAKERS = {"blob": blob_mask, "stroke": stroke_mask, "scribble": scribble_mask}


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def job_for(photo: np.ndarray, hole: np.ndarray, style: str = "<auto>", seed: int = 0) -> JobInput:
    return JobInput(
        base_image=png_bytes(photo),
        mask_image=png_bytes(hole.astype(np.uint8) * 255),
        base_name="photo.png",
        mask_name="mask.png",
        prompt="",
        style=style,
        size=(photo.shape[1], photo.shape[0]),
        seed=seed,
    )


def timed_fill(engine: str, photo: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, float]:
    """One fill by ``engine`` and its wall time.

    For our engine the time is what the worker spends: ``submit`` on the job's stored
    bytes, including decoding them and encoding the result PNG. Making those input bytes
    and decoding the result for PSNR are the benchmark's own work and are not timed.
    """
    if engine == "offline":
        job_input = job_for(photo, hole)
        start = time.perf_counter()
        content = OfflineEngine().submit(job_input).results[0].content
        elapsed = time.perf_counter() - start
        return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")), elapsed
    flag = cv2.INPAINT_TELEA if engine == "telea" else cv2.INPAINT_NS
    start = time.perf_counter()
    result = cv2.inpaint(photo, hole.astype(np.uint8), 3, flag)
    return result, time.perf_counter() - start


def psnr_inside(result: np.ndarray, original: np.ndarray, hole: np.ndarray) -> float:
    error = (result[hole].astype(np.float64) - original[hole]) ** 2
    return float(10 * np.log10(255**2 / error.mean()))


def measure(engine: str, case: str) -> dict:
    """Runs in the child process: times RUNS fills, saves the last for the montage."""
    # Inputs are made by the parent, so that their making does not count in the peak RSS.
    photo = np.asarray(Image.open(input_path("photo")))
    hole = np.asarray(Image.open(input_path(case))) > 0
    times = []
    for _ in range(RUNS):
        result, elapsed = timed_fill(engine, photo, hole)
        times.append(elapsed)
    Image.fromarray(result).save(result_path(engine, case))
    return {
        "seconds": statistics.median(times),
        "peak_rss_mb": peak_rss_mb(),
        "psnr": psnr_inside(result, photo, hole),
        "mask_share": float(hole.mean()),
    }


def input_path(name: str) -> Path:
    return Path("/tmp") / f"bench_offline_input_{name}.png"


def peak_rss_mb() -> float:
    """This process's peak RSS since exec.

    ru_maxrss would also count the parent's peak from before the fork (Linux keeps it
    across exec), and the parent holds the big input-making arrays; VmHWM does not.
    """
    status = Path("/proc/self/status").read_text()
    if "VmHWM:" not in status:  # without /proc: ru_maxrss (kB on Linux)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def result_path(engine: str, case: str) -> Path:
    return Path("/tmp") / f"bench_offline_{engine}_{case}.png"


def measure_in_fresh_process(engine: str, case: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", engine, case], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def markdown_table(figures: dict) -> str:
    lines = [
        "| case (mask share) | offline: median s / peak RSS MB / PSNR dB | Telea: s / MB / dB | NS: s / MB / dB |",
        "|---|---|---|---|",
    ]
    for case in CASES:
        share = figures[("offline", case)]["mask_share"]
        cells = [
            f"{f['seconds']:.3f} / {f['peak_rss_mb']:.0f} / {f['psnr']:.1f}"
            for f in (figures[(engine, case)] for engine in ENGINES)
        ]
        lines.append(f"| {case} ({share:.1%}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def labelled(image: np.ndarray, label: str) -> Image.Image:
    tile = Image.fromarray(image).resize((MONTAGE_TILE, MONTAGE_TILE), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(tile)
    font = ImageFont.load_default(size=15)
    draw.rectangle((0, 0, MONTAGE_TILE, 22), fill=(0, 0, 0))
    draw.text((5, 3), label, fill=(255, 255, 255), font=font)
    return tile


def mask_overlay(photo: np.ndarray, hole: np.ndarray) -> np.ndarray:
    overlay = photo.copy()
    overlay[hole] = (0.4 * photo[hole] + 0.6 * np.array([255, 0, 255])).astype(np.uint8)
    return overlay


def save_montage(rows: list[list[Image.Image]], path: Path) -> None:
    montage = Image.new("RGB", (MONTAGE_TILE * len(rows[0]), MONTAGE_TILE * len(rows)))
    for row_index, row in enumerate(rows):
        for column, tile in enumerate(row):
            montage.paste(tile, (column * MONTAGE_TILE, row_index * MONTAGE_TILE))
    path.parent.mkdir(exist_ok=True)
    montage.save(path, quality=85)
    assert path.stat().st_size <= 1024 * 1024, f"{path} is over 1 MB"


def engine_montage(figures: dict, photo: np.ndarray) -> None:
    rows = []
    for case in CASES:
        hole = MASK_MAKERS[case](SIDE)
        ours, telea = figures[("offline", case)], figures[("telea", case)]
        rows.append([
            labelled(photo, "original"),
            labelled(mask_overlay(photo, hole), f"{case} mask {hole.mean():.1%}"),
            labelled(np.asarray(Image.open(result_path("offline", case))), f"ours {ours['seconds']:.2f} s, {ours['psnr']:.1f} dB"),
            labelled(np.asarray(Image.open(result_path("telea", case))), f"Telea {telea['seconds']:.2f} s, {telea['psnr']:.1f} dB"),
        ])
    save_montage(rows, ROOT / "docs" / "offline-engine-montage.jpg")


def styles_montage(photo: np.ndarray) -> None:
    """The blob filled with each style, cropped around the blob to show the filters."""
    hole = blob_mask(SIDE)
    engine = OfflineEngine()
    tiles = []
    for style in ["<auto>", *STYLE_FILTERS]:
        content = engine.submit(job_for(photo, hole, style=style)).results[0].content
        filled = np.asarray(Image.open(io.BytesIO(content)).convert("RGB"))
        tiles.append(labelled(filled[SIDE // 3 :, SIDE // 8 : SIDE * 7 // 8], style))
    tiles.insert(0, labelled(mask_overlay(photo, hole)[SIDE // 3 :, SIDE // 8 : SIDE * 7 // 8], "blob mask"))
    save_montage([tiles[:3], tiles[3:6], tiles[6:]], ROOT / "docs" / "offline-styles-montage.jpg")


def main() -> None:
    photo = make_photo(SIDE)
    Image.fromarray(photo).save(input_path("photo"))
    for case in CASES:
        Image.fromarray(MASK_MAKERS[case](SIDE).astype(np.uint8) * 255).save(input_path(case))
    figures = {(engine, case): measure_in_fresh_process(engine, case) for case in CASES for engine in ENGINES}
    print(markdown_table(figures))
    engine_montage(figures, photo)
    styles_montage(photo)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2], sys.argv[3])))
    else:
        main()
