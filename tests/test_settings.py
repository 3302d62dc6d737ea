"""Settings read from the environment: the DashScope key is cleaned at start-up and never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.views.debug import SafeExceptionReporterFilter

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-settings-test-7d1e"


def load_settings(tmp_path, key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHSCOPE_API_KEY": key, "INPAINT_VAR_DIR": str(tmp_path)}
    code = f"import webapp.settings as s; print(s.DASHSCOPE_API_KEY == {KEY!r})"
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("key", [KEY + "\n", f"  {KEY}\r\n"])
def test_a_key_mounted_from_a_file_is_stripped(tmp_path, key):
    loaded = load_settings(tmp_path, key)
    assert loaded.returncode == 0, loaded.stderr[-500:]
    assert loaded.stdout.strip() == "True"


@pytest.mark.parametrize("key", [f"{KEY} extra", f"{KEY}\x07"])
def test_a_key_with_inner_whitespace_refuses_to_start_without_showing_it(tmp_path, key):
    loaded = load_settings(tmp_path, key)
    assert loaded.returncode != 0
    assert "DASHSCOPE_API_KEY contains spaces or control characters" in loaded.stderr
    assert KEY not in loaded.stdout + loaded.stderr


def test_the_key_is_hidden_from_debug_pages(settings):
    # DEBUG=true error pages list settings through this filter; a name containing KEY is cleansed.
    settings.DASHSCOPE_API_KEY = KEY
    safe = SafeExceptionReporterFilter()
    assert safe.get_safe_settings()["DASHSCOPE_API_KEY"] == safe.cleansed_substitute


def load_with_secret(tmp_path, secret: str, *, debug: str = "false") -> subprocess.CompletedProcess:
    env = {**os.environ, "SECRET_KEY": secret, "DEBUG": debug, "INPAINT_VAR_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", "import webapp.settings"], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


# The value a deployment gets when it copies deploy/inpaint.env.example and forgets to change it.
EXAMPLE_SECRET_KEY = next(line.partition("=")[2] for line in (ROOT / "deploy" / "inpaint.env.example").read_text().splitlines()
                          if line.startswith("SECRET_KEY="))


@pytest.mark.parametrize("secret", [EXAMPLE_SECRET_KEY, "x" * 49,
                                    "change-me-" + "a" * 60])
def test_a_placeholder_or_short_secret_key_refuses_to_start_without_showing_it(tmp_path, secret):
    loaded = load_with_secret(tmp_path, secret)
    assert loaded.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is the example's placeholder or shorter than 50" in loaded.stderr
    assert secret not in loaded.stderr


@pytest.mark.parametrize(("secret", "debug"), [("k" * 50, "false"), ("", "false"), ("short", "true")])
def test_a_long_key_a_generated_one_or_debug_starts(tmp_path, secret, debug):
    loaded = load_with_secret(tmp_path, secret, debug=debug)
    assert loaded.returncode == 0, loaded.stderr[-500:]


def load_printing(tmp_path, printed: str, *, cleared: tuple[str, ...], **values: str) -> subprocess.CompletedProcess:
    """The settings loaded in a new process with ``values``, and no variable of this environment whose name starts
    with one of ``cleared``; its output is ``printed``, an expression of the settings module ``s``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(cleared)}
    env |= {"INPAINT_VAR_DIR": str(tmp_path), **values}
    return subprocess.run([sys.executable, "-c", f"import webapp.settings as s; print({printed})"], check=False,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def load_caps(tmp_path, **caps: str) -> subprocess.CompletedProcess:
    return load_printing(tmp_path, "s.INPAINT_MONTHLY_IMAGE_CAP, s.INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER",
                         cleared=("INPAINT_MONTHLY_IMAGE_CAP",), **caps)


@pytest.mark.parametrize(("caps", "read"), [
    ({}, "None None"),  # unset: inpaint.services.usage applies the open-mode defaults
    ({"INPAINT_MONTHLY_IMAGE_CAP": "", "INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER": " "}, "None None"),
    ({"INPAINT_MONTHLY_IMAGE_CAP": "0", "INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER": "off"}, "0 0"),
    ({"INPAINT_MONTHLY_IMAGE_CAP": "1000", "INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER": "OFF"}, "1000 0"),
])
def test_a_cap_left_unset_differs_from_one_turned_off_on_purpose(tmp_path, caps, read):
    loaded = load_caps(tmp_path, **caps)
    assert loaded.returncode == 0, loaded.stderr[-500:]
    assert loaded.stdout.strip() == read


def test_a_cap_that_is_not_a_number_stops_the_start_in_plain_words(tmp_path):
    loaded = load_caps(tmp_path, INPAINT_MONTHLY_IMAGE_CAP="lots")
    assert loaded.returncode != 0
    assert 'INPAINT_MONTHLY_IMAGE_CAP must be a whole number of images, or "off".' in loaded.stderr


def load_qwen(tmp_path, **values: str) -> subprocess.CompletedProcess:
    return load_printing(tmp_path, "s.INPAINT_QWEN_TIMEOUT, s.INPAINT_QWEN_SUBMIT_RATE, s.INPAINT_QWEN_RUNNING_LIMIT, "
                         "s.INPAINT_EDIT_SOFT_TIME_LIMIT > s.INPAINT_QWEN_TIMEOUT, "
                         "[queue.name for queue in s.CELERY_TASK_QUEUES]", cleared=("INPAINT_QWEN_",), **values)


@pytest.mark.parametrize(("values", "read"), [
    ({}, "360.0 2 2 True ['steps', 'fills', 'edits']"),  # the documented defaults
    ({"INPAINT_QWEN_TIMEOUT": "600", "INPAINT_QWEN_SUBMIT_RATE": "5", "INPAINT_QWEN_RUNNING_LIMIT": "3"},
     "600.0 5 3 True ['steps', 'fills', 'edits']"),
])
def test_the_qwen_models_have_their_own_timeout_limits_and_queue(tmp_path, values, read):
    loaded = load_qwen(tmp_path, **values)
    assert loaded.returncode == 0, loaded.stderr[-500:]
    assert loaded.stdout.strip() == read


def test_a_qwen_timeout_that_is_not_a_number_stops_the_start(tmp_path):
    loaded = load_qwen(tmp_path, INPAINT_QWEN_TIMEOUT="six minutes")
    assert loaded.returncode != 0 and "INPAINT_QWEN_TIMEOUT" in loaded.stderr
