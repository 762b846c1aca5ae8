"""session_info against the emulator: one session followed until it ends, and filtered lists."""

from __future__ import annotations

from conftest import module_task


def session_info(params: dict, name: str = "info", **task_options) -> dict:
    return module_task(name, "session_info", params, **task_options)


def start_restore(connection: dict, target_name: str = "session-info-copy") -> dict:
    return module_task(
        "start",
        "vm_restore",
        dict(connection, vm_name="app-web-01", target_name=target_name, wait=False),
        register="started",
    )


def test_follows_restore_until_finished(run_playbook, connection, emulator):
    emulator.control.set_config(sessionDuration=3)

    run = run_playbook(
        [
            start_restore(connection),
            session_info(dict(connection, id="{{ started.session_id }}"), "first look"),
            session_info(
                dict(connection, id="{{ started.session_id }}"),
                "until finished",
                register="followed",
                until="followed.finished",
                retries=30,
                delay=1,
            ),
        ]
    )

    assert run.returncode == 0, run.stdout
    session_id = run.result("start")["session_id"]
    first = run.result("first look")
    assert first["changed"] is False
    assert first["finished"] is False
    assert first["session"]["id"] == session_id
    assert first["session"]["state"] in ("Starting", "Running")
    assert first["session"]["result"] == "None"
    assert first["session"]["finish_time"] is None
    final = run.result("until finished")
    assert final["finished"] is True
    session = final["session"]
    assert session["finished"] is True
    assert session["state"] == "Finished"
    assert session["result"] == "Success"
    assert session["progress_percent"] == 100
    assert session["type"] == "RestoreVm"
    assert session["object_name"] == "app-web-01"
    assert session["reason"].startswith("[ansible:")
    assert session["events"][0]["severity"] == "Information"
    assert session["events"][-1]["message"] == "Session finished successfully."
    assert session["errors"] == []


def test_failed_session_lists_errors(run_playbook, connection, emulator):
    emulator.control.set_config(
        sessionDuration=0.5,
        sessionOutcomes={"RestoreVm": {"result": "Error", "message": "Target cluster is full"}},
    )

    run = run_playbook(
        [
            start_restore(connection),
            session_info(
                dict(connection, id="{{ started.session_id }}"),
                register="followed",
                until="followed.finished",
                retries=20,
                delay=1,
            ),
        ]
    )

    assert run.returncode == 0, run.stdout
    session = run.result("info")["session"]
    assert session["result"] == "Error"
    assert "Target cluster is full" in session["errors"]
    error_events = [event for event in session["events"] if event["severity"] == "Error"]
    assert error_events[0]["message"] == "Target cluster is full"


def test_list_matches_api(run_playbook, connection, direct_api):
    truth = [s for s in direct_api.get_all("/sessions") if s["sessionType"] == "RestoreVm"]
    truth.sort(key=lambda s: s["startTimeUtc"], reverse=True)

    run = run_playbook([session_info(dict(connection, types=["RestoreVm"]))], check=True)

    assert run.returncode == 0, run.stdout
    listed = run.result("info")["sessions"]
    assert [s["id"] for s in listed] == [s["id"] for s in truth]
    assert len(listed) == 2
    assert listed[0]["type"] == "RestoreVm"
    assert listed[0]["finished"] is True
    assert listed[0]["reason"] == truth[0]["reason"]


def test_list_filters_and_limit(run_playbook, connection, direct_api):
    everything = sorted(
        direct_api.get_all("/sessions"), key=lambda s: s["startTimeUtc"], reverse=True
    )
    jobs = [s for s in everything if s["sessionType"] in ("BackupVmJob", "SnapshotVmJob")]
    # Two jobs of the dataset started at the same time, so ties are compared as sets.
    since = jobs[2]["startTimeUtc"]

    run = run_playbook(
        [
            session_info(dict(connection, max_results=3), "newest"),
            session_info(
                dict(connection, types=["BackupVmJob", "SnapshotVmJob"], states=["Finished"]),
                "jobs",
            ),
            session_info(
                dict(connection, types=["BackupVmJob", "SnapshotVmJob"], since=since), "since"
            ),
            session_info(dict(connection, states=["Running"]), "running"),
        ]
    )

    assert run.returncode == 0, run.stdout
    newest = run.result("newest")["sessions"]
    assert [s["start_time"] for s in newest] == [s["startTimeUtc"] for s in everything[:3]]
    listed_jobs = run.result("jobs")["sessions"]
    assert [s["start_time"] for s in listed_jobs] == [s["startTimeUtc"] for s in jobs]
    assert sorted(s["id"] for s in listed_jobs) == sorted(s["id"] for s in jobs)
    recent = [s for s in jobs if s["startTimeUtc"] >= since]
    listed_recent = run.result("since")["sessions"]
    assert sorted(s["id"] for s in listed_recent) == sorted(s["id"] for s in recent)
    assert len(recent) >= 3
    assert run.result("running")["sessions"] == []


def test_unknown_session_fails(run_playbook, connection):
    missing = "00000000-0000-4000-8000-000000000000"

    run = run_playbook([session_info(dict(connection, id=missing), ignore_errors=True)])

    assert run.status("info") == "failed"
    assert run.result("info")["msg"].startswith(f"Session '{missing}' was not found.")
