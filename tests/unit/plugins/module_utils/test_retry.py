"""Retries: which methods and statuses are resent, backoff and Retry-After."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import NewConnectionError, ProtocolError

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiConnectionError,
    ApiError,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.retry import (
    RetryPolicy,
    parse_retry_after,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    TOKEN_URL,
)


@pytest.fixture
def logged_in(api, tokens):
    api.post(TOKEN_URL, json=tokens.body())


def calls_to(api, method, url):
    return [c for c in api.calls if c.request.method == method and c.request.url == url]


def connection_refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(
        None, "Failed to establish a new connection: Connection connection_refused"
    )
    return requests.exceptions.ConnectionError(reason)


def dropped() -> requests.exceptions.ConnectionError:
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    return requests.exceptions.ConnectionError(reason)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_retried_on_busy_status(api, make_client, logged_in, clock, status):
    api.get(API + "/clusters", status=status)
    api.get(API + "/clusters", json=[{"id": "c1"}])
    client = make_client()

    assert client.get("/clusters") == [{"id": "c1"}]
    assert len(calls_to(api, "GET", API + "/clusters")) == 2
    assert client.retry_count == 1
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 500, 501])
def test_get_not_retried_on_other_status(api, make_client, logged_in, status):
    api.get(API + "/clusters", status=status)
    client = make_client()

    with pytest.raises(ApiError):
        client.get("/clusters")
    assert len(calls_to(api, "GET", API + "/clusters")) == 1


@pytest.mark.parametrize(("method", "call"), [("PUT", "put"), ("DELETE", "delete")])
def test_put_and_delete_retried(api, make_client, logged_in, method, call):
    url = API + "/jobs/j1/settings"
    api.add(method, url, status=503)
    api.add(method, url, status=204)
    client = make_client()

    assert getattr(client, call)("/jobs/j1/settings") is None
    assert len(calls_to(api, method, url)) == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_post_never_retried_on_status(api, make_client, logged_in, status):
    url = API + "/restorePoints/restore"
    api.post(url, status=status)
    api.post(url, json={"sessionId": "s1"})
    client = make_client()

    with pytest.raises(ApiError) as caught:
        client.post("/restorePoints/restore", body={"restorePointId": "rp"})

    assert caught.value.status == status
    assert len(calls_to(api, "POST", url)) == 1


def test_post_not_retried_after_dropped_connection(api, make_client, logged_in):
    url = API + "/restorePoints/restore"
    api.post(url, body=dropped())
    api.post(url, json={"sessionId": "s1"})
    client = make_client()

    with pytest.raises(ApiConnectionError) as caught:
        client.post("/restorePoints/restore", body={"restorePointId": "rp"})

    message = str(caught.value)
    assert "closed the connection" in message or "connection error" in message
    assert "may have received this request and acted on it" in message
    assert caught.value.request_sent is True
    assert len(calls_to(api, "POST", url)) == 1


def test_post_retried_when_connection_never_opened(api, make_client, logged_in):
    url = API + "/clusters/c1/vms/refreshAsync"
    api.post(url, body=connection_refused())
    api.post(url, json={"sessionId": "s1"})
    client = make_client()

    assert client.post("/clusters/c1/vms/refreshAsync") == {"sessionId": "s1"}
    assert len(calls_to(api, "POST", url)) == 2


def test_get_retried_after_dropped_connection(api, make_client, logged_in):
    api.get(API + "/clusters", body=dropped())
    api.get(API + "/clusters", json=[])
    client = make_client()

    assert client.get("/clusters") == []
    assert len(calls_to(api, "GET", API + "/clusters")) == 2


def test_retry_after_seconds_honoured(api, make_client, logged_in, clock):
    api.get(API + "/clusters", status=429, headers={"Retry-After": "7"})
    api.get(API + "/clusters", json=[])
    client = make_client()

    client.get("/clusters")

    assert clock.sleeps == [7.0]


def test_retry_after_too_long_is_an_error(api, make_client, logged_in, clock):
    api.get(API + "/clusters", status=503, headers={"Retry-After": "3600"})
    client = make_client()

    with pytest.raises(ApiError) as caught:
        client.get("/clusters")

    assert caught.value.status == 503
    assert clock.sleeps == []
    assert "asked to wait 3600 s before a retry (Retry-After)" in str(caught.value)


def test_retries_give_up_after_maximum(api, make_client, logged_in, clock):
    api.get(API + "/clusters", status=503)
    client = make_client()

    with pytest.raises(ApiError) as caught:
        client.get("/clusters")

    assert len(calls_to(api, "GET", API + "/clusters")) == 6
    assert caught.value.retries == 5
    assert "Gave up after 5 retries" in str(caught.value)
    assert len(clock.sleeps) == 5


def test_backoff_grows_exponentially(api, make_client, logged_in, clock):
    api.get(API + "/clusters", status=503)
    client = make_client()

    with pytest.raises(ApiError):
        client.get("/clusters")

    # jitter fixed at 0.5 gives three quarters of each ceiling: 1, 2, 4, 8, 16 s.
    assert clock.sleeps == [0.75, 1.5, 3.0, 6.0, 12.0]


def test_login_retried_on_503(api, make_client, tokens):
    api.post(TOKEN_URL, status=503)
    api.post(TOKEN_URL, json=tokens.body())
    client = make_client()

    client.login()

    assert len(calls_to(api, "POST", TOKEN_URL)) == 2


def test_retry_logged_without_secrets(api, make_client, logged_in, log_lines):
    api.get(API + "/clusters", status=503)
    api.get(API + "/clusters", json=[])
    client = make_client()

    client.get("/clusters")

    retry_lines = [line for line in log_lines if line.startswith("Retrying")]
    assert retry_lines == [
        "Retrying GET " + API + "/clusters after HTTP 503 in 0.8 s (retry 1 of 5)"
    ]


def test_delay_capped():
    policy = RetryPolicy(max_delay=30, jitter=lambda: 1.0)

    assert policy.delay(10) == 30


def test_delay_jitter_range():
    low = RetryPolicy(jitter=lambda: 0.0).delay(3)
    high = RetryPolicy(jitter=lambda: 1.0).delay(3)

    assert low == 4.0
    assert high == 8.0


def test_retry_after_is_lower_bound():
    policy = RetryPolicy(jitter=lambda: 1.0)

    assert policy.delay(0, retry_after=0.2) == 1.0
    assert policy.delay(0, retry_after=9) == 9


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_parse_retry_after_invalid(value):
    assert parse_retry_after(value) is None
