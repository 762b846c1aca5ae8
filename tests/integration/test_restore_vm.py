"""vm_restore against the emulator: targets, idempotence, check and diff modes, session outcomes."""

from __future__ import annotations

import re

from conftest import api_requests, module_task

RESTORE_PATH = r"/api/v7/restorePoints/restore"
POLL = 0.2


def vm_restore(params: dict, **task_options) -> dict:
    return module_task("restore", "vm_restore", dict(params, poll_interval=POLL), **task_options)


def cluster_named(direct_api, name: str) -> dict:
    return next(c for c in direct_api.get("/clusters") if c["name"] == name)


def vm_named(direct_api, cluster: dict, name: str) -> dict:
    vms = direct_api.get_all(f"/clusters/{cluster['id']}/vms")
    matches = [vm for vm in vms if vm["name"] == name]
    assert len(matches) == 1, f"{len(matches)} VMs named {name} on {cluster['name']}"
    return matches[0]


def vms_named(direct_api, cluster: dict, name: str) -> list:
    return [vm for vm in direct_api.get_all(f"/clusters/{cluster['id']}/vms") if vm["name"] == name]


def named(items: list, name: str) -> dict:
    return next(item for item in items if item["name"] == name)


def latest_point(direct_api, vm_id: str, types=None) -> dict:
    points = direct_api.get_all("/restorePoints", vmId=vm_id)
    points = [p for p in points if types is None or p["type"] in types]
    return max(points, key=lambda p: p["creationTimeUtc"])


def posts(emulator) -> list:
    return api_requests(emulator, "POST", RESTORE_PATH)


def new_copy(connection, **changes) -> dict:
    params = dict(
        connection,
        vm_name="app-db-01",
        target_name="app-db-01-restored",
        target_cluster="DR-AHV-01",
        storage_container="dr-capacity",
        network_mapping=[{"source_network": "VM-Network", "target_network": "Isolated-Restore"}],
        power_on=True,
        reason="Quarterly restore test",
    )
    params.update(changes)
    return params


# --- Restores that succeed -----------------------------------------------------------------------


def test_restore_to_new_name(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    dr = cluster_named(direct_api, "DR-AHV-01")
    source = vm_named(direct_api, prod, "app-db-01")
    point = latest_point(direct_api, source["id"])
    nic = direct_api.get(f"/restorePoints/{point['id']}/networkAdapters")[0]
    isolated = named(direct_api.get(f"/clusters/{dr['id']}/networks"), "Isolated-Restore")
    container = named(direct_api.get_all(f"/clusters/{dr['id']}/storageContainers"), "dr-capacity")
    emulator.control.clear_requests()

    run = run_playbook([vm_restore(new_copy(connection))])

    assert run.returncode == 0, run.stdout
    result = run.result("restore")
    assert result["changed"] is True
    assert result["attached"] is False
    assert result["match"] is None
    assert re.fullmatch(r"[0-9a-f]{12}", result["fingerprint"])
    assert result["request"] == {
        "restorePointId": point["id"],
        "sourceVmId": source["id"],
        "restoreToOriginal": False,
        "targetVmName": "app-db-01-restored",
        "targetVmClusterId": dr["id"],
        "storageContainerId": container["id"],
        "networkAdapters": [
            {
                "macAddress": nic["macAddress"],
                "value": {"networkId": isolated["id"], "networkName": "Isolated-Restore"},
            }
        ],
        "powerOnVmAfterRestore": True,
        "disconnectNetworksAfterRestore": False,
        "reason": f"Quarterly restore test [ansible:{result['fingerprint']}]",
    }
    sent = posts(emulator)
    assert len(sent) == 1
    assert sent[0]["body"] == result["request"]
    assert result["session"]["state"] == "Finished"
    assert result["session"]["result"] == "Success"
    assert result["session_id"] == result["session"]["id"]
    assert result["target"] == {
        "name": "app-db-01-restored",
        "cluster_id": dr["id"],
        "cluster_name": "DR-AHV-01",
        "restore_to_original": False,
    }
    restored = vm_named(direct_api, dr, "app-db-01-restored")
    data_disks = [d for d in restored["disks"] if not d["isCdrom"] and not d["isVolumeGroup"]]
    assert {d["storageContainerName"] for d in data_disks} == {"dr-capacity"}
    assert [n["networkName"] for n in restored["networkAdapters"]] == ["Isolated-Restore"]


def test_second_run_does_not_restore_again(run_playbook, connection, direct_api, emulator):
    task = vm_restore(new_copy(connection))

    first = run_playbook([task])
    second = run_playbook([task])

    assert first.result("restore")["changed"] is True
    assert second.returncode == 0, second.stdout
    result = second.result("restore")
    assert result["changed"] is False
    assert result["match"] == "finished_session"
    assert result["session_id"] == first.result("restore")["session_id"]
    assert result["fingerprint"] == first.result("restore")["fingerprint"]
    assert len(posts(emulator)) == 1
    dr = cluster_named(direct_api, "DR-AHV-01")
    assert len(vms_named(direct_api, dr, "app-db-01-restored")) == 1


def test_restore_to_original(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    source = vm_named(direct_api, prod, "app-web-01")
    point = latest_point(direct_api, source["id"])
    task = vm_restore(
        dict(connection, vm_name="app-web-01", restore_to_original=True, reason="Roll back")
    )

    first = run_playbook([task])
    second = run_playbook([task])

    assert first.returncode == 0, first.stdout
    result = first.result("restore")
    assert result["changed"] is True
    assert result["request"] == {
        "restorePointId": point["id"],
        "sourceVmId": source["id"],
        "restoreToOriginal": True,
        "powerOnVmAfterRestore": False,
        "disconnectNetworksAfterRestore": False,
        "reason": f"Roll back [ansible:{result['fingerprint']}]",
    }
    assert result["target"]["cluster_id"] == prod["id"]
    assert result["target"]["name"] == "app-web-01"
    assert result["session"]["result"] == "Success"
    assert second.result("restore")["changed"] is False
    assert second.result("restore")["match"] == "finished_session"
    assert len(posts(emulator)) == 1
    assert len(vms_named(direct_api, prod, "app-web-01")) == 1


def test_running_restore_is_attached(run_playbook, connection, emulator):
    emulator.control.set_config(sessionDuration=6)
    started = run_playbook([vm_restore(new_copy(connection, wait=False))])
    session_id = started.result("restore")["session_id"]

    attached = run_playbook([vm_restore(new_copy(connection))])

    assert started.result("restore")["changed"] is True
    assert attached.returncode == 0, attached.stdout
    result = attached.result("restore")
    assert result["changed"] is True
    assert result["attached"] is True
    assert result["match"] == "running_session"
    assert result["session_id"] == session_id
    assert result["session"]["state"] == "Finished"
    assert result["session"]["result"] == "Success"
    assert len(posts(emulator)) == 1


def test_existing_target_vm_is_ok(run_playbook, connection, emulator):
    run = run_playbook([vm_restore(new_copy(connection, target_name="dr-web-01"))])

    assert run.returncode == 0, run.stdout
    result = run.result("restore")
    assert result["changed"] is False
    assert result["match"] == "target_vm"
    assert "session_id" not in result
    assert posts(emulator) == []


def test_force_restores_again(run_playbook, connection, emulator):
    task = vm_restore(new_copy(connection, target_name="dr-web-01", force=True))

    run = run_playbook([task])

    assert run.returncode == 0, run.stdout
    assert run.result("restore")["changed"] is True
    assert run.result("restore")["match"] is None
    assert len(posts(emulator)) == 1


def test_deleted_vm_is_restored(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    source = vm_named(direct_api, prod, "ops-jumpbox")
    emulator.control.remove_nutanix_vm(prod["id"], source["id"])
    rescan = module_task("rescan", "vm_rescan", dict(connection, clusters=["PROD-AHV-01"]))

    run = run_playbook(
        [
            rescan,
            vm_restore(
                dict(connection, vm_name="ops-jumpbox", cluster="PROD-AHV-01", target_name="ops-2")
            ),
        ]
    )

    assert run.returncode == 0, run.stdout
    assert run.result("rescan")["disappeared"][0]["id"] == source["id"]
    result = run.result("restore")
    assert result["source_vm"]["id"] == source["id"]
    assert result["source_vm"]["in_inventory"] is False
    assert result["source_vm"]["protected"] is True
    assert result["changed"] is True
    assert vm_named(direct_api, prod, "ops-2")["clusterId"] == prod["id"]


def test_selectors_choose_point(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    source = vm_named(direct_api, prod, "app-db-01")
    snapshot = latest_point(direct_api, source["id"], types=["UserSnapshot"])
    points = direct_api.get_all("/restorePoints", vmId=source["id"])
    before = sorted(p["creationTimeUtc"] for p in points if p["type"] == "Backup")[1]
    older = max(
        (p for p in points if p["type"] == "Backup" and p["creationTimeUtc"] < before),
        key=lambda p: p["creationTimeUtc"],
    )

    run = run_playbook(
        [
            module_task(
                "by type",
                "vm_restore",
                dict(connection, vm_name="app-db-01", types=["UserSnapshot"], target_name="a"),
            ),
            module_task(
                "by date",
                "vm_restore",
                dict(
                    connection,
                    vm_name="app-db-01",
                    types=["Backup"],
                    before=before,
                    target_name="b",
                ),
            ),
        ],
        check=True,
    )

    assert run.returncode == 0, run.stdout
    assert run.result("by type")["request"]["restorePointId"] == snapshot["id"]
    assert run.result("by type")["restore_point"]["snapshotName"] == "before-upgrade-2026-10"
    assert run.result("by date")["request"]["restorePointId"] == older["id"]


def test_restore_by_point_id(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    source = vm_named(direct_api, prod, "dc-01")
    point = latest_point(direct_api, source["id"])

    run = run_playbook(
        [vm_restore(dict(connection, restore_point_id=point["id"], target_name="dc-01-copy"))]
    )

    assert run.returncode == 0, run.stdout
    result = run.result("restore")
    assert result["source_vm"]["name"] == "dc-01"
    assert result["request"]["sourceVmId"] == source["id"]
    assert result["request"]["targetVmClusterId"] == prod["id"]
    assert result["target"]["cluster_name"] == "PROD-AHV-01"
    assert vm_named(direct_api, prod, "dc-01-copy")["guestOsVersion"] == source["guestOsVersion"]


# --- Check and diff modes -------------------------------------------------------------------------


def test_check_mode_sends_no_post(run_playbook, connection, direct_api, emulator):
    emulator.control.clear_requests()

    run = run_playbook([vm_restore(new_copy(connection))], check=True)

    assert run.returncode == 0, run.stdout
    result = run.result("restore")
    assert result["changed"] is True
    assert result["request"]["targetVmName"] == "app-db-01-restored"
    assert result["request"]["targetVmClusterId"] == cluster_named(direct_api, "DR-AHV-01")["id"]
    assert result["request"]["storageContainerId"]
    assert result["request"]["networkAdapters"][0]["value"]["networkName"] == "Isolated-Restore"
    assert "session_id" not in result
    assert api_requests(emulator, "POST", r"/api/v7/(?!.*oauth).*") == []
    assert vms_named(direct_api, cluster_named(direct_api, "DR-AHV-01"), "app-db-01-restored") == []


def test_check_mode_request_is_what_runs(run_playbook, connection, emulator):
    checked = run_playbook([vm_restore(new_copy(connection))], check=True)

    real = run_playbook([vm_restore(new_copy(connection))])

    assert real.returncode == 0, real.stdout
    assert posts(emulator)[0]["body"] == checked.result("restore")["request"]


def test_diff_shows_absent_and_planned_vm(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    source = vm_named(direct_api, prod, "app-db-01")
    point = latest_point(direct_api, source["id"])
    point_nics = direct_api.get(f"/restorePoints/{point['id']}/networkAdapters")

    run = run_playbook([vm_restore(new_copy(connection))], check=True, diff=True)

    assert run.returncode == 0, run.stdout
    diff = run.result("restore")["diff"]
    assert diff["before"] == {"state": "absent"}
    after = diff["after"]
    assert after["state"] == "present"
    assert after["name"] == "app-db-01-restored"
    assert after["cluster"] == "DR-AHV-01"
    assert len(after["disks"]) == len(source["disks"])
    assert {d["storage_container"] for d in after["disks"] if not d["is_cdrom"]} == {"dr-capacity"}
    assert after["network_adapters"] == [
        {"mac_address": nic["macAddress"], "network": "Isolated-Restore"} for nic in point_nics
    ]
    assert "--- before" in run.stdout
    assert "app-db-01-restored" in run.stdout


def test_diff_of_restore_to_original(run_playbook, connection, direct_api, emulator):
    run = run_playbook(
        [vm_restore(dict(connection, vm_name="app-web-01", restore_to_original=True))],
        check=True,
        diff=True,
    )

    assert run.returncode == 0, run.stdout
    diff = run.result("restore")["diff"]
    assert diff["before"]["state"] == "present"
    assert diff["before"]["name"] == "app-web-01"
    assert diff["after"]["name"] == "app-web-01"
    assert diff["after"]["cluster"] == "PROD-AHV-01"
    assert [nic["network"] for nic in diff["after"]["network_adapters"]] == [
        "VM-Network",
        "DMZ-VLAN30",
    ]


# --- Session outcomes ---------------------------------------------------------------------------


def test_wait_timeout_fails_with_session_id(run_playbook, connection, emulator):
    emulator.control.set_config(sessionDuration=60)

    run = run_playbook([vm_restore(new_copy(connection, wait_timeout=2), ignore_errors=True)])

    assert run.status("restore") == "failed"
    result = run.result("restore")
    assert result.get("changed") is not True
    assert result["msg"].startswith("Timed out after 2 s waiting for the restore of VM app-db-01")
    session_id = result["session_id"]
    assert re.search(rf"session {session_id} \((Starting|Running), \d+%\)", result["msg"])
    assert result["session"]["id"] == session_id
    assert len(posts(emulator)) == 1


def test_error_session_fails_with_events(run_playbook, connection, emulator):
    emulator.control.set_config(
        sessionOutcomes={"RestoreVm": {"result": "Error", "message": "Storage container is full"}}
    )

    run = run_playbook([vm_restore(new_copy(connection), ignore_errors=True)])

    assert run.status("restore") == "failed"
    result = run.result("restore")
    assert result["msg"].startswith("The restore of VM app-db-01 from restore point ")
    assert "ended with state Finished and result Error: Storage container is full" in result["msg"]
    assert result["session"]["errors"][0] == "Storage container is full"
    assert result["session_id"] == result["session"]["id"]


def test_failed_restore_is_retried(run_playbook, connection, emulator):
    emulator.control.set_config(sessionOutcomes={"RestoreVm": {"result": "Error"}})
    failed = run_playbook([vm_restore(new_copy(connection), ignore_errors=True)])
    emulator.control.set_config(sessionOutcomes={"RestoreVm": None})

    retried = run_playbook([vm_restore(new_copy(connection))])

    assert failed.status("restore") == "failed"
    assert retried.returncode == 0, retried.stdout
    assert retried.result("restore")["changed"] is True
    assert retried.result("restore")["match"] is None
    assert len(posts(emulator)) == 2


def test_corrupted_backup_fails_with_events(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    source = vm_named(direct_api, prod, "legacy-erp")
    point = latest_point(direct_api, source["id"])
    assert direct_api.get(f"/restorePoints/backups/{point['id']}")["isCorrupted"] is True

    run = run_playbook(
        [vm_restore(dict(connection, vm_name="legacy-erp", target_name="erp"), ignore_errors=True)]
    )

    assert run.status("restore") == "failed"
    result = run.result("restore")
    assert f"Restore point {point['id']} of legacy-erp is corrupted" in result["msg"]
    assert result["session"]["result"] == "Error"
    assert any("is marked as corrupted" in warning for warning in result.get("warnings", []))


def test_warning_session_succeeds_with_warnings(run_playbook, connection, emulator):
    emulator.control.set_config(
        sessionOutcomes={
            "RestoreVm": {"result": "Warning", "message": "The NIC could not be connected"}
        }
    )

    run = run_playbook([vm_restore(new_copy(connection))])

    assert run.returncode == 0, run.stdout
    result = run.result("restore")
    assert result["changed"] is True
    assert result["session"]["result"] == "Warning"
    assert "The NIC could not be connected" in result["session"]["warnings"]
    assert any("The NIC could not be connected" in warning for warning in result["warnings"])
    assert "[WARNING]" in run.stdout + run.stderr


# --- Clear failures -----------------------------------------------------------------------------


def failure(run_playbook, params: dict) -> dict:
    run = run_playbook([vm_restore(params, ignore_errors=True)])
    assert run.status("restore") == "failed"
    return run.result("restore")


def test_unknown_vm(run_playbook, connection, emulator):
    result = failure(run_playbook, dict(connection, vm_name="no-such-vm", target_name="x"))

    assert result["msg"].startswith("VM 'no-such-vm' was not found: it is neither a protected VM")
    assert "PROD-AHV-01" in result["msg"]
    assert posts(emulator) == []


def test_duplicate_vm_name(run_playbook, connection, direct_api, emulator):
    prod = cluster_named(direct_api, "PROD-AHV-01")
    twins = vms_named(direct_api, prod, "web-frontend")

    result = failure(run_playbook, dict(connection, vm_name="web-frontend", target_name="x"))

    assert result["msg"].startswith("2 VMs are named 'web-frontend': ")
    for twin in twins:
        assert f"id {twin['id']}, cluster PROD-AHV-01" in result["msg"]
    assert "Set vm_id" in result["msg"]


def test_duplicate_name_resolved_by_cluster(run_playbook, connection, direct_api, emulator):
    prod2 = cluster_named(direct_api, "PROD-AHV-02")
    source = vm_named(direct_api, prod2, "ops-jumpbox")

    run = run_playbook(
        [
            vm_restore(
                dict(connection, vm_name="ops-jumpbox", cluster="PROD-AHV-02", target_name="o")
            )
        ],
        check=True,
    )

    assert run.returncode == 0, run.stdout
    assert run.result("restore")["request"]["sourceVmId"] == source["id"]


def test_unknown_restore_point(run_playbook, connection, emulator):
    result = failure(
        run_playbook,
        dict(connection, restore_point_id="00000000-0000-4000-8000-000000000000", target_name="x"),
    )

    assert result["msg"].startswith(
        "Restore point '00000000-0000-4000-8000-000000000000' was not found."
    )
    assert "restore_point_info" in result["msg"]


def test_no_point_matches_selectors(run_playbook, connection, emulator):
    result = failure(
        run_playbook,
        dict(connection, vm_name="app-db-01", before="2020-01-01T00:00:00Z", target_name="x"),
    )

    assert "restore point(s) but none created before 2020-01-01T00:00:00Z" in result["msg"]


def test_unknown_network_name(run_playbook, connection, emulator):
    mapping = [{"source_network": "VM-Network", "target_network": "Prod-LAN"}]

    result = failure(run_playbook, new_copy(connection, network_mapping=mapping))

    assert result["msg"].startswith(
        "Network 'Prod-LAN' was not found by name or id on cluster DR-AHV-01"
    )
    assert "VM-Network (" in result["msg"]
    assert "Isolated-Restore (" in result["msg"]
    assert posts(emulator) == []


def test_unknown_source_network(run_playbook, connection, emulator):
    mapping = [{"source_network": "DMZ-VLAN30", "target_network": "VM-Network"}]

    result = failure(run_playbook, new_copy(connection, network_mapping=mapping))

    assert "source_network 'DMZ-VLAN30' matches no network adapter" in result["msg"]
    assert " on VM-Network" in result["msg"]


def test_unknown_storage_container(run_playbook, connection, emulator):
    result = failure(run_playbook, new_copy(connection, storage_container="gold-ssd"))

    assert result["msg"].startswith(
        "Storage container 'gold-ssd' was not found by name or id on cluster DR-AHV-01"
    )
    assert "dr-capacity (" in result["msg"]


def test_unknown_target_cluster(run_playbook, connection, emulator):
    result = failure(run_playbook, new_copy(connection, target_cluster="DR-AHV-09"))

    assert result["msg"].startswith("Cluster 'DR-AHV-09' was not found")
    assert "DR-AHV-01 (" in result["msg"]


def test_original_with_target_options_fails(run_playbook, connection, emulator):
    result = failure(run_playbook, new_copy(connection, restore_to_original=True))

    assert result["msg"].startswith(
        "target_name, target_cluster, storage_container, network_mapping cannot be combined "
        "with restore_to_original=true"
    )
