"""Fault rules: statuses, bodies, delays, dropped connections, token expiry, skip and count."""

import time

import pytest
import requests
from emu_helpers import assert_problem

from vbahv_emulator.testing import EmulatorError


def test_status_with_retry_after(api, control):
    rule = control.add_fault(path="^/api/v7/jobs$", status=503, retryAfter=7)
    assert isinstance(rule["id"], int)
    response = api.get("/jobs")
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "7"
    assert str(rule["id"]) in body["detail"]
    assert api.get("/jobs").status_code == 200


@pytest.mark.parametrize(
    ("kind", "content_type", "marker"),
    [("html", "text/html", "<html>"), ("text", "text/plain", "502 Bad Gateway")],
)
def test_non_json_bodies(api, control, kind, content_type, marker):
    control.add_fault(path="/clusters", status=502, body=kind)
    response = api.get("/clusters")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith(content_type)
    assert marker in response.text


def test_empty_body(api, control):
    control.add_fault(path="/clusters", status=500, body="empty")
    response = api.get("/clusters")
    assert response.status_code == 500
    assert response.content == b""


def test_delay_then_normal_handling(api, control):
    control.add_fault(path="/backupServer$", delay=0.6)
    started = time.monotonic()
    response = api.get("/backupServer")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.6
    started = time.monotonic()
    api.get("/backupServer")
    assert time.monotonic() - started < 0.5


def test_delay_then_status(api, control):
    control.add_fault(path="/backupServer$", delay=0.3, status=504)
    started = time.monotonic()
    response = api.get("/backupServer")
    assert response.status_code == 504
    assert time.monotonic() - started >= 0.3


def test_client_timeout_on_long_delay(api, control):
    control.add_fault(path="/backupServer$", delay=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get("/backupServer", timeout=0.4)


def test_dropped_connection(api, control):
    rule = control.add_fault(method="GET", path="/sessions", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/sessions")
    entries = control.requests(path="/sessions")
    assert entries[-1]["status"] is None
    assert entries[-1]["faultId"] == rule["id"]
    assert api.get("/sessions").status_code == 200
    assert control.counters()["byStatus"]["dropped"] == 1


def test_expire_token_fault(api, control):
    control.add_fault(path="/clusters$", expireToken=True)
    response = api.get("/clusters")
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    # The token stays expired; a refresh gets the client going again.
    assert api.get("/jobs").status_code == 401
    form = {"grantType": "RefreshToken", "refreshToken": api.refresh_token}
    refreshed = api.http.post(api.url("/api/oauth2/token"), data=form, verify=api.verify).json()
    assert api.get("/clusters", token=refreshed["accessToken"]).status_code == 200


def test_skip_and_count(api, control):
    control.add_fault(path="/jobs$", status=500, skip=2, count=2)
    statuses = [api.get("/jobs").status_code for _request in range(5)]
    assert statuses == [200, 200, 500, 500, 200]
    listed = control.faults()[0]
    assert listed["remaining"] == 0
    assert listed["hits"] == 2


def test_count_minus_one_is_always(api, control):
    control.add_fault(path="/jobs$", status=429, count=-1, retryAfter=1)
    assert [api.get("/jobs").status_code for _request in range(4)] == [429] * 4
    assert control.faults()[0]["remaining"] == -1
    control.clear_faults()
    assert control.faults() == []
    assert api.get("/jobs").status_code == 200


def test_method_filter(api, control):
    control.add_fault(method="POST", path="/backupServer/rescanBackups", status=500)
    assert api.get("/backupServer").status_code == 200
    assert api.post("/backupServer/rescanBackups").status_code == 500


def test_fault_on_token_endpoint(anon, emulator, control):
    control.add_fault(path="^/api/oauth2/token$", status=503)
    form = {"grantType": "Password", "userName": emulator.username, "password": emulator.password}
    assert anon.post("/api/oauth2/token", data=form).status_code == 503
    assert anon.post("/api/oauth2/token", data=form).status_code == 200


def test_faults_skip_control_api(control):
    control.add_fault(path=".*", status=500, count=-1)
    assert control.config()["maxPageSize"] == 500
    assert control.counters()["total"] == 0


def test_first_matching_rule_wins(api, control):
    first = control.add_fault(path="/jobs", status=500)
    control.add_fault(path="/jobs", status=503)
    assert api.get("/jobs").status_code == 500
    assert api.get("/jobs").status_code == 503
    assert api.get("/jobs").status_code == 200
    assert control.requests(path="/jobs$")[0]["faultId"] == first["id"]


@pytest.mark.parametrize(
    "rule",
    [
        {"path": "/jobs"},
        {"path": "(", "status": 500},
        {"path": "/jobs", "status": 500, "drop": True},
        {"path": "/jobs", "status": 99},
        {"path": "/jobs", "status": 500, "body": "xml"},
        {"status": 500},
        {"path": "/jobs", "status": 500, "colour": "red"},
    ],
)
def test_invalid_rules_rejected(control, rule):
    with pytest.raises(EmulatorError, match="400"):
        control.add_fault(**rule)
