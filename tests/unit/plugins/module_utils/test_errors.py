"""Error messages built from problem details, HTML pages and other bodies."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiError,
    ResponseFormatError,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    PASSWORD,
    TOKEN_URL,
)


@pytest.fixture
def client(api, tokens, make_client):
    api.post(TOKEN_URL, json=tokens.body())
    return make_client()


def test_problem_details_in_message(api, client):
    api.get(
        API + "/clusters/nope",
        status=404,
        content_type="application/problem+json",
        json={
            "type": "https://httpstatuses.io/404",
            "title": "Not Found",
            "status": 404,
            "detail": "Cluster 'nope' was not found.",
            "instance": "/api/v7/clusters/nope",
        },
    )

    with pytest.raises(ApiError) as caught:
        client.get("/clusters/nope")

    error = caught.value
    assert str(error) == (
        f"GET {API}/clusters/nope failed with HTTP 404 Not Found: "
        "Not Found - Cluster 'nope' was not found."
    )
    assert error.to_result() == {
        "status_code": 404,
        "url": API + "/clusters/nope",
        "method": "GET",
        "error": {"title": "Not Found", "detail": "Cluster 'nope' was not found."},
        "retries": 0,
    }


def test_validation_errors_listed(api, client):
    api.post(
        API + "/restorePoints/restore",
        status=400,
        json={
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {"targetVmName": ["The field is required."], "": ["Body is invalid."]},
        },
    )

    with pytest.raises(ApiError) as caught:
        client.post("/restorePoints/restore", body={"restorePointId": "x"})

    message = str(caught.value)
    assert "One or more validation errors occurred" in message
    assert "targetVmName: The field is required." in message
    assert "Body is invalid." in message
    assert caught.value.to_result()["error"]["errors"]["targetVmName"] == ["The field is required."]


def test_html_error_page_hint(api, client):
    api.get(
        API + "/clusters",
        status=502,
        content_type="text/html",
        body=(
            "<html><head><title>502 Bad Gateway</title></head>"
            "<body><h1>Bad Gateway</h1></body></html>"
        ),
    )
    client.retry_policy.max_retries = 0

    with pytest.raises(ApiError) as caught:
        client.get("/clusters")

    message = str(caught.value)
    assert "response body: 502 Bad Gateway Bad Gateway" in message
    assert "not to a proxy or login page" in message
    assert "<html>" not in message


def test_html_success_page_is_format_error(api, client):
    api.get(API + "/clusters", status=200, content_type="text/html", body="<html>Login</html>")

    with pytest.raises(ResponseFormatError) as caught:
        client.get("/clusters")

    message = str(caught.value)
    assert message.startswith(f"GET {API}/clusters returned HTTP 200 OK: response body: Login.")
    assert "The response is not JSON" in message
    assert "failed with" not in message
    assert caught.value.status == 200


def test_server_error_hint(api, client):
    api.get(API + "/jobs", status=500, json={"title": "Internal Server Error", "status": 500})

    with pytest.raises(ApiError) as caught:
        client.get("/jobs")

    assert "The appliance failed while handling the request" in str(caught.value)


def test_field_error_repeating_detail_left_out(api, client):
    api.post(
        API + "/restorePoints/diskRestore",
        status=400,
        json={
            "title": "Bad Request",
            "detail": "index must be 0 or greater (got -1).",
            "errors": {
                "diskSettings[0].index": ["index must be 0 or greater (got -1)."],
                "reason": ["too long"],
            },
        },
    )

    with pytest.raises(ApiError) as caught:
        client.post("/restorePoints/diskRestore", body={})

    message = str(caught.value)
    assert message.count("(got -1)") == 1
    assert "reason: too long" in message


def test_empty_success_body_is_none(api, client):
    api.post(API + "/jobs/j1/stop", status=204)
    api.post(API + "/jobs/j1/enable", status=200, body="")

    assert client.post("/jobs/j1/stop") is None
    assert client.post("/jobs/j1/enable") is None


def test_any_2xx_accepted(api, client):
    api.post(API + "/clusters/c1/vms/refreshAsync", status=202, json={"sessionId": "s1"})
    api.post(API + "/restorePoints/restore", status=201, json={"sessionId": "s2"})

    assert client.post("/clusters/c1/vms/refreshAsync") == {"sessionId": "s1"}
    assert client.post("/restorePoints/restore", body={}) == {"sessionId": "s2"}


def test_forbidden_hint(api, client):
    api.get(API + "/jobs", status=403, json={"title": "Forbidden", "status": 403})

    with pytest.raises(ApiError) as caught:
        client.get("/jobs")

    assert "lacks the permission" in str(caught.value)


def test_long_body_excerpt_truncated(api, client):
    api.get(API + "/jobs", status=500, body="x" * 5000, content_type="text/plain")

    with pytest.raises(ApiError) as caught:
        client.get("/jobs")

    assert len(caught.value.body_excerpt) == 203
    assert caught.value.body_excerpt.endswith("...")


def test_messages_and_logs_hold_no_secrets(api, make_client, tokens, log_lines):
    api.post(TOKEN_URL, json=tokens.body())
    api.get(API + "/clusters", status=401, json={"title": "Unauthorized"})
    api.post(TOKEN_URL, status=401, json={"title": "Unauthorized"})
    client = make_client()

    with pytest.raises(ApiError) as caught:
        client.get("/clusters")

    texts = [str(caught.value), repr(caught.value.to_result()), *log_lines]
    for text in texts:
        assert PASSWORD not in text
        assert "access-token-1" not in text
        assert "refresh-token-1" not in text
    assert len(log_lines) >= 3
