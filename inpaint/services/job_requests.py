"""Preparing a job: what a valid job form asks for, checked against what only the server knows, and made ready to store.

The form checks each field on its own. Here the request meets the server: which engines it can run, how long a
prompt each model reads, the pictures themselves (decoded, turned upright, measured against the app's limits), and
which held pictures are the person's. Decoding is the costly part, so the caller holds a decode slot
(inpaint.decode_bound) while job_request_make runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_noop

from inpaint import images, images_expand, images_upscale, options
from inpaint.engines import engine_get
from inpaint.engines.base import Engine
from inpaint.files import serving
from inpaint.models import InpaintJob
from inpaint.services.refusals import JobRequestRefused

# Translated as they are raised.
NO_KEY_MESSAGE = gettext_noop("This server has no DashScope key, so cloud models are switched off. "
                              "Choose the offline engine, or ask the administrator to add a key.")
NO_PICTURE_MESSAGE = gettext_noop("Choose a picture to paint on.")
HELD_PICTURE_GONE_MESSAGE = gettext_noop("That picture is no longer here (its job may have been deleted); "
                                         "choose a picture again.")
# What job_request_make needs from the form to check the request against the server; the other controls
# fall back to their defaults, so a request is checked (and its refusals shown) while one of them is wrong.
REQUEST_FIELDS = frozenset({"engine", "prompt", "base_image", "base_source", "mask_image", "mask_color", "function",
                            *options.EXPAND_SIDES, "upscale_factor"})
# Taking text out and upscaling need no words: the engine says them (options.REMOVE_TEXT_PROMPT, UPSCALE_PROMPT).
PROMPT_OPTIONAL_FUNCTIONS = frozenset({options.FUNCTION_REMOVE_TEXT, options.FUNCTION_UPSCALE})
NO_MASK_MESSAGE = gettext_noop("Paint the area you want to change.")
NO_EXPANSION_MESSAGE = gettext_noop("Drag an edge of the picture outwards, or pick a preset, to say how far to "
                                    "extend it.")
EXPAND_PROMPT_MESSAGE = gettext_noop("Say in a few words what the picture shows, so that its new border can "
                                     "continue it.")
TOO_LARGE_MESSAGE = gettext_noop("Extended this far, the picture would be {} × {} pixels ({:.1f} megapixels); this "
                                 "app makes pictures of at most {:g} megapixels. Extend it less, or start from a "
                                 "smaller picture.")
UPSCALE_TOO_LARGE_MESSAGE = gettext_noop("Upscaled ×{} the picture would be {} × {} pixels ({:.1f} megapixels); this app "
                                         "makes pictures of at most {:g} megapixels. Choose a smaller factor.")
UPSCALE_TOO_LONG_MESSAGE = gettext_noop("This engine upscales ×{} pictures of at most {} pixels on their longer side in "
                                        "one piece, and this one is {} × {}. Choose a smaller factor, or upscale a "
                                        "smaller picture.")


@dataclass(frozen=True)
class JobRequest:
    """One job as the person asked for it, checked and ready to store: the engine, the options it is sent
    (a control the engine does not take holds its default), and the prepared picture and mask."""

    engine: Engine
    prompt: str
    style: str
    negative_prompt: str
    size: str
    n: int
    mask_color: list[list[int]]
    context: str
    edge_softness: int
    base: images.PreparedImage
    mask_png: bytes
    function: str = options.FUNCTION_EDIT
    top_scale: float = options.EXPAND_SCALE_MIN
    bottom_scale: float = options.EXPAND_SCALE_MIN
    left_scale: float = options.EXPAND_SCALE_MIN
    right_scale: float = options.EXPAND_SCALE_MIN
    upscale_factor: int = options.UPSCALE_FACTOR_DEFAULT
    seed: int | None = None  # None: job_create draws one, so two equal requests still paint differently


def job_request_make(cleaned_data: dict, *, owned_jobs: QuerySet[InpaintJob] | None) -> JobRequest:
    """The request a JobForm's ``cleaned_data`` makes (REQUEST_FIELDS at least), a held picture
    (``base_source``) taken from ``owned_jobs`` (the person's own) only; raises JobRequestRefused naming
    each field that cannot stand."""
    engine = engine_get(cleaned_data["engine"])
    if not engine.is_configured():
        # Nothing else is looked at: the person first has to choose another engine, which may want other things.
        raise JobRequestRefused({"engine": gettext(NO_KEY_MESSAGE)})
    # A control the engine does not take was checked like any other, and is ignored (the page hides it).
    controls = {control: cleaned_data.get(control, default) if control in engine.controls else default
                for control, default in options.CONTROL_DEFAULTS.items()}
    expanding = controls["function"] == options.FUNCTION_EXPAND
    upscaling = controls["function"] == options.FUNCTION_UPSCALE
    if not expanding:
        # Scales typed before switching back to repainting mean nothing to it.
        controls.update({side: options.CONTROL_DEFAULTS[side] for side in options.EXPAND_SIDES})
    if upscaling:
        # The factor is the size asked for, and the whole picture is sent.
        controls.update(size=options.SIZE_DEFAULT, context=options.CONTEXT_DEFAULT)
    else:
        controls["upscale_factor"] = options.CONTROL_DEFAULTS["upscale_factor"]
    errors = {}
    if prompt_error := _prompt_error(engine, cleaned_data["prompt"], function=controls["function"]):
        errors["prompt"] = prompt_error
    if expanding and all(controls[side] == options.EXPAND_SCALE_MIN for side in options.EXPAND_SIDES):
        errors["function"] = gettext(NO_EXPANSION_MESSAGE)
    base = mask_png = None
    try:
        base = _base_prepare(cleaned_data["base_image"], cleaned_data["base_source"], owned_jobs)
    except images.ImageRefused as refusal:
        errors["base_image"] = str(refusal)
    if base is not None and controls["function"] in options.WHOLE_PICTURE_FUNCTIONS:
        if too_large := (_upscale_error(engine, base, controls["upscale_factor"]) if upscaling
                         else _expansion_error(base, controls)):
            errors["function"] = too_large
        else:
            # The region is the whole picture: the stored mask covers it all, and is never sent.
            mask_png = images.whole_mask((base.width, base.height))
    elif base is not None:
        # The mask is measured against the picture, so without one it cannot be checked.
        try:
            mask_png = _mask_prepare(cleaned_data["mask_image"], base, cleaned_data["mask_color"])
        except images.ImageRefused as refusal:
            errors["mask_image"] = str(refusal)
    if errors:
        raise JobRequestRefused(errors)
    return JobRequest(engine=engine, prompt=cleaned_data["prompt"], mask_color=cleaned_data["mask_color"],
                      base=base, mask_png=mask_png, **controls)


def _expansion_error(base: images.PreparedImage, controls: dict) -> str:
    """Why the extended picture cannot be made ("" when it can): past the app's own limit, before anything is sent."""
    expansion = images_expand.expansion_of((base.width, base.height), controls)
    pixels, max_pixels = expansion.new_width * expansion.new_height, settings.INPAINT_MAX_PIXELS
    if pixels <= max_pixels:
        return ""
    return gettext(TOO_LARGE_MESSAGE).format(expansion.new_width, expansion.new_height, pixels / 1e6, max_pixels / 1e6)


def _upscale_error(engine: Engine, base: images.PreparedImage, factor: int) -> str:
    """Why the picture cannot be upscaled ``factor`` times ("" when it can), before anything is sent."""
    width, height = images_upscale.upscale_size((base.width, base.height), factor)
    max_pixels = settings.INPAINT_MAX_PIXELS
    if width * height > max_pixels:
        return gettext(UPSCALE_TOO_LARGE_MESSAGE).format(factor, width, height, width * height / 1e6, max_pixels / 1e6)
    try:
        images_upscale.upscale_send_size((base.width, base.height), factor, min_side=engine.limits.min_side,
                                         max_side=engine.limits.max_side)
    except images_upscale.UpscaleRefused as refusal:
        return gettext(UPSCALE_TOO_LONG_MESSAGE).format(factor, refusal.largest, base.width, base.height)
    return ""


def _prompt_error(engine: Engine, prompt: str, *, function: str) -> str:
    if engine.follows_prompt and not prompt.strip() and function not in PROMPT_OPTIONAL_FUNCTIONS:
        if function == options.FUNCTION_EXPAND:
            return gettext(EXPAND_PROMPT_MESSAGE)
        return gettext("Say in a few words what should appear in the painted area.")
    if len(prompt) > engine.limits.max_prompt_chars:
        return gettext("The prompt is %(count)d characters; this model reads at most %(limit)d. Shorten it.") % {
            "count": len(prompt), "limit": engine.limits.max_prompt_chars}
    return ""


def _limits() -> dict:
    # The app's own limits: the engine's are met by the work region, never by the person.
    return {"max_bytes": settings.INPAINT_MAX_UPLOAD_BYTES, "max_pixels": settings.INPAINT_MAX_PIXELS}


def _base_prepare(upload: UploadedFile | None, source: str,
                  owned_jobs: QuerySet[InpaintJob] | None) -> images.PreparedImage:
    limits = _limits()
    if upload is not None:
        # Before reading: a file over the limit is never taken into memory.
        images.check_file_size(upload.size, what="picture", max_bytes=limits["max_bytes"])
        return images.prepare_base_image(upload.read(), min_side=settings.INPAINT_MIN_SIDE, **limits)
    if not source:
        raise images.ImageRefused(gettext(NO_PICTURE_MESSAGE))
    try:
        held = serving.job_held_picture_read(owned_jobs, source)
    except serving.NoSuchFile:
        # Another person's picture is answered exactly like one that is gone.
        raise images.ImageRefused(gettext(HELD_PICTURE_GONE_MESSAGE)) from None
    # The app made or took this file itself: the upload's byte limit is not the person's to meet.
    return images.prepare_base_image(held, min_side=settings.INPAINT_MIN_SIDE, max_bytes=len(held),
                                     max_pixels=limits["max_pixels"])


def _mask_prepare(upload: UploadedFile | None, base: images.PreparedImage, mask_color: list[list[int]]) -> bytes:
    if upload is None:
        raise images.ImageRefused(gettext(NO_MASK_MESSAGE))
    limits = _limits()
    images.check_file_size(upload.size, what="mask", max_bytes=limits["max_bytes"])
    return images.prepare_mask(upload.read(), base_size=(base.width, base.height), mask_color=mask_color, **limits)
