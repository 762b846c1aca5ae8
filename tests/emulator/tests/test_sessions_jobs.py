"""The session state machine, job actions and effects that apply exactly once."""

import time

from emu_helpers import assert_problem


def job_named(api, name):
    return next(j for j in api.get_all("/jobs") if j["name"] == name)


def poll_states(api, session_id, timeout=10.0):
    """Poll a session as fast as possible and return every observed snapshot until it ends."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session = api.ok("GET", f"/sessions/{session_id}")
        seen.append(session)
        if session["state"] in ("Finished", "Cancelled"):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"session {session_id} did not end within {timeout} s")


def test_state_machine_progresses_in_order(api, control):
    control.set_config(sessionDuration=2.0)
    task = api.ok("POST", "/backupServer/rescanBackups", status=202)
    seen = poll_states(api, task["sessionId"])
    states = [s["state"] for s in seen]
    distinct = [state for i, state in enumerate(states) if i == 0 or states[i - 1] != state]
    assert distinct == ["Starting", "Running", "Finished"]
    percents = [s["progressState"]["progressPercents"] for s in seen]
    assert percents == sorted(percents)
    assert percents[0] == 0
    assert percents[-1] == 100
    assert any(0 < p < 100 for p in percents)
    for snapshot in seen[:-1]:
        assert snapshot["result"] == "None"
        assert snapshot["finishTimeUtc"] is None
    final = seen[-1]
    assert final["result"] == "Success"
    assert final["finishTimeUtc"] is not None
    assert final["sessionType"] == "RescanBackups"
    events = final["progressState"]["events"]
    assert [e["severity"] for e in events] == ["Information"] * len(events)
    assert len(events) >= 3
    assert all(e["endTimeUtc"] is not None for e in events)
    event_counts = [len(s["progressState"]["events"]) for s in seen]
    assert event_counts == sorted(event_counts)


def test_session_duration_per_type(api, control):
    control.set_config(sessionDuration=30, sessionDurations={"RescanSnapshots": 0})
    cluster = api.cluster("PROD-AHV-01")
    quick = api.ok("POST", f"/clusters/{cluster['id']}/rescanSnapshots", status=202)
    assert api.ok("GET", f"/sessions/{quick['sessionId']}")["state"] == "Finished"
    slow = api.ok("POST", "/backupServer/rescanBackups", status=202)
    assert api.ok("GET", f"/sessions/{slow['sessionId']}")["state"] in ("Starting", "Running")


def test_new_session_listed_first(api):
    task = api.ok("POST", "/backupServer/rescanBackups", status=202)
    newest = api.ok("GET", "/sessions", params={"limit": 1})["results"][0]
    assert newest["id"] == task["sessionId"]
    assert newest["name"] == "Rescan backups"


def test_job_start_creates_points_once(api, control):
    job = job_named(api, "Daily Backup - PROD-AHV-01")
    app_db = api.vm("PROD-AHV-01", "app-db-01")
    before = len(api.points(app_db["id"], "Backup"))
    total_before = api.ok("GET", "/restorePoints")["totalCount"]
    response = api.post(f"/jobs/{job['id']}/start")
    assert response.status_code == 200
    session_id = response.json()["sessionId"]
    running = api.ok("GET", f"/jobs/{job['id']}")
    assert running["status"] == "Running"
    assert running["lastSessionId"] == session_id
    again = api.post(f"/jobs/{job['id']}/start")
    assert_problem(again, 400)
    session = api.wait_session(session_id)
    assert session["sessionType"] == "BackupVmJob"
    assert session["context"]["jobId"] == job["id"]
    assert session["context"]["jobName"] == job["name"]
    assert session["progressState"]["objectsCount"] == 10
    for _attempt in range(3):
        api.ok("GET", f"/sessions/{session_id}")
    control.state()
    points = api.points(app_db["id"], "Backup")
    assert len(points) == before + 1
    assert api.ok("GET", "/restorePoints")["totalCount"] == total_before + 10
    newest = api.ok("GET", f"/restorePoints/backups/{points[0]['id']}")
    assert newest["jobId"] == job["id"]
    assert newest["backupType"] == "Incremental"
    assert newest["creationTimeUtc"] == session["finishTimeUtc"]
    assert api.ok("GET", f"/jobs/{job['id']}")["status"] == "Success"


def test_effect_applies_without_polling_the_session(api, control):
    control.set_config(sessionDuration=0.3)
    job = job_named(api, "Hourly Snapshots - PROD-AHV-01")
    file_srv = api.vm("PROD-AHV-01", "file-srv-01")
    before = len(api.points(file_srv["id"], "BackupSnapshot"))
    api.ok("POST", f"/jobs/{job['id']}/start")
    time.sleep(0.5)
    state = control.state()
    started = next(s for s in state["sessions"] if s["context"]["jobId"] == job["id"])
    assert started["effectPending"] is False
    assert len(api.points(file_srv["id"], "BackupSnapshot")) == before + 1


def test_active_full_backup_mode(api):
    job = job_named(api, "Daily Backup - PROD-AHV-01")
    task = api.ok("POST", f"/jobs/{job['id']}/start", params={"backupMode": "ActiveFullBackup"})
    session = api.wait_session(task["sessionId"])
    assert session["context"]["backupMode"] == "ActiveFullBackup"
    app_db = api.vm("PROD-AHV-01", "app-db-01")
    newest = api.points(app_db["id"], "Backup")[0]
    assert api.ok("GET", f"/restorePoints/backups/{newest['id']}")["backupType"] == "Full"


def test_pd_snapshot_job_creates_pd_point(api):
    job = job_named(api, "SQL PD Snapshots")
    before = [p for p in api.get_all("/restorePoints") if p["type"] == "PdSnapshot"]
    task = api.ok("POST", f"/jobs/{job['id']}/start")
    assert api.wait_session(task["sessionId"])["sessionType"] == "SnapshotPdJob"
    after = [p for p in api.get_all("/restorePoints") if p["type"] == "PdSnapshot"]
    assert len(after) == len(before) + 1
    detail = api.ok("GET", f"/restorePoints/protectionDomainSnapshots/{after[0]['id']}")
    assert detail["pdName"] == "pd-sql"
    assert len(detail["vmIds"]) == 3


def test_job_stop_cancels_without_points(api, control):
    control.set_config(sessionDuration=3)
    job = job_named(api, "Daily Backup - PROD-AHV-01")
    total = api.ok("GET", "/restorePoints")["totalCount"]
    task = api.ok("POST", f"/jobs/{job['id']}/start")
    assert api.post(f"/jobs/{job['id']}/stop").status_code == 204
    assert api.ok("GET", f"/jobs/{job['id']}")["status"] == "Stopping"
    session = api.wait_session(task["sessionId"])
    assert session["state"] == "Cancelled"
    messages = [e["message"] for e in session["progressState"]["events"]]
    assert "The session was stopped by user." in messages
    assert api.ok("GET", f"/jobs/{job['id']}")["status"] == "Canceled"
    assert api.ok("GET", "/restorePoints")["totalCount"] == total
    assert_problem(api.post(f"/jobs/{job['id']}/stop"), 400)


def test_session_stop_states(api, control):
    control.set_config(sessionDuration=2)
    task = api.ok("POST", "/backupServer/rescanBackups", status=202)
    time.sleep(0.3)
    assert api.post(f"/sessions/{task['sessionId']}/stop").status_code == 204
    seen = poll_states(api, task["sessionId"])
    states = [s["state"] for s in seen]
    assert states[0] == "Cancelling"
    assert states[-1] == "Cancelled"
    frozen = {s["progressState"]["progressPercents"] for s in seen}
    assert len(frozen) == 1
    assert_problem(api.post(f"/sessions/{task['sessionId']}/stop"), 400)


def test_stopping_finished_session_is_400(api):
    finished = api.ok("GET", "/sessions", params={"limit": 1})["results"][0]
    assert finished["state"] == "Finished"
    assert_problem(api.post(f"/sessions/{finished['id']}/stop"), 400)


def test_enable_disable_job(api):
    job = job_named(api, "Weekly Backup - PROD-AHV-02")
    assert job["enabled"] is False
    assert job["nextRunUtc"] is None
    assert_problem(api.post(f"/jobs/{job['id']}/start"), 400)
    assert api.post(f"/jobs/{job['id']}/enable").status_code == 204
    enabled = api.ok("GET", f"/jobs/{job['id']}")
    assert enabled["enabled"] is True
    assert enabled["nextRunUtc"] is not None
    assert api.post(f"/jobs/{job['id']}/enable").status_code == 204
    assert api.post(f"/jobs/{job['id']}/disable").status_code == 204
    assert api.ok("GET", f"/jobs/{job['id']}")["enabled"] is False


def test_job_outcome_warning_and_error(api, control):
    control.set_config(
        sessionOutcomes={"SnapshotVmJob": {"result": "Warning", "message": "VSS timeout"}}
    )
    job = job_named(api, "Hourly Snapshots - PROD-AHV-01")
    task = api.ok("POST", f"/jobs/{job['id']}/start")
    session = api.wait_session(task["sessionId"])
    assert session["result"] == "Warning"
    assert api.ok("GET", f"/jobs/{job['id']}")["status"] == "Warning"

    control.set_config(
        sessionOutcomes={"SnapshotVmJob": {"result": "Error", "message": "Cluster offline"}}
    )
    total = api.ok("GET", "/restorePoints")["totalCount"]
    task = api.ok("POST", f"/jobs/{job['id']}/start")
    session = api.wait_session(task["sessionId"])
    assert session["result"] == "Error"
    assert session["progressState"]["events"][-1]["severity"] == "Error"
    assert api.ok("GET", f"/jobs/{job['id']}")["status"] == "Failed"
    assert api.ok("GET", "/restorePoints")["totalCount"] == total

    control.set_config(sessionOutcomes={"SnapshotVmJob": None})
    assert "SnapshotVmJob" not in control.config()["sessionOutcomes"]


def test_historic_job_status_from_dataset(api):
    statuses = {job["name"]: job["status"] for job in api.get_all("/jobs")}
    assert statuses == {
        "Daily Backup - PROD-AHV-01": "Success",
        "Hourly Snapshots - PROD-AHV-01": "Warning",
        "SQL PD Snapshots": "Success",
        "Weekly Backup - PROD-AHV-02": "Failed",
    }
