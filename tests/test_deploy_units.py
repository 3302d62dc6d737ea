"""The systemd units under deploy/: each one parses, passes `systemd-analyze verify`, and the command
line it names starts what it is for on the suite's PostgreSQL and Redis (web answers, a worker is
ready on its one queue, beat writes its schedule) and stops on the SIGTERM systemd sends."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import redis
import requests

from tests.live import database_url, wait_for
from webapp.supervisor import WORKER_NICENESS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Where the units expect the checkout (with its .venv); here it is this one.
INSTALL_DIR = "/opt/inpaint"
UNITS = ["inpaint-web.service", "inpaint-steps.service", "inpaint-fills.service", "inpaint-edits.service",
         "inpaint-beat.service"]
# Names the units or boto3 read from the EnvironmentFile besides the settings module's own.
NAMES_OUTSIDE_SETTINGS = {"INPAINT_BIND", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def unit_read(name: str) -> configparser.ConfigParser:
    # Strict: a key given twice in a section (which systemd would read differently) is an error.
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str
    unit.read_string((DEPLOY / name).read_text())
    return unit


def unit_environment(unit: configparser.ConfigParser) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(unit["Service"].get("Environment", "")))


def command_line(template: str, env: dict[str, str]) -> list[str]:
    """A command line as systemd runs it: ${NAME} is the variable's value, %% a plain %; the install
    directory is this checkout."""
    words = []
    for word in shlex.split(template):
        word = re.sub(r"\$\{(\w+)\}", lambda name: env[name.group(1)], word)
        assert "%" not in word.replace("%%", ""), f"a systemd specifier the test does not know in {word}"
        words.append(word.replace("%%", "%").replace(INSTALL_DIR, str(ROOT)))
    return words


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_variables() -> set[str]:
    return set(re.findall(r'env(?:\.\w+)?\("([A-Z0-9_]+)"', (ROOT / "webapp" / "settings.py").read_text()))


def test_every_unit_is_valid_for_systemd(tmp_path):
    for name in UNITS:
        unit = unit_read(name)
        service = unit["Service"]
        assert service["EnvironmentFile"] == "/etc/inpaint/inpaint.env"
        assert service["WorkingDirectory"] == INSTALL_DIR
        assert service["User"] == "inpaint" and service["Restart"] == "always" and service["KillMode"] == "mixed"
        assert unit["Install"]["WantedBy"] == "multi-user.target"
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(INSTALL_DIR, str(ROOT)))
    verified = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr


def test_every_unit_but_the_web_server_runs_at_the_supervisors_lower_priority():
    for name in UNITS:
        nice = unit_read(name)["Service"].get("Nice")
        assert nice == (None if name == "inpaint-web.service" else str(WORKER_NICENESS)), name


def test_the_environment_file_example_names_only_variables_something_reads():
    lines = [line for line in (DEPLOY / "inpaint.env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    names = {line.split("=", 1)[0] for line in lines}
    assert all(re.fullmatch(r"[A-Z0-9_]+=.*", line) for line in lines)
    assert names - settings_variables() - NAMES_OUTSIDE_SETTINGS == set()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "INPAINT_S3_BUCKET"} <= names


class UnitProcess:
    """The unit's ExecStartPre and ExecStart, run as systemd would with the test's EnvironmentFile."""

    def __init__(self, name: str, env_file: dict[str, str], log_path: Path):
        self.unit = unit_read(name)
        # Variables from the EnvironmentFile win over the unit's Environment=, as in systemd.
        self.env = {**os.environ, **unit_environment(self.unit), **env_file}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "UnitProcess":
        service = self.unit["Service"]
        if "ExecStartPre" in service:
            subprocess.run(command_line(service["ExecStartPre"], self.env), cwd=ROOT, env=self.env, check=True,
                           timeout=120)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command_line(service["ExecStart"], self.env), cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        assert self.process.poll() is None, f"the process exited:\n{self.log()}"
        return True

    def stop(self) -> None:
        """SIGTERM to the main process only (KillMode=mixed); it must stop itself and its children."""
        timeout = float(self.unit["Service"]["TimeoutStopSec"])
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
            wait_for(lambda: not _group_alive(self.process.pid), timeout=timeout,
                     message="the unit's other processes to stop")
        finally:
            if _group_alive(self.process.pid):
                os.killpg(self.process.pid, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _worker_ready(unit: UnitProcess) -> bool:
    return unit.running() and " ready." in unit.log()


def _serving_only(log: str, queue: str) -> bool:
    served = set(re.findall(r"^\s*\.> (\w+)\s+exchange=", log, flags=re.MULTILINE))
    return served == {queue}


@pytest.fixture
def env_file(transactional_db, settings, tmp_path) -> dict[str, str]:
    """What /etc/inpaint/inpaint.env holds for these tests: the suite's database and broker, a var dir."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # no leftover task for a worker to run
    return {"DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SECRET_KEY": settings.SECRET_KEY, "INPAINT_VAR_DIR": str(tmp_path / "var"),
            "INPAINT_BIND": f"127.0.0.1:{free_port()}"}


def test_web_unit_serves_the_page_and_static_files(env_file, tmp_path):
    web = UnitProcess("inpaint-web.service", env_file, tmp_path / "web.log").start()
    try:
        base = f"http://{env_file['INPAINT_BIND']}"
        wait_for(lambda: web.running() and _answers(base + "/"), timeout=30, message="the web server to answer")
        assert _answers(base + "/static/inpaint/studio.css"), "collectstatic (ExecStartPre) filled the var dir"
    finally:
        web.stop()


@pytest.mark.parametrize("queue", ["steps", "fills", "edits"])
def test_worker_unit_is_ready_on_its_queue(env_file, tmp_path, queue):
    worker = UnitProcess(f"inpaint-{queue}.service", env_file, tmp_path / f"{queue}.log").start()
    try:
        wait_for(lambda: _worker_ready(worker), timeout=60, message=f"the {queue} worker to be ready")
        assert _serving_only(worker.log(), queue), worker.log()
        assert f"{queue}@{socket.gethostname()}" in worker.log()
    finally:
        worker.stop()


def test_beat_unit_writes_its_schedule_in_the_var_dir(env_file, tmp_path):
    beat = UnitProcess("inpaint-beat.service", env_file, tmp_path / "beat.log").start()
    try:
        # shelve may add a suffix (.db, .dat) depending on the dbm module Python was built with.
        wait_for(lambda: beat.running() and list(Path(env_file["INPAINT_VAR_DIR"]).glob("celerybeat-schedule*")),
                 timeout=30, message="beat to write its schedule")
    finally:
        beat.stop()
