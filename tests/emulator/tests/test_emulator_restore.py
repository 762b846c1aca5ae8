"""VM and disk restores: validation, session outcome and the effect on both VM views."""

import pytest
from emu_helpers import assert_problem

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def start_restore(api, body, status=200):
    return api.ok("POST", "/restorePoints/restore", status=status, json=body)


def latest_backup(api, vm):
    return api.points(vm["id"], "Backup")[0]


def test_restore_to_new_name_creates_vm(api, control):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    point = latest_backup(api, vm)
    before = api.ok("GET", "/virtualMachines")["totalCount"]
    task = start_restore(
        api,
        {
            "restorePointId": point["id"],
            "restoreToOriginal": False,
            "targetVmName": "app-db-01-restored",
            "reason": "Restore test",
            "powerOnVmAfterRestore": False,
        },
    )

    session = api.wait_session(task["sessionId"])
    assert session["sessionType"] == "RestoreVm"
    assert session["result"] == "Success"
    assert session["context"]["reason"] == "Restore test"
    assert session["context"]["objectId"] == vm["id"]
    assert session["context"]["objectName"] == "app-db-01"
    summary = next(s for s in api.get_all("/sessions") if s["id"] == task["sessionId"])
    assert summary["reason"] == "Restore test"

    restored = api.vm("PROD-AHV-01", "app-db-01-restored")
    assert restored["id"] != vm["id"]
    assert restored["clusterId"] == vm["clusterId"]
    assert [d["size"] for d in restored["disks"]] == [d["size"] for d in vm["disks"]]
    assert {d["id"] for d in restored["disks"]}.isdisjoint(d["id"] for d in vm["disks"])
    assert [n["macAddress"] for n in restored["networkAdapters"]] == [
        n["macAddress"] for n in vm["networkAdapters"]
    ]
    assert api.ok("GET", "/virtualMachines")["totalCount"] == before + 1
    nutanix = control.state()["clusters"][0]["nutanixVms"]
    assert restored["id"] in {v["id"] for v in nutanix}


def test_restore_to_other_cluster_remaps(api):
    vm = api.vm("PROD-AHV-01", "app-web-01")
    point = latest_backup(api, vm)
    dr = api.cluster("DR-AHV-01")
    isolated = api.network(dr["id"], "Isolated-Restore")
    container = api.container(dr["id"], "dr-capacity")
    first_mac = vm["networkAdapters"][0]["macAddress"]
    body = {
        "restorePointId": point["id"],
        "targetVmName": "app-web-01-dr",
        "targetVmClusterId": dr["id"],
        "storageContainerId": container["id"],
        "networkAdapters": [
            {
                "macAddress": first_mac,
                "value": {"networkId": isolated["id"], "ipAddresses": ["172.18.10.5"]},
            }
        ],
    }
    api.wait_session(start_restore(api, body)["sessionId"])
    restored = api.vm("DR-AHV-01", "app-web-01-dr")
    assert restored["clusterId"] == dr["id"]
    assert restored["clusterName"] == "DR-AHV-01"
    assert {d["storageContainerId"] for d in restored["disks"]} == {container["id"]}
    first, second = restored["networkAdapters"]
    assert first["networkId"] == isolated["id"]
    assert first["networkName"] == "Isolated-Restore"
    assert first["ipAddresses"] == ["172.18.10.5"]
    # The unmapped DMZ adapter has no network of that name on DR-AHV-01, so it is disconnected.
    assert second["networkId"] is None


def test_restore_adds_nic_for_empty_mac(api):
    vm = api.vm("PROD-AHV-01", "dc-01")
    point = latest_backup(api, vm)
    network = api.network(vm["clusterId"], "Isolated-Restore")
    body = {
        "restorePointId": point["id"],
        "targetVmName": "dc-01-lab",
        "networkAdapters": [{"macAddress": "", "value": {"networkId": network["id"]}}],
    }
    api.wait_session(start_restore(api, body)["sessionId"])
    restored = api.vm("PROD-AHV-01", "dc-01-lab")
    assert len(restored["networkAdapters"]) == len(vm["networkAdapters"]) + 1
    assert restored["networkAdapters"][-1]["networkName"] == "Isolated-Restore"


def test_restore_to_original_resets_disks(api):
    target = api.vm("PROD-AHV-01", "app-db-01")
    donor = api.vm("PROD-AHV-01", "dc-01")
    donor_point = latest_backup(api, donor)
    disk_body = {
        "sourceVmId": donor["id"],
        "targetVmId": target["id"],
        "restorePointId": donor_point["id"],
        "diskSettings": [{"diskId": donor["disks"][0]["id"], "busType": "Scsi", "index": 5}],
    }
    task = api.ok("POST", "/restorePoints/diskRestore", json=disk_body)
    assert api.wait_session(task["sessionId"])["result"] == "Success"
    changed = api.vm("PROD-AHV-01", "app-db-01")
    assert len(changed["disks"]) == 4

    point = latest_backup(api, target)
    task = start_restore(api, {"restorePointId": point["id"], "restoreToOriginal": True})
    assert api.wait_session(task["sessionId"])["result"] == "Success"
    restored = api.vm("PROD-AHV-01", "app-db-01")
    assert restored["id"] == target["id"]
    assert restored["disks"] == target["disks"]
    names = [vm["name"] for vm in api.get_all("/virtualMachines")]
    assert names.count("app-db-01") == 1


def test_restore_to_original_recreates_deleted_vm(api, control):
    vm = api.vm("PROD-AHV-02", "crm-app-01")
    point = latest_backup(api, vm)
    control.remove_nutanix_vm(vm["clusterId"], vm["id"])
    rescan = api.ok("POST", f"/clusters/{vm['clusterId']}/vms/refreshAsync", status=202)
    api.wait_session(rescan["sessionId"])
    assert api.get(f"/clusters/{vm['clusterId']}/vms/{vm['id']}").status_code == 404
    task = start_restore(api, {"restorePointId": point["id"], "restoreToOriginal": True})
    api.wait_session(task["sessionId"])
    again = api.ok("GET", f"/clusters/{vm['clusterId']}/vms/{vm['id']}")
    assert again["name"] == "crm-app-01"
    nutanix_ids = {v["id"] for c in control.state()["clusters"] for v in c["nutanixVms"]}
    assert vm["id"] in nutanix_ids


def test_corrupted_backup_restore_fails(api):
    vm = api.vm("PROD-AHV-01", "legacy-erp")
    point = latest_backup(api, vm)
    detail = api.ok("GET", f"/restorePoints/backups/{point['id']}")
    assert detail["isCorrupted"] is True
    before = api.ok("GET", "/virtualMachines")["totalCount"]
    task = start_restore(api, {"restorePointId": point["id"], "targetVmName": "legacy-erp-copy"})
    session = api.wait_session(task["sessionId"])
    assert session["state"] == "Finished"
    assert session["result"] == "Error"
    errors = [e for e in session["progressState"]["events"] if e["severity"] == "Error"]
    assert errors
    assert "corrupted" in errors[0]["message"]
    assert api.ok("GET", "/virtualMachines")["totalCount"] == before


def test_older_backup_of_corrupted_vm_restores(api):
    vm = api.vm("PROD-AHV-01", "legacy-erp")
    older = api.points(vm["id"], "Backup")[1]
    task = start_restore(api, {"restorePointId": older["id"], "targetVmName": "legacy-erp-copy"})
    assert api.wait_session(task["sessionId"])["result"] == "Success"


def test_pd_snapshot_restore_needs_source_vm(api):
    point = next(p for p in api.get_all("/restorePoints") if p["type"] == "PdSnapshot")
    detail = api.ok("GET", f"/restorePoints/protectionDomainSnapshots/{point['id']}")
    body = {"restorePointId": point["id"], "targetVmName": "sql-copy"}
    problem = assert_problem(api.post("/restorePoints/restore", json=body), 400)
    assert "sourceVmId" in problem["errors"]
    outsider = api.vm("PROD-AHV-01", "dc-01")
    problem = assert_problem(
        api.post("/restorePoints/restore", json=body | {"sourceVmId": outsider["id"]}), 400
    )
    assert "sourceVmId" in problem["errors"]
    task = start_restore(api, body | {"sourceVmId": detail["vmIds"][1]})
    session = api.wait_session(task["sessionId"])
    assert session["context"]["objectId"] == detail["vmIds"][1]
    assert api.vm("PROD-AHV-01", "sql-copy")["guestOsVersion"].startswith("Windows")


def test_user_snapshot_restore(api):
    vm = api.vm("DR-AHV-01", "dr-app-db-01")
    point = api.points(vm["id"], "UserSnapshot")[0]
    task = start_restore(
        api, {"restorePointId": point["id"], "sourceVmId": vm["id"], "targetVmName": "drill"}
    )
    assert api.wait_session(task["sessionId"])["result"] == "Success"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"restoreToOriginal": True, "targetVmName": "x"}, "targetVmName"),
        ({"restoreToOriginal": True, "targetVmClusterId": "x"}, "targetVmClusterId"),
        ({"restoreToOriginal": False}, "targetVmName"),
        ({}, "targetVmName"),
        ({"targetVmName": "   "}, "targetVmName"),
        ({"targetVmName": "x", "sourceVmId": "not-the-vm"}, "sourceVmId"),
        ({"targetVmName": "x", "storageContainerId": "elsewhere"}, "storageContainerId"),
        (
            {
                "targetVmName": "x",
                "networkAdapters": [{"macAddress": "00:11:22:33:44:55", "value": {}}],
            },
            "networkAdapters[0].macAddress",
        ),
        (
            {"targetVmName": "x", "networkAdapters": [{"value": {"networkId": "not-a-network"}}]},
            "networkAdapters[0].value.networkId",
        ),
    ],
)
def test_restore_rule_violations_are_400(api, change, field):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    point = latest_backup(api, vm)
    body = {"restorePointId": point["id"], **change}
    problem = assert_problem(api.post("/restorePoints/restore", json=body), 400)
    assert field in problem["errors"], problem["errors"]


def test_restore_container_of_other_cluster_is_400(api):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    point = latest_backup(api, vm)
    dr = api.cluster("DR-AHV-01")
    prod_container = api.container(vm["clusterId"], "default-container")
    body = {
        "restorePointId": point["id"],
        "targetVmName": "x",
        "targetVmClusterId": dr["id"],
        "storageContainerId": prod_container["id"],
    }
    assert_problem(api.post("/restorePoints/restore", json=body), 400)


def test_restore_network_of_other_cluster_is_400(api):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    point = latest_backup(api, vm)
    dr = api.cluster("DR-AHV-01")
    dr_network = api.network(dr["id"], "VM-Network")
    mac = vm["networkAdapters"][0]["macAddress"]
    body = {
        "restorePointId": point["id"],
        "targetVmName": "x",
        "networkAdapters": [{"macAddress": mac, "value": {"networkId": dr_network["id"]}}],
    }
    assert_problem(api.post("/restorePoints/restore", json=body), 400)


def test_restore_unknown_point_and_cluster_are_404(api):
    body = {"restorePointId": UNKNOWN, "targetVmName": "x"}
    assert_problem(api.post("/restorePoints/restore", json=body), 404)
    point = latest_backup(api, api.vm("PROD-AHV-01", "app-db-01"))
    body = {"restorePointId": point["id"], "targetVmName": "x", "targetVmClusterId": UNKNOWN}
    assert_problem(api.post("/restorePoints/restore", json=body), 404)


def test_volume_group_snapshot_restore_is_400(api):
    point = next(p for p in api.get_all("/restorePoints") if p["type"] == "VolumeGroupSnapshot")
    body = {"restorePointId": point["id"], "targetVmName": "x"}
    problem = assert_problem(api.post("/restorePoints/restore", json=body), 400)
    assert "restorePointId" in problem["errors"]


def test_stopped_restore_creates_nothing(api, control):
    control.set_config(sessionDurations={"RestoreVm": 3})
    point = latest_backup(api, api.vm("PROD-AHV-01", "app-db-01"))
    before = api.ok("GET", "/virtualMachines")["totalCount"]
    task = start_restore(api, {"restorePointId": point["id"], "targetVmName": "never"})
    assert api.post(f"/sessions/{task['sessionId']}/stop").status_code == 204
    cancelling = api.ok("GET", f"/sessions/{task['sessionId']}")
    assert cancelling["state"] == "Cancelling"
    session = api.wait_session(task["sessionId"])
    assert session["state"] == "Cancelled"
    assert session["result"] == "Error"
    assert api.ok("GET", "/virtualMachines")["totalCount"] == before


def test_configured_error_outcome_creates_nothing(api, control):
    control.set_config(
        sessionOutcomes={"RestoreVm": {"result": "Error", "message": "Datastore full"}}
    )
    point = latest_backup(api, api.vm("PROD-AHV-01", "app-db-01"))
    task = start_restore(api, {"restorePointId": point["id"], "targetVmName": "never"})
    session = api.wait_session(task["sessionId"])
    assert session["result"] == "Error"
    assert "Datastore full" in [e["message"] for e in session["progressState"]["events"]]
    assert not [vm for vm in api.get_all("/virtualMachines") if vm["name"] == "never"]


def test_configured_warning_outcome_still_restores(api, control):
    control.set_config(
        sessionOutcomes={"RestoreVm": {"result": "Warning", "message": "Guest tools missing"}}
    )
    point = latest_backup(api, api.vm("PROD-AHV-01", "app-db-01"))
    task = start_restore(api, {"restorePointId": point["id"], "targetVmName": "with-warning"})
    session = api.wait_session(task["sessionId"])
    assert session["result"] == "Warning"
    warnings = [
        e["message"] for e in session["progressState"]["events"] if e["severity"] == "Warning"
    ]
    assert "Guest tools missing" in warnings
    assert api.vm("PROD-AHV-01", "with-warning")


# --- Disk restore -----------------------------------------------------------------------------


def test_disk_restore_replaces_disk(api):
    vm = api.vm("PROD-AHV-01", "app-db-02")
    point = latest_backup(api, vm)
    disks = api.ok("GET", f"/restorePoints/{point['id']}/disks")
    gold = api.container(vm["clusterId"], "default-container")
    body = {
        "sourceVmId": vm["id"],
        "targetVmId": vm["id"],
        "restorePointId": point["id"],
        "diskSettings": [
            {
                "diskId": disks[1]["id"],
                "busType": "Scsi",
                "index": 1,
                "storageContainerId": gold["id"],
            }
        ],
        "reason": "Disk test",
    }
    response = api.post("/restorePoints/diskRestore", json=body)
    assert response.status_code == 200
    session = api.wait_session(response.json()["sessionId"])
    assert session["sessionType"] == "RestoreVmDisks"
    assert session["context"]["reason"] == "Disk test"
    after = api.vm("PROD-AHV-01", "app-db-02")
    assert len(after["disks"]) == 2
    replaced = next(d for d in after["disks"] if d["index"] == 1)
    assert replaced["id"] != disks[1]["id"]
    assert replaced["storageContainerId"] == gold["id"]
    assert replaced["size"] == disks[1]["size"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"diskSettings": [{"diskId": "not-a-disk", "busType": "Scsi", "index": 0}]},
            "diskSettings[0].diskId",
        ),
        ({"sourceVmId": UNKNOWN}, "sourceVmId"),
        (
            {
                "diskSettings": [
                    {"diskId": "{disk}", "busType": "Scsi", "index": 0, "storageContainerId": "x"}
                ]
            },
            "diskSettings[0].storageContainerId",
        ),
        (
            {
                "diskSettings": [
                    {"diskId": "{disk}", "busType": "Scsi", "index": 0},
                    {"diskId": "{disk}", "busType": "Scsi", "index": 0},
                ]
            },
            "diskSettings[1].index",
        ),
    ],
)
def test_disk_restore_rule_violations_are_400(api, change, field):
    vm = api.vm("PROD-AHV-01", "app-db-02")
    point = latest_backup(api, vm)
    body = {
        "sourceVmId": vm["id"],
        "targetVmId": vm["id"],
        "restorePointId": point["id"],
        "diskSettings": [{"diskId": vm["disks"][0]["id"], "busType": "Scsi", "index": 0}],
        **change,
    }
    for item in body["diskSettings"]:
        item["diskId"] = item["diskId"].replace("{disk}", vm["disks"][0]["id"])
    problem = assert_problem(api.post("/restorePoints/diskRestore", json=body), 400)
    assert field in problem["errors"], problem["errors"]


def test_disk_restore_unknown_target_is_404(api):
    vm = api.vm("PROD-AHV-01", "app-db-02")
    point = latest_backup(api, vm)
    body = {
        "sourceVmId": vm["id"],
        "targetVmId": UNKNOWN,
        "restorePointId": point["id"],
        "diskSettings": [{"diskId": vm["disks"][0]["id"], "busType": "Scsi", "index": 0}],
    }
    assert_problem(api.post("/restorePoints/diskRestore", json=body), 404)


def test_delete_restore_point(api):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    points = api.points(vm["id"])
    response = api.delete(
        f"/restorePoints/{points[0]['id']}/delete", params={"deleteFromServer": "true"}
    )
    assert response.status_code == 204
    assert api.get(f"/restorePoints/{points[0]['id']}").status_code == 404
    assert len(api.points(vm["id"])) == len(points) - 1
    assert api.delete(f"/restorePoints/{points[0]['id']}/delete").status_code == 404
