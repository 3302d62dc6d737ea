"""The start-up step (webapp/startup.py): on a var directory not made yet it makes the directory, the folders the
settings list and the secret key, readable by the app's user only; run again it keeps the key; a malformed
setting stops it in one plain sentence."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.secret_key import SecretKeyMissing, secret_key_read, secret_key_write
from webapp.startup import main

ROOT = Path(__file__).resolve().parent.parent
# `make run`'s embedded defaults: SQLite, the filesystem broker and a generated key, all in the var directory.
EMBEDDED = {name: value for name, value in os.environ.items()
            if name not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY")}


def startup(var_dir: Path, **values: str) -> subprocess.CompletedProcess:
    env = {**EMBEDDED, "INPAINT_VAR_DIR": str(var_dir), **values}
    return subprocess.run([sys.executable, "-m", "webapp.startup"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_var_dir_gets_its_folders_and_a_key_for_the_apps_user_only(tmp_path):
    var_dir = tmp_path / "outside" / "var"
    done = startup(var_dir)
    assert done.returncode == 0, done.stderr[-500:]
    assert mode(var_dir) == 0o700
    assert mode(var_dir / "secret_key") == 0o600
    assert len((var_dir / "secret_key").read_text()) >= 50
    assert all((var_dir / folder).is_dir() for folder in ("static", "broker/queue", "broker/processed",
                                                          "broker/control"))


def test_a_second_start_keeps_the_key(tmp_path):
    assert startup(tmp_path / "var").returncode == 0
    key = (tmp_path / "var" / "secret_key").read_text()
    again = startup(tmp_path / "var")
    assert again.returncode == 0, again.stderr[-500:]
    assert (tmp_path / "var" / "secret_key").read_text() == key
    assert sorted(path.name for path in (tmp_path / "var").iterdir()) == ["broker", "secret_key", "static"]


def test_a_key_given_in_the_environment_leaves_none_on_disk(tmp_path):
    done = startup(tmp_path / "var", SECRET_KEY="k" * 50)
    assert done.returncode == 0, done.stderr[-500:]
    assert (tmp_path / "var" / "static").is_dir() and not (tmp_path / "var" / "secret_key").exists()


def test_a_key_already_written_by_another_start_is_never_replaced(tmp_path):
    # Two units starting at once both find no key; the one that links its key in second keeps the first's.
    key_file = tmp_path / "secret_key"
    secret_key_write(key_file)
    first = key_file.read_text()
    secret_key_write(key_file)
    assert key_file.read_text() == first
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind


def test_settings_without_a_key_name_the_file_the_start_up_step_writes(tmp_path):
    with pytest.raises(SecretKeyMissing, match="run the start-up step") as missing:
        secret_key_read(tmp_path)
    secret_key_write(missing.value.key_file)
    assert secret_key_read(tmp_path) == (tmp_path / "secret_key").read_text()


def test_a_web_servers_start_collects_the_static_files(settings, tmp_path):
    # In this process the settings are loaded already; the static root is the test's own.
    settings.STATIC_ROOT = tmp_path / "static"
    main(["--static"])
    assert (tmp_path / "static" / "inpaint" / "studio.css").is_file()


@pytest.mark.parametrize(("name", "value"), [("INPAINT_CREATE_RATE", "abc"), ("INPAINT_HTTPS", "maybe")])
def test_a_malformed_setting_stops_the_start_in_one_plain_sentence(tmp_path, name, value):
    done = startup(tmp_path / "var", **{name: value})
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"Inpaint Studio cannot start: {name} must be ")
    assert f'it is "{value}"' in done.stderr and "Traceback" not in done.stderr
