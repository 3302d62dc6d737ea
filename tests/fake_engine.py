"""A tiny engine that lives in the test suite, to show that a new engine is one module and one setting."""

from __future__ import annotations

import io

from PIL import Image

from inpaint import options
from inpaint.engines.base import Engine, EngineLimits, JobInput, SlotResult, TaskState, TaskStatus

FLAT_COLOUR = (255, 0, 255)


class FlatColourEngine(Engine):
    """Paints the masked area one flat colour, inside the worker."""

    key = "flat-colour"
    label = "Flat colour (test engine)"
    follows_prompt = False
    controls = options.CONTROLS - {"style"}
    limits = EngineLimits(min_side=1, max_side=8192, max_bytes=0, max_prompt_chars=100)

    def is_configured(self) -> bool:
        return True

    def send_size(self, width: int, height: int) -> tuple[int, int]:
        return width, height

    def submit(self, job_input: JobInput) -> TaskState:
        picture = Image.open(io.BytesIO(job_input.base_image)).convert("RGB")
        mask = Image.open(io.BytesIO(job_input.mask_image)).convert("L")
        picture.paste(FLAT_COLOUR, mask=mask)
        buffer = io.BytesIO()
        picture.save(buffer, "PNG")
        return TaskState(status=TaskStatus.SUCCEEDED, results=[SlotResult(content=buffer.getvalue())] * job_input.n)
