"""Ready for a team and a demo audience: HTTPS settings, CSP, sign-in, body limits, file permissions,
and signed-link tokens kept out of logs."""

from __future__ import annotations

import datetime
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from gunicorn.config import Config

from inpaint.models import InpaintJob
from inpaint.reporting import LinkTokensHidden
from inpaint.services import links
from tests.pictures import mask, picture
from webapp.gunicorn_logging import TokenHidingLogger

ROOT = Path(__file__).resolve().parent.parent
BEHIND_HTTPS = {  # the README's "Behind HTTPS" block
    "INPAINT_HTTPS": "true", "INPAINT_BEHIND_PROXY": "true", "ALLOWED_HOSTS": "inpaint.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://inpaint.example.com",
    "SECRET_KEY": "a-long-random-secret-for-this-test-only-5f0e9b2c7a1d4e8f9a0b1c2d3e4f5a6b",
}


def form(**extra) -> dict:
    return {"engine": "offline", "prompt": "", "style": "<auto>", "size": "original", "n": "1", "mask_color": "",
            "base_image": SimpleUploadedFile("p.jpg", picture(), "image/jpeg"),
            "mask_image": SimpleUploadedFile("m.png", mask(), "image/png"), **extra}


def test_check_deploy_is_clean_with_the_documented_https_settings(tmp_path):
    env = {**os.environ, **BEHIND_HTTPS, "INPAINT_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' live server, never in a deployment
    checked = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_3000_mask_colours_are_refused_at_once(client):
    colours = "[" + ",".join(f"[{i % 256}, {i // 256}, 7]" for i in range(3000)) + "]"
    started = time.perf_counter()
    response = client.post("/jobs/", form(mask_color=colours), headers={"HX-Request": "true"})
    assert time.perf_counter() - started < 1.0
    assert "at most 16 mask colours" in response.content.decode()
    assert not InpaintJob.objects.exists()


@pytest.mark.django_db
def test_login_mode_sends_people_to_sign_in_but_keeps_signed_links_working(client, settings):
    settings.INPAINT_ACCESS = "login"
    settings.INPAINT_PUBLIC_BASE_URL = "http://testserver"
    page = client.get("/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
    person = get_user_model().objects.create_user("ada", password="a-long-password-1")
    client.force_login(person)
    assert client.post("/jobs/", form(), headers={"HX-Request": "true"}).status_code == 200
    job = InpaintJob.objects.get()
    client.logout()
    assert client.get(f"/jobs/{job.pk}/picture/").status_code == 302
    link = links.media_link_create(job.mask_image.name).removeprefix("http://testserver")
    assert client.get(link).status_code == 200


def test_a_200_mb_post_is_answered_413_before_it_is_read(live_server, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"POST /jobs/ HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                           b"Content-Type: multipart/form-data; boundary=x\r\n"
                           b"Content-Length: " + str(200 * 1024 * 1024).encode() + b"\r\n\r\n" + b"--x\r\n" * 1000)
        answer = ""
        while "</p>" not in answer and (chunk := connection.recv(65536)):
            answer += chunk.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "a picture may be at most 50 MB" in answer
    assert list(tmp_path.iterdir()) == []


def test_the_secret_key_file_and_media_are_for_the_apps_user_only(tmp_path):
    env = {**os.environ, "INPAINT_VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": ""}
    subprocess.run([sys.executable, "-m", "webapp.startup"], cwd=ROOT, env=env, check=True, timeout=60)
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700


@pytest.mark.django_db
def test_stored_pictures_are_for_the_apps_user_only(client, media_root, sent_steps):
    client.post("/jobs/", form(), headers={"HX-Request": "true"})
    stored = [path for path in media_root.rglob("*") if path.is_file()]
    assert stored and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in stored)


def test_a_signed_link_token_never_reaches_a_log_line(caplog):
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s",
                               ("/links/eyJzZWNyZXQiOiJ0b2tlbiJ9:1tXyZa:abcdef/base.png",), None)
    LinkTokensHidden().filter(record)
    assert record.getMessage() == "Not Found: /links/[token]/base.png"


def test_gunicorns_access_log_hides_the_token():
    class Request:
        method, uri, path, query, version, headers = "GET", "/links/tok.en:sig/mask.png", "/links/tok.en:sig/mask.png", "", (1, 1), []

    class Response:
        status, sent, headers = "200 OK", 10, []

    environ = {"RAW_URI": Request.uri, "REQUEST_METHOD": "GET", "PATH_INFO": Request.path, "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    atoms = TokenHidingLogger(Config()).atoms(Response(), Request(), environ, datetime.timedelta(seconds=0.01))
    assert "tok.en" not in atoms["r"] and "tok.en" not in atoms["U"]
