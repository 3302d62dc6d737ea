"""One home for the job's options and limits (issue 19): the form, the model and the page agree with
inpaint.options, engines declare their controls, and the page gets it all in one json_script block."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest

from inpaint import options
from inpaint.engines import all_engines, engines_listed
from inpaint.engines.styles import STYLE_FILTERS
from inpaint.forms import JobForm
from inpaint.models import InpaintJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, settings, sent_steps) -> str:
    settings.DASHSCOPE_API_KEY = ""
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_carries_the_options_in_one_block(page):
    blocks = re.findall(r'<script id="inpaint-options" type="application/json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    carried = json.loads(blocks[0])
    assert carried == options.options_for_page(engines_listed())
    assert carried["engines"]["wanx2.1-imageedit"]["controls"] == [
        "bottom_scale", "context", "edge_softness", "function", "left_scale", "n", "right_scale", "size", "top_scale",
        "upscale_factor"]
    assert carried["engines"]["offline"]["controls"] == sorted(options.CONTROLS - {"negative_prompt"}
                                                               - options.FUNCTION_CONTROLS)
    assert "function" not in carried["engines"]["qwen-image-edit-plus"]["controls"]
    assert "negative_prompt" in carried["engines"]["qwen-image-edit-plus"]["controls"]


def test_the_pages_own_text_takes_the_same_values(page):
    slider = re.search(r'<input type="range" id="brush-size"[^>]*>', page).group(0)
    assert f'min="{options.BRUSH_MIN}"' in slider and f'max="{options.BRUSH_MAX}"' in slider
    assert f'value="{options.BRUSH_DEFAULT}"' in slider
    assert f"Pixels within {options.MASK_COLOUR_TOLERANCE} of one of these" in page
    assert f'accept="{options.UPLOAD_ACCEPT}"' in page
    assert html.escape(options.UPLOAD_NAMES) in page


def test_every_control_the_page_can_hide_is_marked_with_its_name(page):
    marked = set(re.findall(r'data-control="([a-z_]+)"', page))
    assert marked == options.CONTROLS


def test_the_upload_formats_read_in_plain_words():
    assert options.UPLOAD_NAMES == "JPEG, PNG, WebP, HEIC, TIFF or BMP"
    assert set(options.UPLOAD_ACCEPT.split(",")) >= {"image/jpeg", "image/heic", ".heif", ".tif"}


def test_each_engine_takes_only_controls_the_form_has():
    form_fields = set(JobForm().fields)
    assert options.CONTROLS <= form_fields
    for engine in all_engines().values():
        assert engine.controls <= options.CONTROLS, engine.key
    assert "style" not in all_engines()["wanx2.1-imageedit"].controls


def test_the_form_and_the_model_start_from_the_same_defaults():
    form = JobForm()
    for control, default in options.CONTROL_DEFAULTS.items():
        assert form.fields[control].initial == default, control
        assert InpaintJob._meta.get_field(control).default == default, control
    assert form.fields["edge_softness"].max_value == options.EDGE_SOFTNESS_MAX
    assert [value for value, _ in form.fields["style"].choices] == [value for value, _ in options.STYLES]


def test_the_offline_engine_has_a_filter_for_every_style():
    assert set(STYLE_FILTERS) == {value for value, _ in options.STYLES} - {options.STYLE_DEFAULT}


def test_options_imports_nothing_of_the_app():
    tree = ast.parse((Path(options.__file__)).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and name.split(".")[0] in ("inpaint", "webapp", "django")}
