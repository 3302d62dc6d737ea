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
