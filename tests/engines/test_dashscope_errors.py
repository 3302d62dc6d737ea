"""The DashScope client's errors against a fake session: which are transient or throttled, whether a task may
exist, and the API key never in a message, a log or a debug page."""

from __future__ import annotations

import sys

import pytest
import requests
from django.views.debug import ExceptionReporter

from inpaint.engines.dashscope import DashScopeClient, DashScopeError, error_is_transient
from tests.engines.dashscope_session import (
    API_KEY,
    BASE,
    POLICY,
    TASK_ID,
    TIMEOUT,
    create,
    error,
    make_client,
    refused_connection,
    reply,
)


# --- error sorting ------------------------------------------------------------------------

ERRORS = [
    pytest.param(401, "InvalidApiKey", "Invalid API-key provided.", False, id="401-InvalidApiKey"),
    pytest.param(400, "InvalidParameter", "Required parameter(s) missing or invalid.", False, id="400-InvalidParameter"),
    pytest.param(400, "DataInspectionFailed", "Input data may contain inappropriate content.", False,
                 id="400-DataInspectionFailed"),
    pytest.param(429, "Throttling", "Requests throttling triggered.", True, id="429-Throttling"),
    pytest.param(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", True,
                 id="429-Throttling.RateQuota"),
    pytest.param(429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", False,
                 id="429-free-quota-gone"),
    pytest.param(400, "Arrearage", "Access denied, please make sure your account is in good standing.", False,
                 id="400-Arrearage"),
    pytest.param(500, "InternalError", "An internal error has occured, please try again later.", True,
                 id="500-InternalError"),
]


@pytest.mark.parametrize(("status", "code", "message", "transient"), ERRORS)
def test_error_is_transient_sorts_error(status, code, message, transient):
    assert error_is_transient(status, code, message) is transient


@pytest.mark.parametrize(("status", "code", "message", "transient"), ERRORS)
def test_create_task_raises_sorted_error(status, code, message, transient):
    client, _ = make_client(error(status, code, message))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert (raised.value.code, raised.value.message, raised.value.http_status) == (code, message, status)
    assert raised.value.request_id == "req-error"
    assert raised.value.transient is transient
    assert raised.value.maybe_created is False


@pytest.mark.parametrize("code", ["Throttling", "Throttling.RateQuota"])
def test_rate_limit_error_is_throttled(code):
    client, _ = make_client(error(429, code, "Requests rate limit exceeded, please try again later."))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.throttled is True


def test_free_quota_gone_is_not_throttled():
    client, _ = make_client(error(429, "Throttling.AllocationQuota", "Free allocated quota exceeded."))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.throttled is False


def test_server_fault_is_not_throttled():
    client, _ = make_client(error(500, "InternalError", "An internal error has occured."))

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.throttled is False


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_error_with_html_body_is_transient(status):
    client, _ = make_client(reply(status, text="<html><body><h1>Bad Gateway</h1></body></html>"))

    with pytest.raises(DashScopeError) as raised:
        client.query_task(TASK_ID)

    assert raised.value.code in ("Unknown", f"HTTP{status}")
    assert raised.value.http_status == status
    assert raised.value.transient is True


@pytest.mark.parametrize(("failure", "call", "maybe_created"), [
    (requests.ReadTimeout("read timed out"), "create", True),
    (requests.ReadTimeout("read timed out"), "query", False),
    (requests.ConnectTimeout("connect timed out"), "create", False),
    (requests.ConnectionError("Connection reset by peer"), "query", False),
], ids=["read-timeout-on-create", "read-timeout-on-query", "connect-timeout-on-create", "reset-on-query"])
def test_network_failure_is_transient_and_says_whether_a_task_may_exist(failure, call, maybe_created):
    client, _ = make_client(failure)

    with pytest.raises(DashScopeError) as raised:
        create(client) if call == "create" else client.query_task(TASK_ID)

    assert (raised.value.transient, raised.value.maybe_created) == (True, maybe_created)


def test_refused_connection_on_create_created_nothing():
    client, _ = make_client(refused_connection())

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert raised.value.transient is True
    assert raised.value.maybe_created is False


# --- the API key stays secret -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        error(401, "InvalidApiKey", "Invalid API-key provided."),
        reply(502, text="<html>Bad Gateway</html>"),
        requests.ReadTimeout(f"read timed out (Authorization: Bearer {API_KEY})"),
        requests.ConnectTimeout(f"connect timed out (Authorization: Bearer {API_KEY})"),
        requests.ConnectionError(f"reset (Authorization: Bearer {API_KEY})"),
    ],
    ids=["401", "502-html", "read-timeout", "connect-timeout", "connection-error"],
)
def test_api_key_not_in_exception_message(answer, caplog):
    client, _ = make_client(answer)
    caplog.set_level("DEBUG")

    with pytest.raises(DashScopeError) as raised:
        create(client)

    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(raised.value.args)
    assert API_KEY not in raised.value.message
    assert API_KEY not in caplog.text


def test_api_key_not_in_upload_failure_message():
    client, _ = make_client(requests.ConnectionError(f"reset (Authorization: Bearer {API_KEY})"))

    with pytest.raises(DashScopeError) as raised:
        client.upload_file(POLICY, "base.png", b"png")

    assert API_KEY not in str(raised.value)


# --- the key never reaches an exception message or a log ----------------------------------------


def test_a_key_with_a_newline_fails_in_plain_words_without_quoting_it(caplog):
    client = DashScopeClient(base_url=BASE, api_key="sk-x-secret\n", timeout=TIMEOUT)  # a real requests.Session
    with pytest.raises(DashScopeError) as raised:
        client.query_task(TASK_ID)
    assert raised.value.code == "ClientConfiguration"
    assert not raised.value.transient
    assert "sk-x-secret" not in str(raised.value) and "sk-x-secret" not in caplog.text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_the_debug_page_of_an_error_inside_a_call_does_not_show_the_key(settings, rf):
    settings.DEBUG = True

    class Broken:
        def request(self, method, url, **kwargs):
            raise RuntimeError("a bug below the client")

    client = DashScopeClient(base_url=BASE, api_key=API_KEY, timeout=TIMEOUT, session=Broken())
    try:
        client.query_task(TASK_ID)
    except RuntimeError:
        report = ExceptionReporter(rf.get("/"), *sys.exc_info()).get_traceback_text()
    assert "_call" in report and "a bug below the client" in report
    assert API_KEY not in report


@pytest.mark.parametrize("failure", [requests.exceptions.ChunkedEncodingError("broken"),
                                     requests.exceptions.ContentDecodingError("bad gzip"),
                                     requests.exceptions.TooManyRedirects("loop")])
def test_every_requests_failure_becomes_a_dashscope_error_named_by_its_class(failure):
    class Failing:
        def request(self, *args, **kwargs):
            raise failure

    client = DashScopeClient(base_url=BASE, api_key=API_KEY, timeout=TIMEOUT, session=Failing())
    with pytest.raises(DashScopeError) as raised:
        client.create_task(model="wanx-x-painting", input={}, parameters={})
    assert raised.value.message == failure.__class__.__name__
    assert raised.value.transient and raised.value.maybe_created
