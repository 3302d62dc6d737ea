"""The job form on its own: what it refuses before any picture is looked at, and that it looks at none."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inpaint.forms import MASK_COLOR_MAX_CHARS, JobForm
from inpaint.images import MAX_MASK_COLOURS

pytestmark = pytest.mark.django_db


def mask_color_errors(text: str) -> list[str]:
    form = JobForm(data={"engine": "offline", "style": "<auto>", "n": "1", "mask_color": text})
    form.is_valid()
    return form.errors.get("mask_color", [])


def test_deeply_nested_mask_colours_are_refused_in_plain_words():
    assert mask_color_errors("[" * 200_000) == [
        f"Write at most {MAX_MASK_COLOURS} mask colours, e.g. [[0, 0, 0], [134, 134, 134]]; this text is too long to be such a list."]


def test_the_most_colours_written_with_spaces_fit_under_the_length_cap():
    colours = "[" + ", ".join(["[ 255 , 255 , 255 ]"] * MAX_MASK_COLOURS) + "]"
    assert len(colours) < MASK_COLOR_MAX_CHARS
    assert mask_color_errors(colours) == []


def test_the_form_neither_decodes_a_picture_nor_reads_a_held_one():
    # Both are inpaint.services.job_requests's, done once the fields stand and with a decode slot held.
    data = {"engine": "offline", "style": "<auto>", "n": "1", "base_source": "job:not-a-job"}
    form = JobForm(data, {"mask_image": SimpleUploadedFile("mask.png", b"not a picture", "image/png")})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("value", ["2.5", "0.9", "nan", "wide"])
def test_an_extension_past_the_apis_range_is_refused_in_plain_words(value):
    form = JobForm(data={"engine": "offline", "style": "<auto>", "n": "1", "function": "expand", "left_scale": value})
    assert not form.is_valid()
    [message] = form.errors["left_scale"]
    assert message.startswith("The left edge can be extended") and "scale" not in message


def test_left_out_scales_and_function_take_their_defaults():
    form = JobForm(data={"engine": "offline", "style": "<auto>", "n": "1"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["function"] == "description_edit_with_mask"
    assert [form.cleaned_data[side] for side in ("top_scale", "bottom_scale", "left_scale", "right_scale")] == [1.0] * 4
