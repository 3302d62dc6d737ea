"""A malformed setting stops start-up with one plain sentence, and well-formed ones read as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import TEST_SECRET_KEY
from webapp.env_readers import CheckedEnv, SettingMalformed, rate_parse

ROOT = Path(__file__).resolve().parent.parent


def env_with(monkeypatch, **values: str) -> CheckedEnv:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return CheckedEnv()


@pytest.mark.parametrize("text, rate", [("60/60", (60, 60)), (" 0/600 ", (0, 600)), ("5 / 900", (5, 900))])
def test_a_rate_is_a_count_per_seconds(text, rate):
    assert rate_parse(text) == rate


@pytest.mark.parametrize("text", ["abc", "60", "60/0", "-1/60", "1.5/60", "60/60/60", "/60"])
def test_a_malformed_rate_is_refused_by_name(monkeypatch, text):
    with pytest.raises(SettingMalformed, match=r'INPAINT_CREATE_RATE must be "count/seconds", e\.g\. 60/60; it is'):
        env_with(monkeypatch, INPAINT_CREATE_RATE=text).rate("INPAINT_CREATE_RATE", default="60/60")


def test_unset_and_empty_settings_take_their_defaults(monkeypatch):
    env = env_with(monkeypatch, INPAINT_MAX_PIXELS="  ")
    monkeypatch.delenv("INPAINT_CREATE_RATE", raising=False)
    assert env.int("INPAINT_MAX_PIXELS", default=7) == 7
    assert env.rate("INPAINT_CREATE_RATE", default="60/60") == "60/60"
    assert env.counts("INPAINT_SUBMIT_RATES_UNSET") == {}


@pytest.mark.parametrize("reader, text, value", [
    ("int", "100000000", 100_000_000), ("float", "2.5", 2.5), ("float", "3", 3.0),
    ("bool", "TRUE", True), ("bool", "off", False), ("bool", "0", False)])
def test_well_formed_values_read_as_their_type(monkeypatch, reader, text, value):
    assert getattr(env_with(monkeypatch, SETTING=text), reader)("SETTING", default=None) == value


@pytest.mark.parametrize("reader, text, form", [
    ("int", "lots", "a whole number"), ("int", "-5", "a whole number"), ("int", "2.5", "a whole number"),
    ("float", "soon", "a number of 0 or more"), ("float", "nan", "a number of 0 or more"),
    ("float", "-1", "a number of 0 or more"), ("bool", "maybe", "yes or no")])
def test_malformed_values_are_refused_with_their_form(monkeypatch, reader, text, form):
    with pytest.raises(SettingMalformed, match=f'SETTING must be {form}.*; it is "{text}"'):
        getattr(env_with(monkeypatch, SETTING=text), reader)("SETTING", default=None)


def test_per_engine_counts_are_whole_numbers(monkeypatch):
    env = env_with(monkeypatch, INPAINT_SUBMIT_RATES="wanx-x-painting=2, wanx2.1-imageedit=3")
    assert env.counts("INPAINT_SUBMIT_RATES") == {"wanx-x-painting": 2, "wanx2.1-imageedit": 3}
    for text in ("wanx-x-painting=two", "wanx-x-painting", "=2"):
        with pytest.raises(SettingMalformed, match='INPAINT_SUBMIT_RATES must be a list of "engine=count"'):
            env_with(monkeypatch, INPAINT_SUBMIT_RATES=text).counts("INPAINT_SUBMIT_RATES")


def test_a_long_value_is_shown_cut_short(monkeypatch):
    with pytest.raises(SettingMalformed) as refused:
        env_with(monkeypatch, SETTING="x" * 5000).int("SETTING", default=1)
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize("name, value", [("INPAINT_CREATE_RATE", "abc"), ("INPAINT_MAX_PIXELS", "lots"),
                                         ("INPAINT_RUNNING_LIMITS", "wanx-x-painting=one")])
def test_manage_py_stops_with_the_plain_sentence_and_no_traceback(tmp_path, name, value):
    """What `make run` does first (manage.py migrate), with the app's real settings module."""
    env = {**os.environ, "INPAINT_VAR_DIR": str(tmp_path), "SECRET_KEY": TEST_SECRET_KEY, name: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    ran = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert ran.returncode == 1
    assert ran.stderr.strip().startswith(f"Inpaint Studio cannot start: {name} must be ")
    assert "Traceback" not in ran.stderr
