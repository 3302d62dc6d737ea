"""Extending the canvas (wanx2.1-imageedit function=expand) through the real parts: the form over HTTP, a Celery
worker on Redis, and the DashScope stand-in, whose answer recolours every pixel it was given and continues the
picture's edges into the new border."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint import regions
from inpaint.models import InpaintJob
from tests import pictures
from tests.live import Visitor, cloud_worker, wait_succeeded

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_expand_of_half_the_width_each_side_comes_back_twice_as_wide_with_the_photo_unchanged_inside_the_band(
        live_server, dashscope, standin_settings, start_worker):
    cloud_worker(start_worker, dashscope, live_server, beat=False)
    Visitor(live_server).post_job("a beach at dusk", engine="wanx2.1-imageedit",
                                  base=("photo.jpg", pictures.picture(1600, 1000), "image/jpeg"),
                                  function="expand", left_scale="1.5", right_scale="1.5")
    job = wait_succeeded(InpaintJob.objects.get())
    [result] = job.results.all()
    assert (result.width, result.height) == (3200, 1000)

    # The whole picture went, with no mask, and the API's own names for what to do with it.
    [task] = dashscope.tasks.values()
    assert task.input["function"] == "expand" and "mask_image_url" not in task.input
    assert {side: task.parameters[side] for side in ("top_scale", "bottom_scale", "left_scale", "right_scale")} == {
        "top_scale": 1.0, "bottom_scale": 1.0, "left_scale": 1.5, "right_scale": 1.5}

    extended, original = pictures.stored_pixels(result.image), pictures.stored_pixels(job.base_image)
    own_area = extended[:, 800:2400]
    band = regions.MASK_GROWTH + job.edge_softness + 1
    inside = np.s_[:, band:-band]
    assert np.array_equal(own_area[inside], original[inside])  # every pixel beyond the band is the person's own
    # The seam blends over the band: its outermost column is the model's (recoloured), not the photo's.
    assert (own_area[:, 0] != original[:, 0]).any() and (own_area[:, -1] != original[:, -1]).any()
    # The new border is the model's continuation of the edge, not black or mirrored photo.
    assert np.abs(extended[:, :800].astype(int).mean(axis=1) - original[:, 0].astype(int)).mean() < 40
