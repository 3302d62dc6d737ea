"""Extending the picture in a real browser (issue 20 §2): the function's controls only for the engine that takes
it, the edge handles dragged out with the outline following, the presets, and the job stored with the scales."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import pictures
from tests.live import TEST_API_KEY
from tests.studio import studio_factory, submit  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIDES = ("top_scale", "bottom_scale", "left_scale", "right_scale")


@pytest.fixture
def studio(studio_factory, settings):
    settings.DASHSCOPE_API_KEY = TEST_API_KEY  # the cloud engines selectable (no job here is ever sent)
    return studio_factory()


def scales(page) -> list[float]:
    return [float(page.locator(f"#job-form [name={side}]").input_value()) for side in SIDES]


def choose_expand(studio):
    page = studio.page
    studio.upload_and_wait(pictures.picture(800, 500))
    page.get_by_test_id("engine").select_option("wanx2.1-imageedit")
    page.get_by_test_id("function-expand").check()
    expect(page.get_by_test_id("expand-outline")).to_be_visible()
    return page


def test_the_extension_is_offered_only_by_the_engine_that_takes_it(studio):
    page = studio.page
    page.get_by_test_id("engine").select_option("offline")
    expect(page.get_by_test_id("function-expand")).to_be_hidden()
    expect(page.get_by_test_id("expand-controls")).to_be_hidden()
    choose_expand(studio)
    expect(page.get_by_test_id("expand-controls")).to_be_visible()
    context = page.locator("#job-form [data-control=context]")
    expect(context).to_be_hidden()  # the whole picture goes: no context to choose
    page.get_by_test_id("function-description_edit_with_mask").check()
    expect(context).to_be_visible()
    page.get_by_test_id("engine").select_option("offline")
    expect(page.get_by_test_id("expand-outline")).to_be_hidden()


def test_dragging_an_edge_handle_out_extends_that_edge_and_the_outline_follows(studio):
    page = choose_expand(studio)
    canvas = studio.canvas_box()
    outline = page.get_by_test_id("expand-outline").bounding_box()
    assert abs(outline["width"] - canvas["width"]) < 2 and abs(outline["x"] - canvas["x"]) < 2
    handle = page.get_by_test_id("expand-handle-right").bounding_box()
    start = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - canvas["width"] / 4, start[1], steps=6)  # inwards first: not past the picture
    page.mouse.move(start[0] + canvas["width"] / 2, start[1], steps=10)
    page.mouse.up()

    top, bottom, left, right = scales(page)
    assert (top, bottom, left) == (1.0, 1.0, 1.0) and right == pytest.approx(1.5, abs=0.02)
    outline = page.get_by_test_id("expand-outline").bounding_box()
    assert outline["width"] == pytest.approx(canvas["width"] * right, abs=2)
    expect(page.get_by_test_id("expand-size")).to_contain_text(f"{round(800 * right)} × 500 pixels")
    assert not studio.mask_painted()  # the drag was the handle's, not a brush stroke


def test_the_presets_set_all_four_edges(studio):
    page = choose_expand(studio)
    page.get_by_test_id("expand-scale-1.5").click()
    assert scales(page) == [1.25, 1.25, 1.25, 1.25]
    expect(page.get_by_test_id("expand-size")).to_contain_text("1200 × 750 pixels")
    page.get_by_test_id("expand-aspect-1-1").click()  # 800 × 500 made square: 150 px above and below
    assert scales(page) == [1.3, 1.3, 1.0, 1.0]
    expect(page.get_by_test_id("expand-size")).to_contain_text("800 × 800 pixels")


def test_an_extension_is_sent_with_the_apis_field_names_and_stored_on_the_job(studio):
    page = choose_expand(studio)
    page.get_by_test_id("expand-aspect-16-9").click()
    page.get_by_test_id("prompt").fill("a beach at dusk")
    job = submit(studio)
    assert job.function == "expand"
    assert (job.top_scale, job.bottom_scale) == (1.0, 1.0) and job.left_scale == job.right_scale == pytest.approx(1.06)
