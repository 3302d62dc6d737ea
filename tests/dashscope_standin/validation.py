"""What DashScope checks, per model: the API key, the create request's headers and body before a task exists, and
the input images once the task runs (sections 7.1 / 7.2 of the reference, with the documented error codes). The
body envelope, URL, n, seed and image checks also serve the sync Qwen call (``multimodal``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from tests.dashscope_standin.wire import MSG_BODY_INVALID, MSG_INVALID_URL, ApiError, RecordedRequest, TaskFailure

WANX_X_PAINTING = "wanx-x-painting"
WANX_IMAGEEDIT = "wanx2.1-imageedit"

X_PAINTING_STYLES = (
    "<auto>",
    "<3d cartoon>",
    "<anime>",
    "<oil painting>",
    "<watercolor>",
    "<sketch>",
    "<chinese painting>",
    "<flat illustration>",
)
X_PAINTING_SIZES = ("1024*1024", "720*1280", "1280*720")
X_PAINTING_DEFAULT_SIZE = "1024*1024"
IMAGEEDIT_FUNCTIONS = (
    "stylization_all",
    "stylization_local",
    "description_edit",
    "description_edit_with_mask",
    "remove_watermark",
    "expand",
    "super_resolution",
    "colorization",
    "doodle",
    "control_cartoon_feature",
)
IMAGEEDIT_SUPPORTED_FUNCTIONS = ("description_edit_with_mask", "remove_watermark", "expand", "super_resolution")
# The only wanx2.1-imageedit function that takes (and needs) input.mask_image_url.
IMAGEEDIT_MASK_FUNCTION = "description_edit_with_mask"
EXPAND_SCALES = ("top_scale", "bottom_scale", "left_scale", "right_scale")
EXPAND_SCALE_RANGE = (1.0, 2.0)
UPSCALE_FACTOR_RANGE = (1, 4)
MAX_SEED = 2147483647
MAX_TASK_N = 4
MAX_INPUT_IMAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ModelRules:
    """Per-model input limits from the API references (sections 7.1 / 7.2)."""

    max_prompt_chars: int
    min_side: int  # inclusive
    max_side: int  # inclusive
    side_rule: str  # how the documentation words the resolution limit, reused in error messages
    image_formats: tuple[str, ...]
    accepts_data_uri: bool


MODEL_RULES = {
    WANX_X_PAINTING: ModelRules(
        max_prompt_chars=75,
        min_side=257,
        max_side=4095,
        side_rule="greater than 256 and less than 4096",
        image_formats=("JPEG", "PNG", "BMP"),
        accepts_data_uri=False,
    ),
    WANX_IMAGEEDIT: ModelRules(
        max_prompt_chars=800,
        min_side=512,
        max_side=4096,
        side_rule="between 512 and 4096",
        image_formats=("JPEG", "PNG", "BMP", "TIFF", "WEBP"),
        accepts_data_uri=True,
    ),
}


def api_key_check(request: RecordedRequest, api_key: str) -> None:
    authorization = request.headers.get("Authorization", "")
    if not authorization.strip():
        raise ApiError(401, "InvalidApiKey", "No API-key provided.")
    if authorization != f"Bearer {api_key}":
        raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")


def create_request_check(request: RecordedRequest) -> dict:
    """The gateway's checks of a create call's headers and JSON; returns the body."""
    if request.headers.get("X-DashScope-Async") != "enable":
        raise ApiError(403, "AccessDenied", "current user api does not support synchronous calls")
    return json_body_check(request)


def json_body_check(request: RecordedRequest) -> dict:
    """The gateway's check that a model call carries a JSON object; returns it."""
    media_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(400, "InvalidParameter", "Content-Type must be application/json")
    if not isinstance(request.json, dict):
        raise ApiError(400, "InvalidParameter", MSG_BODY_INVALID)
    return request.json


def create_body_validate(body: dict, oss_resolve: bool) -> tuple[str, dict, dict]:
    """Checks a create body as the service does before accepting a task.

    Returns (model, input with the prompt truncated as the service does, parameters).
    """
    model, input_, parameters = body_envelope_check(body, tuple(MODEL_RULES))
    if model == WANX_IMAGEEDIT:
        _imageedit_function_check(input_)
    rules = MODEL_RULES[model]
    input_ = _prompt_validate(input_, rules)
    for name in task_input_names(model, input_):
        url_check(input_.get(name), f"input.{name}", rules.accepts_data_uri, oss_resolve)
    n_check(parameters, MAX_TASK_N)
    if model == WANX_X_PAINTING:
        _x_painting_parameters_check(parameters)
    else:
        seed_check(parameters)
        _imageedit_parameters_check(input_["function"], parameters)
    return model, input_, dict(parameters)


def body_envelope_check(body: dict, models: tuple[str, ...]) -> tuple[str, dict, dict]:
    """What every model call's body needs, whatever the model: a model the endpoint serves, an ``input``
    object and, if given, a ``parameters`` object. Returns (model, input, parameters)."""
    model = body.get("model")
    if not model:
        raise ApiError(400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    if model not in models:
        raise ApiError(404, "ModelNotFound", "Model not exist.")
    input_ = body.get("input")
    if not isinstance(input_, dict):
        raise ApiError(400, "BadRequest.EmptyInput", 'Required parameter "input" missing from request.')
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ApiError(400, "InvalidParameter", "The parameters must be an object")
    return model, input_, parameters


def task_input_names(model: str, input_: dict) -> tuple[str, ...]:
    """The input URLs a task fetches: wanx-x-painting and the mask function take a mask, the rest only a base."""
    if model == WANX_X_PAINTING or input_.get("function") == IMAGEEDIT_MASK_FUNCTION:
        return ("base_image_url", "mask_image_url")
    return ("base_image_url",)


def _imageedit_function_check(input_: dict) -> None:
    function = input_.get("function")
    if not function:
        raise ApiError(400, "InvalidParameter", "Field required: input.function")
    if function not in IMAGEEDIT_FUNCTIONS:
        raise ApiError(
            400, "InvalidParameter", f"The function is not match the allowed function {list(IMAGEEDIT_FUNCTIONS)}"
        )
    if function not in IMAGEEDIT_SUPPORTED_FUNCTIONS:
        raise ApiError(
            400,
            "InvalidParameter",
            f"The function {function} is not supported by the DashScope stand-in; "
            f"supported: {list(IMAGEEDIT_SUPPORTED_FUNCTIONS)}",
        )


def _prompt_validate(input_: dict, rules: ModelRules) -> dict:
    prompt = input_.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "InvalidParameter", "Field required: input.prompt")
    return {**input_, "prompt": prompt[: rules.max_prompt_chars]}


def url_check(url: object, field: str, accepts_data_uri: bool, oss_resolve: bool) -> None:
    """URL checks the gateway makes before accepting a call (downloads happen later, in the model's run)."""
    if not isinstance(url, str) or not url:
        raise ApiError(400, "InvalidParameter", f"Field required: {field}")
    if not url.isascii():
        raise ApiError(400, "InvalidParameter", MSG_INVALID_URL)
    scheme = url.split(":", 1)[0].lower()
    if scheme == "oss" and oss_resolve:
        return
    if scheme == "data" and accepts_data_uri and ";base64," in url:
        return
    if scheme in ("http", "https") and urlsplit(url).hostname:
        return
    raise ApiError(400, "InvalidParameter", MSG_INVALID_URL)


def n_check(parameters: dict, max_n: int) -> None:
    _integer_check(parameters, "n", 1, (1, max_n))


def _integer_check(parameters: dict, name: str, default: int, allowed: tuple[int, int]) -> None:
    value = parameters.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not allowed[0] <= value <= allowed[1]:
        raise ApiError(400, "InvalidParameter", f"The {name} is out of the allowed range [{allowed[0]}, {allowed[1]}]")


def _number_check(parameters: dict, name: str, default: float, allowed: tuple[float, float]) -> None:
    value = parameters.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not allowed[0] <= value <= allowed[1]:
        raise ApiError(400, "InvalidParameter", f"The {name} is out of the allowed range [{allowed[0]}, {allowed[1]}]")


def _imageedit_parameters_check(function: str, parameters: dict) -> None:
    """The per-function parameters of wanx2.1-imageedit (section 7.2); each is read only by its own function."""
    if function == "expand":
        for name in EXPAND_SCALES:
            _number_check(parameters, name, EXPAND_SCALE_RANGE[0], EXPAND_SCALE_RANGE)
    elif function == "super_resolution":
        _integer_check(parameters, "upscale_factor", UPSCALE_FACTOR_RANGE[0], UPSCALE_FACTOR_RANGE)


def _x_painting_parameters_check(parameters: dict) -> None:
    style = parameters.get("style", "<auto>")
    if style not in X_PAINTING_STYLES:
        raise ApiError(400, "InvalidParameter", f"The style is not match the allowed style {list(X_PAINTING_STYLES)}")
    size = parameters.get("size", X_PAINTING_DEFAULT_SIZE)
    if size not in X_PAINTING_SIZES:
        raise ApiError(400, "InvalidParameter", f"The size is not match the allowed size {list(X_PAINTING_SIZES)}")
    mask_color = parameters.get("mask_color", [])
    colours_ok = isinstance(mask_color, list) and all(
        isinstance(colour, list)
        and len(colour) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in colour)
        for colour in mask_color
    )
    if not colours_ok:
        raise ApiError(400, "InvalidParameter", "The mask_color must be a list of [R, G, B] values in [0, 255]")


def seed_check(parameters: dict) -> None:
    _integer_check(parameters, "seed", 0, (0, MAX_SEED))


def input_image_decode(data: bytes, name: str, rules: ModelRules) -> Image.Image:
    """A downloaded input decoded as the model would, or the task's documented InvalidParameter failure."""
    if len(data) > MAX_INPUT_IMAGE_BYTES:
        raise TaskFailure("InvalidParameter", f"The size of {name} exceeds the limit of 10MB")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError):
        raise TaskFailure("InvalidParameter", f"The {name} is not a decodable image") from None
    if image.format not in rules.image_formats:
        raise TaskFailure(
            "InvalidParameter", f"The format of {name} ({image.format}) is not one of {list(rules.image_formats)}"
        )
    if not all(rules.min_side <= side <= rules.max_side for side in image.size):
        raise TaskFailure(
            "InvalidParameter",
            f"The resolution of {name} is {image.width}*{image.height}; "
            f"width and height must be {rules.side_rule} pixels",
        )
    return image


def inputs_match_check(base: Image.Image, mask: Image.Image) -> None:
    """Both models want the mask at the base image's own resolution."""
    if mask.size != base.size:
        raise TaskFailure(
            "InvalidParameter",
            f"The resolution of mask_image_url ({mask.width}*{mask.height}) does not match "
            f"the resolution of base_image_url ({base.width}*{base.height})",
        )
