"""The first visit's hint in a real browser (issue 22): a new browser is shown the three steps, picture, paint and
describe, in its own language; once dismissed, they stay away across a reload, and the next new browser sees them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_new_browser_sees_the_three_steps_until_it_dismisses_them(studio_factory):
    page = studio_factory(first_visit=True).page
    hint = page.get_by_test_id("first-visit")
    expect(hint).to_be_visible()
    expect(hint.locator("li strong")).to_have_text(["Picture", "Paint", "Describe"])
    page.get_by_test_id("first-visit-dismiss").click()
    expect(hint).to_be_hidden()
    page.reload()
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    expect(page.get_by_test_id("first-visit")).to_be_hidden()
    # Another browser is another person, who has not seen them yet.
    expect(studio_factory(first_visit=True).page.get_by_test_id("first-visit")).to_be_visible()


def test_the_steps_are_in_the_pages_language(studio_factory):
    hint = studio_factory(first_visit=True, locale="zh-CN").page.get_by_test_id("first-visit")
    expect(hint.locator("li strong")).to_have_text(["图片", "涂抹", "描述"])
