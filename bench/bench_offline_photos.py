"""Quality benchmark of the offline engine on real photographs (issue 18), on this machine's 2 cores.

    .venv/bin/python bench/bench_offline_photos.py [--engine-root DIR] [--only CASE,...] [--no-montage]

The photos are scikit-image's own (``skimage.data``: rocket, coffee, astronaut, chelsea, shipped
inside the wheel, nothing is downloaded; scikit-image is a test-only dependency), scaled up with
Lanczos to phone sizes from 1 to 24 MP, with object-removal masks: thin, tall, against texture,
against flat sky and against straight lines. Every case goes the worker's whole way in a fresh
process: the work region cut and scaled as the core does it, the engine's ``submit``, and the
paste-back at full size (``inpaint.regions``); time and peak RSS (VmHWM) are that process's.
Side by side in the same run: plain PyPatchMatch (patch radius 3) on the same work region at the
same resolution, and OpenCV Telea, both pasted back the same way.

Per case and engine, measured on the full-size result, in the painted area and around it:

* **detail**: the variance of the Laplacian (of the luminance) inside the hole over that of a
  ring of known pixels around it; the same ratio on the photo itself is printed beside it;
* **seam**: the mean gradient magnitude on the hole's border band (2 px each side of the edge)
  over the mean gradient just outside it (4 to 12 px out); a ghost or a step shows as > 1;
* **colour**: the distance (RGB, 0-255) between the mean colour of the fill's outer band (8 px
  inside the edge) and that of the ring (8 px outside);
* time (s) and peak memory (MB).

Targets on every case: detail ≥ 0.8, seam ≤ 1.3, and at 24 MP with a 2 % mask ≤ 3 s and ≤ 600 MB.
``--engine-root DIR`` runs the offline engine of another checkout (e.g. the one before issue 18)
for a before/after comparison. Writes docs/offline-engine-montage.jpg (before | ours | PatchMatch
| Telea, cropped around each hole).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path("/tmp/bench_offline_photos")
ENGINES = ("offline", "patchmatch", "telea")
TILE = 320
TARGET_DETAIL, TARGET_SEAM = 0.8, 1.3
EDGE_BAND, OUTSIDE_FROM, OUTSIDE_TO, COLOUR_BAND, RING = 2, 4, 12, 8, 24


@dataclass(frozen=True)
class Case:
    """A photo scaled to ``size`` and a mask of rectangles given as fractions of it."""

    photo: str
    size: tuple[int, int]
    boxes: tuple[tuple[float, float, float, float], ...]
    what: str


CASES = {
    "rocket-ghost": Case("rocket", (3000, 2000), ((0.466, 0.28, 0.541, 0.93),), "tall object against flat sky"),
    "rocket-24mp": Case("rocket", (6000, 4000), ((0.283, 0.27, 0.33, 0.92),), "24 MP, 2 % mask: a mast against the sky"),
    "rocket-rod": Case("rocket", (1500, 1000), ((0.683, 0.27, 0.713, 0.46),), "thin object against flat sky"),
    "rocket-tower": Case("rocket", (2400, 1600), ((0.895, 0.33, 0.96, 0.45),), "against straight lines (lattice)"),
    "coffee-rim": Case("coffee", (1800, 1200), ((0.72, 0.42, 0.81, 0.62),), "saucer rim beside the cup"),
    "coffee-spoon": Case("coffee", (1800, 1200), ((0.655, 0.16, 0.71, 0.36),), "spoon handle against wood grain"),
    "astronaut-hair": Case("astronaut", (1024, 1024), ((0.215, 0.06, 0.33, 0.215),), "cuts into hair beside the flag"),
    "astronaut-flag": Case("astronaut", (2048, 2048), ((0.0, 0.0, 0.195, 0.52),), "flag beside the sleeve"),
    "astronaut-shuttle": Case("astronaut", (2048, 2048), ((0.735, 0.0, 0.86, 0.2),), "object against a plain backdrop"),
    "chelsea-ear": Case("chelsea", (1804, 1200), ((0.72, 0.0, 0.86, 0.2),), "cat's ear against fur and background"),
}


def case_inputs(name: str) -> tuple[Path, Path]:
    """The case's photo (PNG, lossless) and mask, made once and kept in SCRATCH."""
    case = CASES[name]
    picture_path, mask_path = SCRATCH / f"{name}.png", SCRATCH / f"{name}-mask.png"
    if not picture_path.exists():
        from skimage import data  # noqa: PLC0415 (a test-only dependency, only the parent needs it)

        SCRATCH.mkdir(exist_ok=True)
        photo = Image.fromarray(getattr(data, case.photo)()).convert("RGB")
        photo.resize(case.size, Image.Resampling.LANCZOS).save(picture_path, compress_level=1)
        mask = Image.new("L", case.size, 0)
        for box in case.boxes:
            width, height = case.size
            ImageDraw.Draw(mask).rectangle((box[0] * width, box[1] * height, box[2] * width, box[3] * height), fill=255)
        mask.save(mask_path)
    return picture_path, mask_path


# --- the engines, each run in a child process --------------------------------------------------------

def run_child(engine: str, picture_path: Path, mask_path: Path, out_path: Path) -> None:
    import patchmatch  # noqa: PLC0415
    from django.conf import settings  # noqa: PLC0415

    # The engine's messages are translatable; Django's defaults are all they need, not the app's settings
    # (which want a secret key and a database).
    settings.configure()

    from inpaint import options, regions  # noqa: PLC0415
    from inpaint.engines.base import JobInput  # noqa: PLC0415
    from inpaint.engines.offline import OfflineEngine  # noqa: PLC0415

    picture, mask = picture_path.read_bytes(), mask_path.read_bytes()
    offline = OfflineEngine()
    started = time.perf_counter()
    prepared = regions.region_prepare(picture, mask, context="normal", shapes=None, min_side=0,
                                      send_size=offline.send_size, max_bytes=None)
    if engine == "offline":
        raw = offline.submit(JobInput(base_image=prepared.image, mask_image=prepared.mask, base_name="r.png",
                                      mask_name="m.png", prompt="", size=prepared.send_size)).results[0].content
    else:
        region = np.asarray(Image.open(io.BytesIO(prepared.image)).convert("RGB"))
        hole = np.asarray(Image.open(io.BytesIO(prepared.mask))) > 0
        if engine == "patchmatch":
            patchmatch.set_random_seed(0)
            filled = patchmatch.inpaint(region, hole.astype(np.uint8), patch_size=3)
        else:
            filled = cv2.inpaint(region, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        buffer = io.BytesIO()
        Image.fromarray(filled).save(buffer, "PNG", compress_level=1)
        raw = buffer.getvalue()
    composed = regions.result_compose(picture, mask, prepared.region, raw, edge_softness=options.EDGE_SOFTNESS_DEFAULT)
    seconds = time.perf_counter() - started
    out_path.write_bytes(composed.png)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(),
                      "filled_at": list(prepared.send_size), "region": [prepared.region.width, prepared.region.height]}))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_engine(engine: str, name: str, engine_root: Path) -> dict:
    picture_path, mask_path = case_inputs(name)
    out_path = SCRATCH / f"{name}-{engine}-{engine_root.name}.png"
    output = subprocess.run([sys.executable, __file__, "--child", engine, str(picture_path), str(mask_path),
                             str(out_path)], cwd=engine_root, check=True, capture_output=True, text=True,
                            env={"PYTHONPATH": str(engine_root), "PATH": "/usr/bin:/bin"}).stdout
    return {**json.loads(output.strip().splitlines()[-1]), "result": str(out_path)}


# --- the measures --------------------------------------------------------------------------------------

def bands(hole: np.ndarray) -> dict[str, np.ndarray]:
    """Bands of pixels by their distance to the hole's edge, inside and outside."""
    inside = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 3)
    return {
        "edge": ((inside > 0) & (inside <= EDGE_BAND)) | ((outside > 0) & (outside <= EDGE_BAND)),
        "just_outside": (outside > OUTSIDE_FROM) & (outside <= OUTSIDE_TO),
        "fill_band": (inside > 0) & (inside <= COLOUR_BAND),
        "colour_ring": (outside > 0) & (outside <= COLOUR_BAND),
        "ring": (outside > 0) & (outside <= RING),
    }


def figures(result: np.ndarray, hole: np.ndarray) -> dict:
    """Detail ratio, seam ratio and colour step of a result (H×W×3 uint8) around its hole."""
    rows, cols = np.nonzero(hole)
    pad = RING + 4
    box = (slice(max(0, rows.min() - pad), rows.max() + pad + 1), slice(max(0, cols.min() - pad), cols.max() + pad + 1))
    crop, inside = result[box], hole[box]
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = cv2.Laplacian(grey, cv2.CV_32F, ksize=3)
    gradient = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    band = bands(inside)
    # The Laplacian of a pixel next to the edge sees both sides; the fill's own detail starts 2 px in.
    deep = inside & ~band["edge"]
    colour = np.linalg.norm(crop[band["fill_band"]].mean(axis=0) - crop[band["colour_ring"]].mean(axis=0))
    return {
        "detail": float(laplacian[deep if deep.any() else inside].var() / max(laplacian[band["ring"]].var(), 1e-6)),
        "seam": float(gradient[band["edge"]].mean() / max(gradient[band["just_outside"]].mean(), 1e-6)),
        "colour": float(colour),
    }


def read_rgb(path: str | Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


# --- the report and the montage ---------------------------------------------------------------------

def crop_box(hole: np.ndarray) -> tuple[int, int, int, int]:
    """A square around the hole with as much context again, inside the picture: (left, top, right, bottom)."""
    rows, cols = np.nonzero(hole)
    side = int(max(rows.max() - rows.min(), cols.max() - cols.min()) * 2.0) + 32
    side = min(side, *hole.shape)
    centre_row, centre_col = (rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2
    top = int(np.clip(centre_row - side // 2, 0, hole.shape[0] - side))
    left = int(np.clip(centre_col - side // 2, 0, hole.shape[1] - side))
    return left, top, left + side, top + side


def tile(image: np.ndarray, box: tuple[int, int, int, int], label: str) -> Image.Image:
    picture = Image.fromarray(image).crop(box).resize((TILE, TILE), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, TILE, 20), fill=(0, 0, 0))
    draw.text((4, 3), label, fill=(255, 255, 255), font=ImageFont.load_default(size=13))
    return picture


def outline(photo: np.ndarray, hole: np.ndarray) -> np.ndarray:
    edge = hole & ~cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    shown = photo.copy()
    shown[edge] = (255, 0, 255)
    return shown


def montage(rows: list[list[Image.Image]], path: Path) -> None:
    sheet = Image.new("RGB", (TILE * max(len(row) for row in rows), TILE * len(rows)))
    for index, row in enumerate(rows):
        for column, picture in enumerate(row):
            sheet.paste(picture, (column * TILE, index * TILE))
    sheet.save(path, quality=82)


def main(arguments: list[str]) -> None:
    engine_root = Path(arguments[arguments.index("--engine-root") + 1]) if "--engine-root" in arguments else None
    names = arguments[arguments.index("--only") + 1].split(",") if "--only" in arguments else list(CASES)
    runs = [("offline", ROOT), *((engine, ROOT) for engine in ENGINES[1:])]
    if engine_root:
        runs.insert(0, ("offline", engine_root))
    print("| case | MP | engine | detail (photo) | seam (photo) | colour | time s | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    sheet = []
    for name in names:
        picture_path, mask_path = case_inputs(name)
        photo, hole = read_rgb(picture_path), np.asarray(Image.open(mask_path)) > 0
        reference = figures(photo, hole)
        box = crop_box(hole)
        row = [tile(outline(photo, hole), box, f"{name} ({hole.mean():.1%})")]
        for engine, root in runs:
            label = "before" if root != ROOT else ("ours" if engine == "offline" else engine)
            run = run_engine(engine, name, root)
            result = read_rgb(run["result"])
            measured = figures(result, hole)
            print(f"| {name} | {hole.size / 1e6:.1f} | {label} | {measured['detail']:.2f} ({reference['detail']:.2f}) | "
                  f"{measured['seam']:.2f} ({reference['seam']:.2f}) | {measured['colour']:.1f} | {run['seconds']:.2f} | "
                  f"{run['peak_mb']:.0f} |", flush=True)
            row.append(tile(result, box, f"{label} d {measured['detail']:.2f} s {measured['seam']:.2f}"))
        sheet.append(row)
    if "--no-montage" not in arguments:
        montage(sheet, ROOT / "docs" / "offline-engine-montage.jpg")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.path.insert(0, str(Path.cwd()))
        run_child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main(sys.argv[1:])
