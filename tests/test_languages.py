"""How the page picks its language (issue 22): the browser's Accept-Language, then the switch in the page,
remembered in Django's language cookie; no language prefix in the URLs. And what is never translated."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from inpaint.models import InpaintJob
from tests.live import HTMX, create_job, form_data, quiet_settings  # noqa: F401 (quiet_settings: autouse)

pytestmark = pytest.mark.django_db

CHINESE_TAGLINE = "涂抹想修改的地方，写下想画成什么，就能得到新图片。"
ENGLISH_TAGLINE = "Paint over what you want to change, say what should be there, and get new pictures."


def _page(client: Client, **headers) -> str:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


# zh-TW and zh-Hant fall back to Simplified Chinese (README-i18n.md says why).
@pytest.mark.parametrize("accept", ["zh", "zh-CN", "zh-Hans", "zh-Hans-CN", "zh-TW", "zh-Hant", "zh-CN,en;q=0.8"])
def test_a_chinese_browser_gets_the_page_in_simplified_chinese(client, accept):
    page = _page(client, accept_language=accept)
    assert '<html lang="zh-hans">' in page
    assert CHINESE_TAGLINE in page


@pytest.mark.parametrize("accept", [None, "en-US,en;q=0.9", "fr-FR", "en,zh-CN;q=0.5"])
def test_any_other_browser_gets_english(client, accept):
    page = _page(client, **({"accept_language": accept} if accept else {}))
    assert '<html lang="en">' in page
    assert ENGLISH_TAGLINE in page


def test_the_switch_is_remembered_over_the_browsers_language(client):
    page = _page(client, accept_language="en-US")
    assert 'data-testid="language-zh-hans"' in page
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert CHINESE_TAGLINE in _page(client, accept_language="en-US")
    # and back
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert ENGLISH_TAGLINE in _page(client, accept_language="zh-CN")


def test_the_switch_refuses_to_send_people_elsewhere(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "https://elsewhere.example/"})
    assert response.url == "/"


def test_the_urls_carry_no_language_prefix(client):
    assert client.get("/zh-hans/").status_code == 404


def test_the_sign_in_page_and_its_switch_need_no_account(client, settings, routes_rebuilt):
    settings.INPAINT_ACCESS = "login"
    routes_rebuilt()
    page = client.get("/accounts/login/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "用户名" in page and "密码" in page
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}).status_code == 302
    assert client.get("/i18n/catalogue.js").status_code == 200


def test_the_scripts_catalogue_is_in_the_pages_language(client):
    script = client.get("/i18n/catalogue.js", headers={"accept-language": "zh-CN"}).content.decode()
    assert "\\u753b\\u7b14" in script or "画笔" in script  # "Brush", as the shortcut list shows it


def test_a_refusal_is_in_chinese(client):
    response = client.post("/jobs/", form_data(mask_color="[[1, 2]]"), headers={**HTMX, "accept-language": "zh-CN"})
    page = response.content.decode()
    assert "没能提交：" in page
    assert "每种遮罩颜色须为 0 到 255 之间的三个整数" in page


def test_model_names_file_formats_and_api_values_are_never_translated(client):
    page = _page(client, accept_language="zh-CN")
    for kept in ('value="wanx-x-painting"', 'value="qwen-image-edit-plus"', "Wanx 局部重绘", "Qwen 图像编辑",
                 "JPEG, PNG, WebP, HEIC, TIFF 或 BMP", 'value="&lt;watercolor&gt;"',
                 "下载遮罩（PNG）"):
        assert kept in page, kept


def test_a_finished_jobs_card_is_in_chinese_and_numbers_in_its_format(client):
    job = create_job(client, prompt="一只红风筝")
    InpaintJob.objects.filter(pk=job.pk).update(status=InpaintJob.Status.FAILED, error_code="DataInspectionFailed",
                                                 error_message="DashScope's content check refused the picture or "
                                                               "the prompt. Change the prompt or use another picture.")
    card = client.get(f"/jobs/{job.pk}/", headers={**HTMX, "accept-language": "zh-CN"}).content.decode()
    assert "失败" in card
    assert "图片或提示词没有通过 DashScope 的内容审核" in card
    assert "一只红风筝" in card  # the prompt stays in the language it was written in


def test_the_413_answer_is_in_the_readers_language(client, settings):
    response = client.post("/jobs/", data=b"x", content_type="application/octet-stream",
                           headers={"accept-language": "zh-CN"},
                           CONTENT_LENGTH=str(3 * settings.INPAINT_MAX_UPLOAD_BYTES + 10 ** 7))
    assert response.status_code == 413
    assert "请选择小一些的文件" in response.content.decode()


def test_the_admin_labels_our_models_in_the_readers_language(client, django_user_model, settings, admin_in_open_mode):
    settings.DASHSCOPE_API_KEY = "sk-test"
    create_job(client, engine="wanx-x-painting", prompt="a kite")
    staff = Client(headers={"accept-language": "zh-CN"})
    staff.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-long-enough"))
    jobs = staff.get("/admin/inpaint/inpaintjob/").content.decode()
    for label in ("<title>任务 —", "创建时间", "状态", "计费图片数", "错误代码"):
        assert label in jobs, label
    assert "images billed" not in jobs
    assert "房间来宾" in staff.get("/admin/").content.decode()
    # The API's own parameter names stay as they are.
    job = InpaintJob.objects.get()
    assert "seed" in staff.get(f"/admin/inpaint/inpaintjob/{job.pk}/change/").content.decode()
