"""locale/: every string the code wraps has a translation in every locale there (Simplified Chinese today), none fuzzy, and the committed .mo files are
the .po files compiled (issue 22). Needs GNU gettext (`make gettext`, part of `make install-test`)."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALES = sorted(path.name for path in (ROOT / "locale").iterdir() if path.is_dir())
MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
CATALOGUES = [(locale, domain) for locale in LOCALES for domain in DOMAINS]
# What makemessages reads, copied so that a run leaves the project's own .po files as they are.
SOURCES = ("manage.py", "webapp", "inpaint", "templates", "static", "locale")


def _statistics(po: Path) -> str:
    """msgfmt's count, e.g. "295 translated messages." (it adds the fuzzy and untranslated ones when there are any)."""
    done = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)],
                          capture_output=True, text=True, check=True)
    return done.stderr.strip().splitlines()[-1]


def _assert_complete(statistics: str) -> None:
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), statistics


@pytest.fixture(scope="module")
def remade_messages(tmp_path_factory) -> Path:
    """The .po files as makemessages makes them from today's code, over a copy of the project."""
    copy = tmp_path_factory.mktemp("project")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.jpg", "*.png"))
        else:
            shutil.copy(source, copy / name)
    environment = {**os.environ, "INPAINT_VAR_DIR": str(copy / "var"), "SECRET_KEY": "k" * 60}
    for domain in DOMAINS:
        subprocess.run([sys.executable, "manage.py", "makemessages", "--all", "-d", domain, "--ignore=var"],
                       cwd=copy, env=environment, check=True, capture_output=True)
    return copy / "locale"


def test_simplified_chinese_is_there():
    assert "zh_Hans" in LOCALES


@pytest.mark.parametrize(("locale", "domain"), CATALOGUES)
def test_the_committed_catalogue_is_complete(locale, domain):
    _assert_complete(_statistics(ROOT / "locale" / locale / "LC_MESSAGES" / f"{domain}.po"))


@pytest.mark.parametrize(("locale", "domain"), CATALOGUES)
def test_every_string_the_code_wraps_is_translated(remade_messages, locale, domain):
    # A string wrapped in the code but missing from the .po comes back from makemessages untranslated.
    _assert_complete(_statistics(remade_messages / locale / "LC_MESSAGES" / f"{domain}.po"))


def test_a_string_missing_from_the_catalogue_is_found(tmp_path):
    po = tmp_path / "django.po"
    po.write_text((MESSAGES / "django.po").read_text() + '\nmsgid "A string nobody translated"\nmsgstr ""\n')
    with pytest.raises(AssertionError):
        _assert_complete(_statistics(po))


def test_a_fuzzy_entry_is_found(tmp_path):
    po = tmp_path / "django.po"
    po.write_text((MESSAGES / "django.po").read_text() + '\n#, fuzzy\nmsgid "A guess"\nmsgstr "猜的"\n')
    with pytest.raises(AssertionError):
        _assert_complete(_statistics(po))


@pytest.mark.parametrize(("locale", "domain"), CATALOGUES)
def test_the_committed_mo_files_are_the_po_files_compiled(tmp_path, locale, domain):
    messages = ROOT / "locale" / locale / "LC_MESSAGES"
    compiled = tmp_path / f"{domain}.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(messages / f"{domain}.po")], check=True)
    with compiled.open("rb") as fresh, (messages / f"{domain}.mo").open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog, \
            "run `make messages` and commit the .mo files"
