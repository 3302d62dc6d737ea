"""DashScope's error codes in plain words."""

import pytest

from inpaint.engines.dashscope_messages import dashscope_error_explain

@pytest.mark.parametrize(("code", "expected"), [
    ("InvalidApiKey", "The server's DashScope key is missing or wrong; ask the administrator."),
    ("Arrearage", "The DashScope account has no free quota or credit left for this model; ask the administrator, "
                  "or use the offline engine."),
    ("DataInspectionFailed", "DashScope's content check refused the picture or the prompt. "
                             "Change the prompt or use another picture."),
])
def test_dashscope_error_explain_known_codes(code, expected):
    assert dashscope_error_explain(code, "raw service text") == expected


def test_dashscope_error_explain_invalid_parameter_includes_the_service_message():
    message = dashscope_error_explain("InvalidParameter", "size must be one of 1024*1024, 720*1280.")
    assert "(size must be one of 1024*1024, 720*1280)" in message
    assert message.endswith("Change the picture, mask or settings and try again.")


def test_dashscope_error_explain_an_unknown_code_names_it():
    message = dashscope_error_explain("Weird.NewCode", "???")
    assert "Weird.NewCode" in message
    assert "ask the administrator" in message

