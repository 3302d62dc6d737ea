"""The studio in Chinese in a real browser (Debian's chromium through Playwright), from the browser's own language
and from the switch in the page (issue 22): a refusal, a finished job's card, the shortcut list, the switch
remembered across a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inpaint.models import InpaintJob
from tests import pictures
from tests.studio import studio_factory  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHINESE = {"locale": "zh-CN"}


def test_a_refusal_in_the_page_is_in_chinese(studio_factory):
    studio = studio_factory(**CHINESE)
    page = studio.page
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_test_id("generate").click()
    expect(page.locator("[data-generate-hint]")).to_have_text("请先选择图片，再涂抹想修改的部分。")
    studio.upload(pictures.picture(20, 20), "tiny.png", "image/png")
    expect(page.get_by_test_id("picture-message")).to_contain_text("每条边至少需要")


def test_the_servers_refusal_is_in_chinese(studio_factory):
    studio = studio_factory(**CHINESE)
    page = studio.page
    studio.upload_and_wait(pictures.picture(640, 480))
    page.get_by_test_id("generate").click()  # nothing painted
    expect(page.get_by_test_id("form-errors")).to_contain_text("遮罩是空的：请先涂抹想修改的区域。")


def test_a_finished_offline_job_has_its_card_in_chinese(studio_factory, live_server, settings, start_worker):
    settings.DASHSCOPE_API_KEY = ""
    start_worker(DASHSCOPE_API_KEY="", DASHSCOPE_BASE_URL="http://127.0.0.1:9/unreachable")
    studio = studio_factory(**CHINESE)
    page = studio.page
    studio.upload_and_wait(pictures.picture(320, 240))
    studio.stroke([studio.screen_point(0.3, 0.5), studio.screen_point(0.7, 0.5)])
    # The offline engine reads no prompt, and says so in the page's language.
    expect(page.get_by_test_id("prompt-note")).to_contain_text("不会读取提示词")
    page.get_by_test_id("generate").click()
    card = page.get_by_test_id("job-card")
    expect(card).to_have_attribute("data-status", "SUCCEEDED", timeout=60_000)
    expect(card.get_by_test_id("job-status")).to_have_text("已完成")
    expect(card.get_by_test_id("download")).to_have_text("下载 PNG")
    expect(card.get_by_test_id("result-size")).to_have_text("320 × 240 像素")
    expect(card.locator(".job-prompt")).to_contain_text("（无提示词）")
    expect(page.get_by_test_id("history-item").locator(".badge")).to_have_text("已完成")
    assert InpaintJob.objects.get().status == InpaintJob.Status.SUCCEEDED


def test_the_shortcut_list_is_in_chinese(studio_factory):
    page = studio_factory(**CHINESE).page
    page.keyboard.press("?")
    shortcuts = page.locator("[data-shortcuts]")
    expect(shortcuts.locator("summary")).to_contain_text("键盘快捷键")
    expect(shortcuts.locator("dd").first).to_have_text("画笔")
    expect(shortcuts.locator("dl")).to_contain_text("撤销上一笔")
    # The keys keep the names printed on the keyboard, and tooltips name them.
    expect(shortcuts.locator("dt kbd").first).to_have_text("B")
    assert page.get_by_test_id("undo").get_attribute("title") == "撤销 (Ctrl+Z)"


def test_the_switch_is_remembered_across_a_reload(studio_factory):
    studio = studio_factory()  # an English browser
    page = studio.page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_test_id("language-zh-hans").click()
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("generate")).to_have_text("生成")
    page.reload()
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    expect(page.get_by_test_id("generate")).to_have_text("生成")
    page.get_by_test_id("language-en").click()
    page.wait_for_selector("[data-editor][data-ready]", state="attached")
    expect(page.get_by_test_id("generate")).to_have_text("Generate")
