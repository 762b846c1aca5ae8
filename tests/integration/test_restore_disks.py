"""disk_restore against the emulator: restores to the same and another VM, repeat runs, failures."""

from __future__ import annotations

from conftest import api_requests, module_task

DISK_RESTORE_PATH = r"/api/v7/restorePoints/diskRestore"
POLL = 0.2


def disk_restore(params: dict, **task_options) -> dict:
    return module_task("disks", "disk_restore", dict(params, poll_interval=POLL), **task_options)


def cluster_named(direct_api, name: str) -> dict:
    return next(c for c in direct_api.get("/clusters") if c["name"] == name)


def vm_named(direct_api, cluster_name: str, name: str) -> dict:
    cluster = cluster_named(direct_api, cluster_name)
    matches = [v for v in direct_api.get_all(f"/clusters/{cluster['id']}/vms") if v["name"] == name]
    assert len(matches) == 1, f"{len(matches)} VMs named {name} on {cluster_name}"
    return matches[0]


def latest_point(direct_api, vm_id: str, point_type: str = "Backup") -> dict:
    points = [
        p for p in direct_api.get_all("/restorePoints", vmId=vm_id) if p["type"] == point_type
    ]
    return max(points, key=lambda p: p["creationTimeUtc"])


def disk_at(vm: dict, bus_type: str, index: int) -> dict:
    return next(d for d in vm["disks"] if (d["busType"], d["index"]) == (bus_type, index))


def posts(emulator) -> list:
    return api_requests(emulator, "POST", DISK_RESTORE_PATH)


def same_vm(connection, **changes) -> dict:
    params = dict(
        connection,
        vm_name="app-db-01",
        types=["Backup"],
        disks=[{"disk": "scsi.1"}],
        reason="Restore the data volume",
    )
    params.update(changes)
    return params


def test_restore_disk_to_same_vm(run_playbook, connection, direct_api, emulator):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    point = latest_point(direct_api, vm["id"])
    point_disk = next(
        d
        for d in direct_api.get(f"/restorePoints/{point['id']}/disks")
        if d["diskLabel"] == "scsi.1"
    )
    before = disk_at(vm, "Scsi", 1)
    emulator.control.clear_requests()

    run = run_playbook([disk_restore(same_vm(connection))])

    assert run.returncode == 0, run.stdout
    result = run.result("disks")
    assert result["changed"] is True
    assert result["request"] == {
        "sourceVmId": vm["id"],
        "targetVmId": vm["id"],
        "restorePointId": point["id"],
        "diskSettings": [{"diskId": point_disk["id"], "busType": "Scsi", "index": 1}],
        "powerOnVmAfterRestore": False,
        "reason": f"Restore the data volume [ansible:{result['fingerprint']}]",
    }
    assert [entry["body"] for entry in posts(emulator)] == [result["request"]]
    assert result["target_vm"]["id"] == vm["id"]
    assert result["session"]["result"] == "Success"
    after = disk_at(vm_named(direct_api, "PROD-AHV-01", "app-db-01"), "Scsi", 1)
    assert after["id"] != before["id"]
    assert after["size"] == point_disk["size"]


def test_second_run_is_ok(run_playbook, connection, emulator):
    task = disk_restore(same_vm(connection))

    run = run_playbook([task, dict(task, name="again")])

    assert run.returncode == 0, run.stdout
    again = run.result("again")
    assert again["changed"] is False
    assert again["match"] == "finished_session"
    assert again["session_id"] == run.result("disks")["session_id"]
    assert len(posts(emulator)) == 1


def test_restore_disk_to_other_vm(run_playbook, connection, direct_api, emulator):
    params = dict(
        connection,
        vm_name="file-srv-01",
        target_vm="ops-jumpbox",
        target_cluster="PROD-AHV-01",
        disks=[{"disk": "sata.0", "bus_type": "Scsi", "index": 5, "storage_container": "gold-ssd"}],
    )

    run = run_playbook([disk_restore(params)])

    assert run.returncode == 0, run.stdout
    target = vm_named(direct_api, "PROD-AHV-01", "ops-jumpbox")
    assert run.result("disks")["request"]["targetVmId"] == target["id"]
    restored = disk_at(target, "Scsi", 5)
    assert restored["storageContainerName"] == "gold-ssd"
    assert restored["size"] == 1024 * 1024**3


def test_check_mode_and_diff(run_playbook, connection, direct_api, emulator):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    emulator.control.clear_requests()

    run = run_playbook(
        [disk_restore(same_vm(connection, disks=[{"disk": "scsi.1", "index": 9}]))],
        check=True,
        diff=True,
    )

    assert run.returncode == 0, run.stdout
    result = run.result("disks")
    assert result["changed"] is True
    assert result["request"]["diskSettings"][0]["index"] == 9
    assert "session_id" not in result
    assert posts(emulator) == []
    before_slots = [(d["bus_type"], d["index"]) for d in result["diff"]["before"]["disks"]]
    after_slots = [(d["bus_type"], d["index"]) for d in result["diff"]["after"]["disks"]]
    assert ("Scsi", 9) not in before_slots
    assert ("Scsi", 9) in after_slots
    assert len(after_slots) == len(vm["disks"]) + 1


def test_unknown_disk_lists_disks(run_playbook, connection, emulator):
    run = run_playbook(
        [disk_restore(same_vm(connection, disks=[{"disk": "scsi.7"}]), ignore_errors=True)]
    )

    assert run.status("disks") == "failed"
    message = run.result("disks")["msg"]
    assert message.startswith("disks[0].disk 'scsi.7' is neither the id nor the label of a disk")
    assert "scsi.0 (" in message
    assert "scsi.2 (" in message
    assert posts(emulator) == []


def test_cdrom_is_rejected(run_playbook, connection, emulator):
    params = dict(connection, vm_name="dc-01", disks=[{"disk": "ide.0"}])

    run = run_playbook([disk_restore(params, ignore_errors=True)])

    assert run.status("disks") == "failed"
    assert "is a CD-ROM, which cannot be restored" in run.result("disks")["msg"]


def test_unknown_target_vm(run_playbook, connection, emulator):
    run = run_playbook(
        [disk_restore(same_vm(connection, target_vm="no-such-vm"), ignore_errors=True)]
    )

    assert run.status("disks") == "failed"
    assert run.result("disks")["msg"].startswith(
        "Target VM 'no-such-vm' was not found by id or name in the plug-in's inventory"
    )


def test_error_session_fails(run_playbook, connection, emulator):
    emulator.control.set_config(
        sessionOutcomes={"RestoreVmDisks": {"result": "Error", "message": "Disk is locked"}}
    )

    run = run_playbook([disk_restore(same_vm(connection), ignore_errors=True)])

    assert run.status("disks") == "failed"
    result = run.result("disks")
    assert "ended with state Finished and result Error: Disk is locked" in result["msg"]
    assert result["msg"].startswith("The restore of 1 disk(s) of VM app-db-01 to VM app-db-01")
    assert result["session_id"]
