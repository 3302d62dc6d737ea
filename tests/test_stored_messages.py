"""inpaint.stored_messages: what the worker stores on a job in English is shown in the reader's language, values
and lengths of time included; DashScope's error explanations among them (issue 22)."""

from __future__ import annotations

import pytest
from django.utils import translation

from inpaint.engines.dashscope_messages import ERROR_MESSAGES, dashscope_error_explain
from inpaint.services import polling, results
from inpaint.services.durations import duration_in_words
from inpaint.stored_messages import stored_fill, stored_translate


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize("code", sorted(ERROR_MESSAGES))
def test_every_dashscope_explanation_is_shown_in_chinese(chinese, code):
    shown = stored_translate(dashscope_error_explain(code, ""))
    assert shown != ERROR_MESSAGES[code] and any("\u4e00" <= character <= "\u9fff" for character in shown)


def test_a_dashscope_explanation_keeps_the_apis_own_words(chinese):
    stored = dashscope_error_explain("InvalidParameter", "The size is not match the allowed size.")
    assert stored_translate(stored) == "DashScope 拒绝了这次请求（The size is not match the allowed size）。请调整图片、遮罩或设置后再试。"
    assert stored_translate(dashscope_error_explain("Odd.Code", "")) == (
        "DashScope 没能画出这张图片（Odd.Code）。请再试一次；如果一直失败，请联系管理员。")


def test_a_length_of_time_is_written_again_in_the_readers_language():
    with translation.override("en"):
        stored = stored_fill(polling.NOT_FINISHED_MESSAGE, deadline=duration_in_words(15 * 60))
    assert stored == "The painting service did not finish this job within 15 minutes. Try again later."
    with translation.override("zh-hans"):
        assert stored_translate(stored) == "绘图服务在 15 分钟内没有完成这个任务，请稍后再试。"


def test_values_are_put_back_in_their_place(chinese):
    stored = stored_fill(results.SHAPE_MESSAGE, width=640, height=480)
    assert stored_translate(stored).startswith("服务返回的图片（640 × 480 像素）")


def test_english_readers_get_the_message_as_stored():
    with translation.override("en"):
        assert stored_translate(results.SAVING_REASON) == results.SAVING_REASON
        assert stored_translate("Something no template made") == "Something no template made"
        assert stored_translate("") == ""


def test_a_message_no_template_made_is_shown_as_stored(chinese):
    assert stored_translate("An engine's own words") == "An engine's own words"


def test_filling_an_unregistered_template_is_a_mistake():
    with pytest.raises(AssertionError):
        stored_fill("Not registered %(x)s", x=1)
