"""The page's options in a real browser (issue 19): the chosen engine's controls alone are shown, the
brush slider spans the editor's whole range, and the editor, split into modules, still paints."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inpaint import options
from inpaint.engines import engines_listed
from tests import pictures
from tests.live import TEST_API_KEY
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def studio(studio_factory, settings):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY  # every engine selectable
    return studio_factory()


def controls_visible(page) -> set[str]:
    return set(page.locator("#job-form [data-control]").evaluate_all(
        "controls => controls.filter((c) => c.checkVisibility()).map((c) => c.dataset.control)"))


def test_switching_the_engine_shows_only_the_controls_it_takes(studio):
    page = studio.page
    engines = engines_listed()
    assert {engine.key for engine in engines} >= {"offline", "wanx-x-painting", "wanx2.1-imageedit"}
    for engine in [*engines, *reversed(engines)]:
        page.get_by_test_id("engine").select_option(engine.key)
        expect(page.get_by_test_id("engine")).to_have_value(engine.key)
        if "function" in engine.controls:  # its parameters show once the function that reads them is chosen
            scales, factor = set(options.EXPAND_SIDES), {"upscale_factor"}
            assert controls_visible(page) == set(engine.controls) - scales - factor, engine.key
            page.get_by_test_id("function-expand").check()
            # The whole picture goes: no context around a painted area to choose.
            assert controls_visible(page) == set(engine.controls) - {"context"} - factor, engine.key
            page.get_by_test_id("function-super_resolution").check()
            # The factor is the size asked for: no output size either.
            assert controls_visible(page) == set(engine.controls) - scales - {"context", "size"}, engine.key
        else:
            assert controls_visible(page) == set(engine.controls), engine.key
        page.get_by_test_id("function-description_edit_with_mask").check(force=True)
    page.get_by_test_id("engine").select_option("wanx2.1-imageedit")
    expect(page.get_by_label("Style")).to_be_hidden()
    expect(page.get_by_label("Edge softness")).to_be_visible()


def test_the_brush_slider_spans_the_editors_range(studio):
    page = studio.page
    slider = page.get_by_test_id("brush-size")
    expect(slider).to_have_attribute("max", str(options.BRUSH_MAX))
    expect(slider).to_have_value(str(options.BRUSH_DEFAULT))
    studio.upload_and_wait(pictures.picture(640, 480))
    page.get_by_test_id("canvas").hover()
    for _ in range(40):
        page.keyboard.press("]")
    expect(page.locator("[data-brush-size-value]")).to_have_text(f"{options.BRUSH_MAX} px")
    expect(slider).to_have_value(str(options.BRUSH_MAX))


def test_a_stroke_paints_and_undoes(studio):
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    studio.stroke([studio.screen_point(0.3, 0.4), studio.screen_point(0.6, 0.5)])
    assert studio.mask_painted()
    page.get_by_test_id("undo").click()
    assert not studio.mask_painted()
