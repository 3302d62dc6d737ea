"""The stand-in's result links (tests/dashscope_standin/results.py): signed and expiring, and the ways a download
of one can be made to go wrong."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image, UnidentifiedImageError

from tests.dashscope_standin_tests.standin_calls import (
    assert_oss_error,
    create_task,
    fetch_image,
    painting_body,
    png_bytes,
    query,
    result_of,
    wait_for_status,
)


# ------------------------------------------------------------------ results


def test_result_link_works_then_expires(ds, http, inputs):
    task_id = create_task(ds, http, painting_body(inputs, size="1280*720"))
    wait_for_status(ds, task_id, "SUCCEEDED")
    url = query(ds, http, task_id).json()["output"]["results"][0]["url"]

    link = rf"^http://127\.0\.0\.1:{ds.port}/results/{task_id}/0\.png\?Expires=\d+&OSSAccessKeyId=[^&]+&Signature="
    assert re.match(link, url)
    assert fetch_image(http, url).size == (1280, 720)
    assert_oss_error(http.get(url.replace("Signature=", "Signature=x")), 403, "SignatureDoesNotMatch")

    ds.expire_results_now()
    assert_oss_error(http.get(url), 403, "AccessDenied", "Request has expired.")


def test_result_ttl(ds, http, inputs):
    ds.result_ttl_seconds = 0
    task_id = create_task(ds, http, painting_body(inputs))
    wait_for_status(ds, task_id, "SUCCEEDED")
    url = query(ds, http, task_id).json()["output"]["results"][0]["url"]
    assert_oss_error(http.get(url), 403, "AccessDenied")


# ------------------------------------------------------------------ fault injection: result downloads


def test_fail_result_downloads_then_recover(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    ds.fail_result_downloads(status=403, count=2)
    ds.fail_result_downloads(status=404, count=1)

    assert_oss_error(http.get(url), 403, "AccessDenied")
    assert_oss_error(http.get(url), 403, "AccessDenied")
    assert_oss_error(http.get(url), 404, "NoSuchKey")
    assert fetch_image(http, url).size == (1024, 1024)
    assert ds.result_downloads == 4
    with pytest.raises(ValueError):
        ds.fail_result_downloads(status=418)


def test_result_faults_apply_only_to_valid_links(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    ds.fail_result_downloads(status=500, count=1)

    assert_oss_error(http.get(url.replace("Signature=", "Signature=x")), 403, "SignatureDoesNotMatch")
    assert_oss_error(http.get(url), 500, "InternalError")  # still queued for the first valid download


def test_redirect_results_to(ds, http, inputs, images):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    target = images.publish("/elsewhere.png", png_bytes((300, 300)))
    ds.redirect_results_to(target, count=1)

    redirected = http.get(url, allow_redirects=False)
    assert (redirected.status_code, redirected.headers["Location"]) == (302, target)
    assert fetch_image(http, url).size == (1024, 1024)

    ds.redirect_results_to(target)
    for _ in range(2):
        assert http.get(url, allow_redirects=False).status_code == 302
    ds.serve_results_normally()
    assert fetch_image(http, url).size == (1024, 1024)


def test_oversize_results_are_streamed_and_never_read_here_in_full(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    size = 200 * 1024 * 1024
    ds.oversize_results(bytes=size)

    with http.get(url, stream=True, timeout=5) as response:
        assert response.status_code == 200
        assert (response.headers["Content-Type"], int(response.headers["Content-Length"])) == ("image/png", size)
        first = next(response.iter_content(chunk_size=1024 * 1024))
        assert first.startswith(b"\x89PNG\r\n\x1a\n")
    # the client walked away: the stand-in sent a few socket buffers' worth, not 200 MB
    deadline = time.time() + 5
    while ds.result_bytes_sent == 0 and time.time() < deadline:
        time.sleep(0.01)
    assert 0 < ds.result_bytes_sent < 64 * 1024 * 1024


def test_oversize_results_chunked_are_the_real_png_then_zeros(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    png = http.get(url).content
    ds.oversize_results(bytes=3 * 1024 * 1024 + 5, count=1, declare_length=False)

    response = http.get(url)
    assert "Content-Length" not in response.headers and response.headers["Transfer-Encoding"] == "chunked"
    assert len(response.content) == 3 * 1024 * 1024 + 5
    assert response.content.startswith(png) and not response.content[len(png) :].strip(b"\x00")
    assert ds.result_bytes_sent == len(png) + 3 * 1024 * 1024 + 5
    assert http.get(url).content == png  # count=1: the next download is the image again


def test_corrupt_results_are_html_labelled_as_png(ds, http, inputs):
    url = result_of(ds, http, create_task(ds, http, painting_body(inputs)))
    ds.corrupt_results(count=1)

    response = http.get(url)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "image/png")
    assert response.content.startswith(b"<!DOCTYPE html>")
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(response.content))
    assert fetch_image(http, url).size == (1024, 1024)
    ds.corrupt_results(body=b"{}", content_type="application/json")
    assert http.get(url).headers["Content-Type"] == "application/json"
