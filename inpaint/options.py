"""The job's options and the limits the page shares with the server, each written once (issue 19).

The form, the model's defaults, the work region, the mask colours, the services and the page's
scripts all take these values from here; the scripts get them through ``options_for_page``, which
the studio page writes into one ``json_script`` block (read by static/inpaint/options.js). A leaf
module: it imports nothing of the app, so anything may import it.

Its labels and messages are English, marked with ``_`` for makemessages; what shows them translates them
(inpaint.forms, and ``options_for_page`` with the translation function it is given).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Callable
from dataclasses import dataclass


def _(text: str) -> str:
    """Mark ``text`` for translation; this leaf module imports no Django, so whoever shows it translates it."""
    return text


# The API's own style values, with what the page calls them; "<auto>" is no style at all.
STYLES = (
    ("<auto>", _("Automatic")),
    ("<3d cartoon>", _("3D cartoon")),
    ("<anime>", _("Anime")),
    ("<oil painting>", _("Oil painting")),
    ("<watercolor>", _("Watercolour")),
    ("<sketch>", _("Sketch")),
    ("<chinese painting>", _("Chinese painting")),
    ("<flat illustration>", _("Flat illustration")),
)
STYLE_DEFAULT = "<auto>"

# The result's size, as a share of the picture's (the form's "Output size").
SIZES = (("original", _("Original size")), ("half", _("Half size")), ("quarter", _("Quarter size")))
SIZE_SCALES = {"original": 1.0, "half": 0.5, "quarter": 0.25}
SIZE_DEFAULT = "original"
# Half and quarter size mean something only for a picture at least this long on its long side.
SIZE_SMALLER_MIN_SIDE = 2048

# How much of the picture around the painted area the engine sees (inpaint.regions gives each its margins).
CONTEXTS = (("little", _("A little")), ("normal", _("Normal")), ("whole", _("The whole picture")))
CONTEXT_DEFAULT = "normal"

# The band's smoothstep has a steepest slope of 1.5 / softness, so a model whose colours drift by
# 12 levels (common after its scaling and encoding) steps by at most 2.25 levels a pixel at 8 px:
# under what the eye finds in a smooth sky, while the model's pixels reach only 10 px past the mask.
EDGE_SOFTNESS_DEFAULT = 8
# The work region keeps this much room around the mask for the band (inpaint.regions.region_prepare).
EDGE_SOFTNESS_MAX = 64

COUNTS = (1, 2, 3, 4)
COUNT_DEFAULT = 1

# A pixel of a coloured mask counts as a listed colour within this much per channel.
MASK_COLOUR_TOLERANCE = 8
MAX_MASK_COLOURS = 16
MASK_COLOUR_MESSAGES = {
    "syntax": _("Write the mask colours as a list of [red, green, blue], e.g. [[0, 0, 0]]."),
    "values": _("Each mask colour must be three whole numbers from 0 to 255, e.g. [134, 134, 134]."),
    "too_long": _("Write at most %(count)d mask colours, e.g. [[0, 0, 0], [134, 134, 134]]; this text is "
                  "too long to be such a list."),
}


def mask_colour_messages(translate: Callable[[str], str] = str) -> dict[str, str]:
    """The mask colours' refusals, translated, with the limit put in."""
    return {key: translate(message) % {"count": MAX_MASK_COLOURS} if "%(count)" in message else translate(message)
            for key, message in MASK_COLOUR_MESSAGES.items()}

# Longest side the editor paints at; a larger picture is shown and painted on a proxy this size
# (the server makes that proxy, inpaint.images.picture_preview): a 48 MP photo would need some
# 600 MB of canvases at full size.
PROXY_MAX_SIDE = 4096

# The brush's diameter in mask pixels: the slider's range, and the editor's for every other way of sizing it.
BRUSH_MIN = 1
BRUSH_MAX = 500
BRUSH_DEFAULT = 40


@dataclass(frozen=True)
class UploadFormat:
    """A picture format people may bring: Pillow's name for it, the page's, its MIME types and file endings."""

    pillow: str
    name: str
    types: tuple[str, ...]
    endings: tuple[str, ...]


# Recognised by content, never by name. Pillow's JPEG opener also reads the JPEGs some phones write
# with extra frames, and names them MPO; HEIC is what phones write (pillow-heif reads it).
UPLOAD_FORMATS = (
    UploadFormat("JPEG", "JPEG", ("image/jpeg",), (".jpg", ".jpeg")),
    UploadFormat("PNG", "PNG", ("image/png",), (".png",)),
    UploadFormat("WEBP", "WebP", ("image/webp",), (".webp",)),
    UploadFormat("HEIF", "HEIC", ("image/heic", "image/heif"), (".heic", ".heif")),
    UploadFormat("TIFF", "TIFF", ("image/tiff",), (".tif", ".tiff")),
    UploadFormat("BMP", "BMP", ("image/bmp",), (".bmp",)),
)
UPLOAD_PILLOW_FORMATS = tuple(upload.pillow for upload in UPLOAD_FORMATS)


def upload_names(translate: Callable[[str], str] = str) -> str:
    """The formats people may bring, for a sentence: "JPEG, PNG, … or BMP"."""
    return translate(_("%(names)s or %(last)s")) % {
        "names": ", ".join(upload.name for upload in UPLOAD_FORMATS[:-1]), "last": UPLOAD_FORMATS[-1].name}


UPLOAD_NAMES = upload_names()
# The file input's accept attribute: the MIME types, and the endings for systems that name no type.
UPLOAD_ACCEPT = ",".join([t for upload in UPLOAD_FORMATS for t in upload.types]
                         + [e for upload in UPLOAD_FORMATS for e in upload.endings])

# The job form's controls that an engine may do without; each engine declares the ones it takes
# (inpaint.engines.base.Engine.controls), and the page shows only those. Each one it does not take
# is sent, and ignored, at this default.
# The Qwen edit models read at most this many characters of a negative prompt (reference §7).
NEGATIVE_PROMPT_MAX_CHARS = 500
NEGATIVE_PROMPT_DEFAULT = ""

# What the engine is asked to do, by the API's own function names (wanx2.1-imageedit, reference section 7.2):
# repaint the painted area, take the text and watermarks out of it, or extend the canvas beyond the picture's
# edges (outpaint).
FUNCTION_EDIT = "description_edit_with_mask"
FUNCTION_REMOVE_TEXT = "remove_watermark"
FUNCTION_EXPAND = "expand"
FUNCTION_UPSCALE = "super_resolution"
FUNCTIONS = ((FUNCTION_EDIT, _("Repaint the painted area")), (FUNCTION_REMOVE_TEXT, _("Remove text and watermarks")),
             (FUNCTION_EXPAND, _("Extend the picture")), (FUNCTION_UPSCALE, _("Upscale")))
# The functions that read no mask and are sent the whole picture: the stored mask covers all of it.
WHOLE_PICTURE_FUNCTIONS = frozenset({FUNCTION_EXPAND, FUNCTION_UPSCALE})
# remove_watermark takes no mask, so it cleans the whole region it is sent and the paste-back keeps only the
# painted area. Its prompt is required by the API, and the person need not write one: this is the
# documentation's own example, in the language the model reads best.
REMOVE_TEXT_PROMPT = "去除图像中的文字"
# How far ``expand`` extends each side, as a share of the picture's width or height (the API's range).
EXPAND_SIDES = ("top_scale", "bottom_scale", "left_scale", "right_scale")
EXPAND_SCALE_MIN = 1.0
EXPAND_SCALE_MAX = 2.0
# The page's presets: the picture's own size times a factor, or a shape (width over height) it is extended to.
EXPAND_PRESET_SCALES = (1.25, 1.5, 2.0)
EXPAND_PRESET_ASPECTS = ((1, 1), (4, 5), (3, 2), (16, 9), (9, 16))
# How many times wider and taller ``super_resolution`` makes the picture (the API takes 1–4; at 1 it only
# sharpens, which is not what the page offers). Its prompt is required by the API and means little to it: the
# documentation's own example is sent when the person writes none.
UPSCALE_FACTORS = (2, 3, 4)
UPSCALE_FACTOR_DEFAULT = 2
UPSCALE_PROMPT = "图像超分。"

CONTROL_DEFAULTS = {
    "function": FUNCTION_EDIT,
    **{side: EXPAND_SCALE_MIN for side in EXPAND_SIDES},
    "upscale_factor": UPSCALE_FACTOR_DEFAULT,
    "style": STYLE_DEFAULT,
    "negative_prompt": NEGATIVE_PROMPT_DEFAULT,
    "size": SIZE_DEFAULT,
    "context": CONTEXT_DEFAULT,
    "edge_softness": EDGE_SOFTNESS_DEFAULT,
    "n": COUNT_DEFAULT,
}
CONTROLS = frozenset(CONTROL_DEFAULTS)
# The controls of a choice of function, which only an engine whose API has one takes.
FUNCTION_CONTROLS = frozenset({"function", *EXPAND_SIDES, "upscale_factor"})


# The largest side of a part of a result served at its own pixels (inpaint.views.job_result_tile): what the
# canvas shows of a result over the proxy side at 100 % and beyond, a screenful even on a 4K display.
TILE_MAX_SIDE = 4096


def options_for_page(engines: Iterable, translate: Callable[[str], str] = str) -> dict:
    """What the studio page's scripts need, for ``json_script``: the limits above, and for each of
    ``engines`` (the page's engine select offers them) the controls it takes and how it reads the prompt;
    its words in the language of ``translate``."""
    return {
        "brush": {"min": BRUSH_MIN, "max": BRUSH_MAX, "default": BRUSH_DEFAULT},
        "proxy_max_side": PROXY_MAX_SIDE,
        "tile_max_side": TILE_MAX_SIDE,
        "size_smaller_min_side": SIZE_SMALLER_MIN_SIDE,
        "mask_colours": {"tolerance": MASK_COLOUR_TOLERANCE, "messages": mask_colour_messages(translate)},
        "upload_names": upload_names(translate),
        "upload_accept": UPLOAD_ACCEPT,
        "controls": sorted(CONTROLS),
        "expand": {"sides": list(EXPAND_SIDES), "min": EXPAND_SCALE_MIN, "max": EXPAND_SCALE_MAX,
                   "preset_scales": list(EXPAND_PRESET_SCALES), "preset_aspects": [list(a) for a in EXPAND_PRESET_ASPECTS]},
        # A result card's "Upscale ×N" uses the first engine here that can run it.
        "upscale": {"factors": list(UPSCALE_FACTORS),
                    "engine": next((engine.key for engine in engines
                                    if "upscale_factor" in engine.controls and engine.is_configured()), None)},
        "engines": {
            engine.key: {"controls": sorted(engine.controls), "follows_prompt": engine.follows_prompt,
                         "remote": engine.remote,
                         "max_prompt": engine.limits.max_prompt_chars,
                         "sides": [engine.limits.min_side, engine.limits.max_side]}
            for engine in engines
        },
    }
