"""SessionWaiter polling, backoff and timeout; session summaries."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.sessions import (
    SessionTimeout,
    SessionWaiter,
    describe_session,
    session_events,
    summarize_session,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    TOKEN_URL,
)


def session(state, result="None", percent=None, events=None, session_id="s1"):
    body = {"id": session_id, "state": state, "result": result, "sessionType": "RestoreVm"}
    progress = {}
    if percent is not None:
        progress["progressPercents"] = percent
    if events is not None:
        progress["events"] = events
    if progress:
        body["progressState"] = progress
    return body


@pytest.fixture
def client(api, tokens, make_client):
    api.post(TOKEN_URL, json=tokens.body())
    return make_client()


def test_waits_until_finished_with_backoff(api, client, clock):
    for state, percent in (("Starting", 0), ("Running", 30), ("Running", 80)):
        api.get(API + "/sessions/s1", json=session(state, percent=percent))
    api.get(API + "/sessions/s1", json=session("Finished", "Success", 100))
    waiter = SessionWaiter(client, poll_interval=2, clock=clock.time, sleep=clock.sleep)

    final = waiter.wait(["s1"], timeout=600, activity="the restore")

    assert final["s1"]["result"] == "Success"
    assert clock.sleeps == [2, 3, 4.5]


def test_poll_interval_capped(api, client, clock):
    for _poll in range(12):
        api.get(API + "/sessions/s1", json=session("Running"))
    api.get(API + "/sessions/s1", json=session("Finished", "Success"))
    waiter = SessionWaiter(client, poll_interval=10, clock=clock.time, sleep=clock.sleep)

    waiter.wait(["s1"], timeout=3600, activity="the restore")

    assert max(clock.sleeps) == 30
    assert clock.sleeps[:3] == [10, 15, 22.5]


def test_timeout_raises_with_state(api, client, clock):
    api.get(API + "/sessions/s1", json=session("Running", percent=40))
    waiter = SessionWaiter(client, poll_interval=2, clock=clock.time, sleep=clock.sleep)

    with pytest.raises(SessionTimeout) as caught:
        waiter.wait(["s1"], timeout=10, activity="the restore of VM app-db-01")

    error = caught.value
    assert str(error).startswith(
        "Timed out after 10 s waiting for the restore of VM app-db-01: "
        "session s1 (Running, 40%) has not finished."
    )
    assert error.to_result()["session_ids"] == ["s1"]
    assert error.to_result()["sessions"][0]["progress_percent"] == 40
    assert sum(clock.sleeps) == pytest.approx(10)


def test_never_sleeps_past_deadline(api, client, clock):
    api.get(API + "/sessions/s1", json=session("Running"))
    waiter = SessionWaiter(client, poll_interval=8, clock=clock.time, sleep=clock.sleep)

    with pytest.raises(SessionTimeout):
        waiter.wait(["s1"], timeout=9, activity="x")

    assert clock.sleeps == [8, 1]


def test_several_sessions_polled_until_all_final(api, client, clock):
    api.get(API + "/sessions/a", json=session("Finished", "Success", session_id="a"))
    api.get(API + "/sessions/b", json=session("Running", session_id="b"))
    api.get(API + "/sessions/b", json=session("Cancelled", "None", session_id="b"))
    waiter = SessionWaiter(client, poll_interval=1, clock=clock.time, sleep=clock.sleep)

    final = waiter.wait(["a", "b"], timeout=60, activity="x")

    assert final["b"]["state"] == "Cancelled"
    polled = [call.request.url for call in api.calls if "/sessions/" in call.request.url]
    assert polled == [API + "/sessions/a", API + "/sessions/b", API + "/sessions/b"]


def test_summary_and_events():
    events = [
        {"severity": "Information", "message": "Started"},
        {"severity": "Warning", "message": "NIC left disconnected"},
        {"severity": "Error", "message": "Disk 2 failed"},
    ]
    body = session("Finished", "Error", 100, events)

    summary = summarize_session(body)

    assert summary["warnings"] == ["NIC left disconnected"]
    assert summary["errors"] == ["Disk 2 failed"]
    assert summary["state"] == "Finished"
    assert summary["type"] == "RestoreVm"
    assert session_events(body, ("Information",)) == ["Started"]
    assert describe_session(body) == "s1 (Finished, 100%)"


def test_describe_session_without_progress():
    assert describe_session(session("Starting")) == "s1 (Starting)"
