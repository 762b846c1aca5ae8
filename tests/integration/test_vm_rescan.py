"""vm_rescan against the emulator: appeared and disappeared VMs, waits, failures."""

from __future__ import annotations

from conftest import api_requests, module_task

REFRESH_PATH = r"/api/v7/clusters/[^/]+/vms/refreshAsync"


def vm_rescan(params: dict, **task_options) -> dict:
    return module_task("rescan", "vm_rescan", params, register="rescan", **task_options)


def first_cluster(direct_api) -> dict:
    return sorted(direct_api.get("/clusters"), key=lambda c: c["name"])[0]


def test_reports_appeared_and_disappeared(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    removed_vm = direct_api.get_all(f"/clusters/{cluster['id']}/vms")[0]
    added = emulator.control.add_nutanix_vm(cluster["id"], name="new-from-nutanix")
    emulator.control.remove_nutanix_vm(cluster["id"], removed_vm["id"])
    emulator.control.clear_requests()

    run = run_playbook([vm_rescan(dict(connection, clusters=[cluster["name"]]))])

    assert run.returncode == 0, run.stdout
    result = run.result("rescan")
    assert result["changed"] is True
    assert result["appeared"] == [
        {
            "id": added["id"],
            "name": "new-from-nutanix",
            "cluster_id": cluster["id"],
            "cluster_name": cluster["name"],
        }
    ]
    assert [vm["id"] for vm in result["disappeared"]] == [removed_vm["id"]]
    assert len(result["session_ids"]) == 1
    assert result["sessions"][0]["state"] == "Finished"
    assert result["sessions"][0]["result"] in ("Success", "Warning")
    entry = result["clusters"][0]
    assert entry["vm_count_after"] == entry["vm_count_before"]
    assert len(api_requests(emulator, "POST", REFRESH_PATH)) == 1


def test_second_run_reports_no_change(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    emulator.control.add_nutanix_vm(cluster["id"], name="only-once")
    task = vm_rescan(dict(connection, clusters=[cluster["id"]]))

    first = run_playbook([task])
    second = run_playbook([task])

    assert first.result("rescan")["changed"] is True
    assert second.returncode == 0, second.stdout
    assert second.result("rescan")["changed"] is False
    assert second.result("rescan")["appeared"] == []
    assert second.result("rescan")["disappeared"] == []


def test_all_clusters_by_default(run_playbook, connection, direct_api, emulator):
    clusters = direct_api.get("/clusters")
    emulator.control.clear_requests()

    run = run_playbook([vm_rescan(connection)])

    assert run.returncode == 0, run.stdout
    posted = sorted(entry["path"] for entry in api_requests(emulator, "POST", REFRESH_PATH))
    assert posted == sorted(f"/api/v7/clusters/{c['id']}/vms/refreshAsync" for c in clusters)
    assert len(run.result("rescan")["session_ids"]) == len(clusters)
    assert run.result("rescan")["changed"] is False


def test_check_mode_sends_no_post(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    emulator.control.add_nutanix_vm(cluster["id"], name="not-yet")
    emulator.control.clear_requests()

    run = run_playbook([vm_rescan(dict(connection, clusters=[cluster["name"]]))], check=True)

    assert run.returncode == 0, run.stdout
    result = run.result("rescan")
    assert result["changed"] is True
    assert result["session_ids"] == []
    assert api_requests(emulator, "POST", r"/api/v7/.*") == []
    vms = direct_api.get_all(f"/clusters/{cluster['id']}/vms")
    assert "not-yet" not in [vm["name"] for vm in vms]


def test_no_wait_returns_session_ids(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    emulator.control.clear_requests()

    run = run_playbook([vm_rescan(dict(connection, clusters=[cluster["name"]], wait=False))])

    assert run.returncode == 0, run.stdout
    result = run.result("rescan")
    assert result["changed"] is True
    assert len(result["session_ids"]) == 1
    assert "sessions" not in result
    assert api_requests(emulator, "GET", r"/api/v7/sessions/.*") == []
    assert direct_api.get(f"/sessions/{result['session_ids'][0]}")["id"] == result["session_ids"][0]


def test_wait_timeout_fails_with_session_ids(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    emulator.control.set_config(sessionDuration=60)

    run = run_playbook(
        [
            vm_rescan(
                dict(connection, clusters=[cluster["name"]], wait_timeout=3), ignore_errors=True
            )
        ]
    )

    result = run.result("rescan")
    assert run.status("rescan") == "failed"
    assert result.get("changed") is not True
    assert result["msg"].startswith(
        f"Timed out after 3 s waiting for the VM rescan of {cluster['name']}: session "
    )
    assert "has not finished" in result["msg"]
    assert len(result["session_ids"]) == 1
    session = result["sessions"][0]
    assert session["id"] == result["session_ids"][0]
    assert session["state"] in ("Starting", "Running")
    assert session["id"] in result["msg"]


def test_session_error_fails_with_events(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    probe = run_playbook([vm_rescan(dict(connection, clusters=[cluster["name"]], wait=False))])
    session_type = direct_api.get(f"/sessions/{probe.result('rescan')['session_ids'][0]}")[
        "sessionType"
    ]
    emulator.control.set_config(
        sessionOutcomes={session_type: {"result": "Error", "message": "Prism is unreachable"}}
    )

    run = run_playbook(
        [vm_rescan(dict(connection, clusters=[cluster["name"]]), ignore_errors=True)]
    )

    result = run.result("rescan")
    assert run.status("rescan") == "failed"
    assert f"The rescan of cluster '{cluster['name']}' ended with" in result["msg"]
    assert "result Error" in result["msg"]
    assert "Prism is unreachable" in result["msg"]
    assert result["sessions"][0]["errors"]


def test_unknown_cluster_fails_before_any_post(run_playbook, connection, emulator):
    run = run_playbook([vm_rescan(dict(connection, clusters=["NOPE"]), ignore_errors=True)])

    assert run.result("rescan")["msg"].startswith("Cluster 'NOPE' was not found by name or id.")
    assert api_requests(emulator, "POST", REFRESH_PATH) == []


def test_busy_get_retried_post_not(run_playbook, connection, direct_api, emulator):
    cluster = first_cluster(direct_api)
    emulator.control.add_fault(
        method="GET", path=r"/api/v7/clusters/[^/]+/vms", status=429, retryAfter=1, count=2
    )
    emulator.control.add_fault(method="POST", path=REFRESH_PATH, status=503, count=1)
    emulator.control.clear_requests()

    run = run_playbook(
        [vm_rescan(dict(connection, clusters=[cluster["name"]]), ignore_errors=True)]
    )

    result = run.result("rescan")
    assert run.status("rescan") == "failed"
    assert "HTTP 503" in result["msg"]
    assert len(api_requests(emulator, "POST", REFRESH_PATH)) == 1
    statuses = [e["status"] for e in api_requests(emulator, "GET", r"/api/v7/clusters/[^/]+/vms")]
    assert statuses == [429, 429, 200]
