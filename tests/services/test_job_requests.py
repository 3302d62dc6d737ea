"""Preparing a job (inpaint.services.job_requests): a checked form's data made into a request, its pictures prepared
and a held picture taken from the person's own jobs only."""

from __future__ import annotations

import pytest

from inpaint.forms import JobForm
from inpaint.services import job_requests, selectors
from inpaint.services.refusals import JobRequestRefused
from tests.live import form_data
from tests.pictures import mask, open_image, picture
from tests.services.fakes import CLOUD, make_job

pytestmark = pytest.mark.django_db


def cleaned(**fields) -> dict:
    """The cleaned data of a valid JobForm posted with tests.live.form_data's fields."""
    data = form_data(**fields)
    files = {name: upload for name in ("base_image", "mask_image") if (upload := data.pop(name))}
    form = JobForm(data, files)
    assert form.is_valid(), form.errors
    return form.cleaned_data


def visitor_jobs(visitor_id: str):
    return selectors.job_list(user=None, visitor_id=visitor_id)


def refusal_of(data: dict, *, owned_jobs=None) -> dict[str, str]:
    with pytest.raises(JobRequestRefused) as refused:
        job_requests.job_request_make(data, owned_jobs=owned_jobs)
    return refused.value.errors


def test_a_good_request_carries_the_prepared_picture_and_mask():
    # A mask of the picture's shape at half its size is prepared at the picture's own size.
    made = job_requests.job_request_make(cleaned(mask_png=mask(320, 240), edge_softness="20"), owned_jobs=None)
    assert (made.engine.key, made.base.width, made.base.height, made.edge_softness) == ("offline", 640, 480, 20)
    assert open_image(made.base.content).size == (640, 480)
    prepared_mask = open_image(made.mask_png)
    assert prepared_mask.size == (640, 480)
    assert prepared_mask.getpixel((320, 240)) == 255 and prepared_mask.getpixel((10, 10)) == 0


def test_a_control_the_engine_does_not_take_is_sent_at_its_default():
    made = job_requests.job_request_make(cleaned(engine="wanx2.1-imageedit", prompt="a boat", style="<watercolor>"),
                                         owned_jobs=None)
    assert made.style == "<auto>"


def test_a_held_picture_of_the_visitor_is_taken_as_the_base():
    own = make_job()
    data = cleaned(base_image="", base_source=f"job:{own.pk}", mask_png=mask(320, 320))
    made = job_requests.job_request_make(data, owned_jobs=visitor_jobs("visitor-a"))
    with own.base_image.open("rb") as stored:
        assert open_image(made.base.content).tobytes() == open_image(stored.read()).tobytes()


def test_a_held_picture_of_another_visitor_is_refused_as_if_it_were_gone():
    others = make_job()  # visitor-a's
    data = cleaned(base_image="", base_source=f"job:{others.pk}", mask_png=mask(320, 320))
    assert refusal_of(data, owned_jobs=visitor_jobs("visitor-b")) == {
        "base_image": job_requests.HELD_PICTURE_GONE_MESSAGE}


@pytest.mark.parametrize("source", ["", "job:00000000-0000-0000-0000-000000000000"])
def test_a_missing_picture_is_refused(source):
    message = job_requests.HELD_PICTURE_GONE_MESSAGE if source else job_requests.NO_PICTURE_MESSAGE
    assert refusal_of(cleaned(base_image="", base_source=source), owned_jobs=visitor_jobs("visitor-a")) == {
        "base_image": message}


def test_a_mask_of_another_shape_is_refused_on_the_mask_field():
    assert refusal_of(cleaned(mask_png=mask(300, 300))) == {
        "mask_image": "The mask is 300 × 300 pixels but the picture is 640 × 480; "
                      "the mask must have the picture's shape."}


def test_a_prompt_error_and_a_picture_error_are_told_together():
    data = cleaned(engine=CLOUD, prompt=" ", base=picture(20, 200), mask_png=mask(20, 200))
    assert refusal_of(data) == {
        "prompt": "Say in a few words what should appear in the painted area.",
        "base_image": "The picture is 20 × 200 pixels; each side must be at least 32 pixels."}


def test_an_engine_without_its_key_is_refused_alone(settings):
    settings.DASHSCOPE_API_KEY = ""
    assert refusal_of(cleaned(engine=CLOUD, mask_png=mask(300, 300))) == {"engine": job_requests.NO_KEY_MESSAGE}


def expand_cleaned(**fields) -> dict:
    return cleaned(engine="wanx2.1-imageedit", prompt="a beach", function="expand", **fields)


def test_an_expand_needs_no_mask_and_stores_one_covering_the_whole_picture():
    data = expand_cleaned(left_scale="1.5") | {"mask_image": None}
    made = job_requests.job_request_make(data, owned_jobs=None)
    assert (made.function, made.left_scale, made.right_scale, made.top_scale) == ("expand", 1.5, 1.0, 1.0)
    assert open_image(made.mask_png).getextrema() == (255, 255)


def test_repainting_still_needs_a_mask_and_ignores_scales():
    assert refusal_of(cleaned(engine="wanx2.1-imageedit", prompt="a boat") | {"mask_image": None}) == {
        "mask_image": job_requests.NO_MASK_MESSAGE}
    made = job_requests.job_request_make(cleaned(engine="wanx2.1-imageedit", prompt="a boat", left_scale="1.5"),
                                         owned_jobs=None)
    assert (made.function, made.left_scale) == ("description_edit_with_mask", 1.0)


def test_taking_text_out_needs_a_mask_but_no_words():
    made = job_requests.job_request_make(cleaned(engine="wanx2.1-imageedit", prompt="", function="remove_watermark"),
                                         owned_jobs=None)
    assert (made.function, made.prompt) == ("remove_watermark", "")
    assert refusal_of(cleaned(engine="wanx2.1-imageedit", prompt="", function="remove_watermark")
                      | {"mask_image": None}) == {"mask_image": job_requests.NO_MASK_MESSAGE}
    assert "prompt" in refusal_of(cleaned(engine="wanx2.1-imageedit", prompt=""))


def test_an_expand_that_extends_nothing_is_refused_in_plain_words():
    assert refusal_of(expand_cleaned()) == {"function": job_requests.NO_EXPANSION_MESSAGE}


def test_an_expand_past_the_apps_limit_is_refused_before_anything_is_stored(settings):
    settings.INPAINT_MAX_PIXELS = 1_000_000  # the 640 × 480 picture, twice as wide and high: 1.23 MP
    errors = refusal_of(expand_cleaned(left_scale="2", top_scale="2"))
    assert errors["function"].startswith("Extended this far, the picture would be 1280 × 960 pixels (1.2 megapixels)")


def test_an_engine_without_the_function_control_always_repaints():
    made = job_requests.job_request_make(cleaned(prompt="a boat", function="expand", left_scale="1.5"),
                                         owned_jobs=None)
    assert (made.function, made.left_scale) == ("description_edit_with_mask", 1.0)


def upscale_cleaned(**fields) -> dict:
    return cleaned(engine="wanx2.1-imageedit", prompt="", function="super_resolution", **fields) | {"mask_image": None}


def test_an_upscale_needs_no_mask_and_no_words_and_keeps_the_size_at_the_pictures_own():
    made = job_requests.job_request_make(upscale_cleaned(upscale_factor=3, size="half"), owned_jobs=None)
    assert (made.function, made.upscale_factor, made.size, made.prompt) == ("super_resolution", 3, "original", "")
    assert open_image(made.mask_png).getextrema() == (255, 255)


def test_a_factor_is_ignored_by_every_other_function():
    made = job_requests.job_request_make(cleaned(engine="wanx2.1-imageedit", prompt="a boat", upscale_factor=4),
                                         owned_jobs=None)
    assert made.upscale_factor == job_requests.options.UPSCALE_FACTOR_DEFAULT


def test_an_upscale_past_the_apps_limit_is_refused_in_plain_words(settings):
    settings.INPAINT_MAX_PIXELS = 2_000_000  # 640 × 480 three times each way: 2.76 MP
    assert refusal_of(upscale_cleaned(upscale_factor=3))["function"].startswith(
        "Upscaled ×3 the picture would be 1920 × 1440 pixels (2.8 megapixels)")


def test_a_picture_too_long_for_the_engine_to_upscale_whole_says_the_longest_it_takes():
    assert refusal_of(upscale_cleaned(upscale_factor=4, base=picture(1600, 900)))["function"].startswith("This engine upscales ×4 pictures of at most 1024 pixels")
