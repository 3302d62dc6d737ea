"""The studio page in a real browser for the editor's tests (and the samples'): a page per test, checked for
foreign requests, script errors and CSP violations as it closes, and the mask a job stored, checked against
the stroke drawn."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests.browser import mask_array, open_studio, painted_bounds


# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain blocking calls (set as
# this module is imported, so in every test module that drives a studio).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

BRUSH = 12  # picture pixels
TOLERANCE = 2  # picture pixels


@pytest.fixture
def studio_factory(browser, live_server):
    studios = []

    def make(**context_options):
        studio = open_studio(browser, live_server.url, **context_options)
        studios.append(studio)
        return studio

    yield make
    for studio in studios:
        # No file from another host, ever (fonts, scripts, CDNs), no script errors and no CSP violation.
        assert studio.foreign_requests() == []
        assert studio.errors == []
        studio.page.context.close()


def submit(studio) -> InpaintJob:
    studio.page.get_by_test_id("generate").click()
    expect(studio.page.get_by_test_id("job-card")).to_be_visible()
    return InpaintJob.objects.get()


def stored_mask(job: InpaintJob) -> np.ndarray:
    with job.mask_image.open("rb") as stored:
        return mask_array(stored.read())


def assert_capsule(mask: np.ndarray, start, end, radius: float) -> None:
    """The painted pixels are the brush stroke from start to end (picture coordinates), to within 2 px."""
    left, top, right, bottom = painted_bounds(mask)
    expected = (min(start[0], end[0]) - radius, min(start[1], end[1]) - radius,
                max(start[0], end[0]) + radius - 1, max(start[1], end[1]) + radius - 1)
    assert all(abs(got - want) <= TOLERANCE for got, want in zip((left, top, right, bottom), expected)), \
        (f"painted box {left, top, right, bottom} but the stroke covers {tuple(round(v, 1) for v in expected)}")
    area = 2 * radius * math.dist(start, end) + math.pi * radius ** 2
    assert abs((mask >= 128).sum() / area - 1) < 0.12
    for t in (0, 0.5, 1):
        x, y = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        assert mask[int(y), int(x)] == 255
