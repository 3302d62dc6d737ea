"""The brush stroke in progress in a real browser (static/inpaint/live-stroke.js, issue 23): while the pointer is
down it is drawn on a canvas the size of the stage, whatever the picture's size, and the picture-sized mask is
untouched; when the pointer lifts the stroke is in the mask, exactly under where it was drawn, and the live canvas
is empty and hidden again. A stroke cancelled by a second finger leaves nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import pictures
from tests.studio import assert_capsule, stored_mask, studio_factory, submit  # noqa: F401 (studio_factory: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIZE = (4000, 3000)
LIVE_PAINTED = "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)"


def test_a_stroke_is_drawn_at_the_stages_size_and_laid_into_the_mask_when_it_ends(studio_factory):
    studio = studio_factory()
    page = studio.page
    studio.upload_and_wait(pictures.picture(*SIZE))
    studio.set_brush(60)
    points = [studio.screen_point(0.3, 0.4), studio.screen_point(0.6, 0.55)]
    start, end = (studio.image_point(point, SIZE) for point in points)

    page.mouse.move(*points[0])
    page.mouse.down()
    page.mouse.move(*points[1], steps=8)
    live = page.locator("[data-live-stroke]")
    expect(live).to_be_visible()
    stage = page.locator("[data-stage]").evaluate("s => [s.clientWidth, s.clientHeight]")
    ratio = page.evaluate("devicePixelRatio")
    assert live.evaluate("c => [c.width, c.height]") == [round(stage[0] * ratio), round(stage[1] * ratio)]
    assert live.evaluate(LIVE_PAINTED)
    assert studio.mask_painted() is False, "the picture-sized mask was redrawn during the stroke"

    page.mouse.up()
    expect(live).to_be_hidden()
    assert live.evaluate(LIVE_PAINTED) is False
    assert studio.mask_painted()
    expect(page.get_by_test_id("undo")).to_be_enabled()
    assert_capsule(stored_mask(submit(studio)), start, end, 30)

