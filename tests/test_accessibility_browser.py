"""axe-core in a real browser (Debian's chromium through Playwright) on every state of the page, in both languages
(issue 22): empty, a picture loaded, a refusal, a mask painted, a job queued and running, its results with the
before/after slider and the history, and sign-in. The rule set is axe-core's WCAG 2.1 A and AA rules
(tests/browser.py AXE_WCAG21_AA); every state must have none of their violations. Beside axe: the card's stages
are said by a polite live region of their own, errors by alerts, and progress stops moving for reduced motion."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.browser import axe_violations
from tests.live import TEST_API_KEY
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOCALES = ["en-US", "zh-CN"]


def assert_accessible(page, state: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{state}: {violations}"


def assert_stage_said(page) -> None:
    """The polite region says the stage the card shows, in the page's language."""
    announcer = page.get_by_test_id("job-announcer")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_have_text(page.get_by_test_id("job-status").inner_text())


@pytest.mark.parametrize("locale", LOCALES)
def test_every_state_of_a_job_has_no_wcag_violation(locale, studio_factory, live_server, dashscope,
                                                     standin_settings, start_worker):
    standin_settings.INPAINT_PUBLIC_BASE_URL = live_server.url
    # The task runs until the running card has been looked at (ended below), however slow the machine.
    dashscope.running_seconds = 600.0
    studio = studio_factory(first_visit=True, locale=locale)
    page = studio.page
    assert_accessible(page, "empty, with the first visit's hint")
    page.get_by_test_id("first-visit-dismiss").click()

    studio.upload_and_wait(pictures.picture(640, 480))
    page.get_by_test_id("engine").select_option("wanx-x-painting")
    assert_accessible(page, "a picture loaded")

    page.get_by_test_id("generate").click()  # nothing painted: the server refuses
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(page.get_by_test_id("form-errors")).to_have_attribute("role", "alert")
    assert_accessible(page, "a refusal")

    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
    page.get_by_test_id("prompt").fill("a red kite")
    assert_accessible(page, "a mask painted")

    page.get_by_test_id("generate").click()  # no worker yet: the job waits in the queue
    card = page.get_by_test_id("job-card")
    expect(card).to_have_attribute("data-status", "QUEUED")
    assert_stage_said(page)
    # The card is replaced by every poll that finds a change: a live region around it would read it all again.
    expect(page.locator("#current-job")).not_to_have_attribute("aria-live", "polite")
    assert_accessible(page, "a job queued")

    start_worker(DASHSCOPE_BASE_URL=dashscope.base_url, DASHSCOPE_API_KEY=TEST_API_KEY,
                 INPAINT_PUBLIC_BASE_URL=live_server.url)
    expect(card).to_have_attribute("data-status", "RUNNING", timeout=30_000)
    assert_stage_said(page)
    assert_accessible(page, "a job running")
    dashscope.end_running_tasks_now()

    expect(card).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    assert_stage_said(page)
    assert "a red kite" in page.get_by_test_id("result-image").first.get_attribute("alt")
    page.locator("[data-compare]").first.fill("30")  # the before/after slider, moved
    assert_accessible(page, "results and the history")
    assert InpaintJob.objects.get().status == InpaintJob.Status.SUCCEEDED


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_progress_stops_moving_for_a_person_who_asked_for_less_motion(motion, studio_factory):
    studio = studio_factory(reduced_motion=motion)
    page = studio.page
    studio.upload_and_wait(pictures.picture(320, 240))
    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
    page.get_by_test_id("generate").click()  # no worker: the job waits, with no estimate yet
    bar = page.locator(".timebar.unknown span")
    expect(bar).to_be_visible()
    # Without the wish the bar slides, so the reduced run could have failed.
    moving = bar.evaluate("(span) => getComputedStyle(span).animationName") != "none"
    assert moving is (motion == "no-preference")


@pytest.mark.parametrize("locale", LOCALES)
def test_sign_in_has_no_wcag_violation(locale, browser, live_server, admin_in_open_mode):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    assert_accessible(page, "sign-in")
    page.get_by_label("Username" if locale == "en-US" else "用户名").fill("nobody")
    page.locator("input[type=password]").fill("wrong")
    page.click("[data-testid=sign-in-form] button[type=submit]")  # not the language switch
    expect(page.locator("[role=alert]")).to_be_visible()
    assert_accessible(page, "a refused sign-in")
    # The same check fails on a control without a name, so the runs above could have failed.
    page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    assert "label" in {violation["id"] for violation in axe_violations(page)}
    context.close()
