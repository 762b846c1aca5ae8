"""Restore requests: network mapping, request body, fingerprint, session matching and waits."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore import (
    MATCH_FINISHED,
    MATCH_RUNNING,
    adapter_state,
    build_disk_restore_request,
    build_restore_request,
    check_session_outcome,
    disk_state,
    find_session_match,
    list_sessions_since,
    match_named,
    reason_fingerprints,
    reason_with_marker,
    request_fingerprint,
    resolve_disk_settings,
    resolve_network_mapping,
    restore_result,
    vm_state,
    wait_for_session,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    TOKEN_URL,
)

NETWORKS = [
    {"id": "net-vm", "name": "VM-Network"},
    {"id": "net-iso", "name": "Isolated-Restore"},
    {"id": "net-dup-1", "name": "Shared"},
    {"id": "net-dup-2", "name": "Shared"},
]
ADAPTERS = [
    {"macAddress": "50:6B:8D:00:00:01", "networkId": "src-vm", "networkName": "VM-Network"},
    {"macAddress": "50:6b:8d:00:00:02", "networkId": "src-dmz", "networkName": "DMZ-VLAN30"},
    {"macAddress": "50:6b:8d:00:00:03", "networkId": "src-vm", "networkName": "VM-Network"},
]
BACKUP_POINT = {"id": "rp-1", "type": "Backup"}
LOCATION = "cluster DR-AHV-01 (c-dr)"


def remap(mac, network_id, network_name):
    return {"macAddress": mac, "value": {"networkId": network_id, "networkName": network_name}}


# --- Names --------------------------------------------------------------------------------------


def test_match_named_prefers_id():
    items = [{"id": "Shared", "name": "x"}, *NETWORKS]

    assert match_named(items, "Shared", "network", LOCATION)["name"] == "x"


def test_match_named_duplicate_names():
    with pytest.raises(ModuleFailure) as caught:
        match_named(NETWORKS, "Shared", "network", LOCATION)

    message = str(caught.value)
    assert message.startswith("2 networks on cluster DR-AHV-01 (c-dr) are named 'Shared'")
    assert "Shared (net-dup-1), Shared (net-dup-2)" in message
    assert message.endswith("Use the id instead.")


def test_match_named_unknown_lists_available():
    with pytest.raises(ModuleFailure) as caught:
        match_named(NETWORKS, "Prod-Net", "storage container", LOCATION)

    message = str(caught.value)
    assert message.startswith(
        "Storage container 'Prod-Net' was not found by name or id on cluster DR-AHV-01 (c-dr)."
    )
    assert "Available storage containers: VM-Network (net-vm), Isolated-Restore (net-iso)" in (
        message
    )


# --- Network mapping ----------------------------------------------------------------------------


def test_mapping_by_source_network_maps_each_adapter():
    mapping = [{"source_network": "VM-Network", "target_network": "Isolated-Restore"}]

    remaps = resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    assert remaps == [
        remap("50:6B:8D:00:00:01", "net-iso", "Isolated-Restore"),
        remap("50:6b:8d:00:00:03", "net-iso", "Isolated-Restore"),
    ]


def test_mapping_by_source_network_id():
    mapping = [{"source_network": "src-dmz", "target_network": "net-vm"}]

    remaps = resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    assert remaps == [remap("50:6b:8d:00:00:02", "net-vm", "VM-Network")]


def test_mapping_by_mac_ignores_case_and_dashes():
    mapping = [{"source_mac": "50-6b-8d-00-00-01", "target_network": "VM-Network"}]

    remaps = resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    assert remaps == [remap("50:6B:8D:00:00:01", "net-vm", "VM-Network")]


def test_mapping_order_does_not_matter():
    first = [
        {"source_mac": "50:6b:8d:00:00:02", "target_network": "VM-Network"},
        {"source_mac": "50:6b:8d:00:00:01", "target_network": "Isolated-Restore"},
    ]

    forward = resolve_network_mapping(first, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)
    backward = resolve_network_mapping(first[::-1], ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    assert forward == backward


def test_mapping_unknown_target_network_lists_networks():
    mapping = [{"source_network": "VM-Network", "target_network": "Prod-LAN"}]

    with pytest.raises(ModuleFailure) as caught:
        resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    message = str(caught.value)
    assert message.startswith("Network 'Prod-LAN' was not found by name or id on cluster DR-AHV-01")
    assert "VM-Network (net-vm), Isolated-Restore (net-iso)" in message


def test_mapping_unknown_source_network_lists_adapters():
    mapping = [{"source_network": "Backup-VLAN40", "target_network": "VM-Network"}]

    with pytest.raises(ModuleFailure) as caught:
        resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    message = str(caught.value)
    assert message.startswith("network_mapping[0].source_network 'Backup-VLAN40' matches no")
    assert "50:6b:8d:00:00:02 on DMZ-VLAN30" in message


def test_mapping_unknown_source_mac_lists_adapters():
    mapping = [{"source_mac": "00:00:00:00:00:00", "target_network": "VM-Network"}]

    with pytest.raises(ModuleFailure) as caught:
        resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    message = str(caught.value)
    assert "network_mapping[0].source_mac '00:00:00:00:00:00' is not a network adapter" in message
    assert "50:6B:8D:00:00:01 on VM-Network" in message


def test_mapping_same_adapter_twice_fails():
    mapping = [
        {"source_network": "VM-Network", "target_network": "VM-Network"},
        {"source_mac": "50:6b:8d:00:00:03", "target_network": "Isolated-Restore"},
    ]

    with pytest.raises(ModuleFailure) as caught:
        resolve_network_mapping(mapping, ADAPTERS, NETWORKS, LOCATION, BACKUP_POINT)

    assert str(caught.value).startswith(
        "network_mapping[1] maps the adapter 50:6b:8d:00:00:03 again"
    )


def test_mapping_without_adapter_list_needs_mac():
    snapshot = {"id": "rp-7", "type": "UserSnapshot"}
    by_network = [{"source_network": "VM-Network", "target_network": "VM-Network"}]
    by_mac = [{"source_mac": "50:6B:8D:AA:BB:CC", "target_network": "VM-Network"}]

    with pytest.raises(ModuleFailure) as caught:
        resolve_network_mapping(by_network, None, NETWORKS, LOCATION, snapshot)
    remaps = resolve_network_mapping(by_mac, None, NETWORKS, LOCATION, snapshot)

    assert "rp-7 is a UserSnapshot. Use source_mac instead." in str(caught.value)
    assert remaps == [remap("50:6b:8d:aa:bb:cc", "net-vm", "VM-Network")]


# --- Disk selection -----------------------------------------------------------------------------

POINT_DISKS = [
    {"id": "d-s0", "busType": "Scsi", "index": 0, "diskLabel": "scsi.0", "isCdrom": False},
    {"id": "d-s1", "busType": "Scsi", "index": 1, "diskLabel": "scsi.1", "isCdrom": False},
    {"id": "d-cd", "busType": "Ide", "index": 0, "diskLabel": "ide.0", "isCdrom": True},
    {"id": "d-p0", "busType": "Pci", "index": 0, "isCdrom": False},
]
CONTAINERS = [{"id": "sc-gold", "name": "gold-ssd"}, {"id": "sc-dr", "name": "dr-capacity"}]


def disk_entry(disk, bus_type=None, index=None, storage_container=None):
    return {
        "disk": disk,
        "bus_type": bus_type,
        "index": index,
        "storage_container": storage_container,
    }


def resolve_disks(*entries, disks=None):
    point_disks = POINT_DISKS if disks is None else disks
    return resolve_disk_settings(list(entries), point_disks, CONTAINERS, LOCATION, BACKUP_POINT)


def test_disk_by_label_keeps_slot():
    assert resolve_disks(disk_entry("SCSI.1")) == [
        {"diskId": "d-s1", "busType": "Scsi", "index": 1}
    ]


def test_disk_label_built_from_bus_and_index():
    assert resolve_disks(disk_entry("pci.0")) == [{"diskId": "d-p0", "busType": "Pci", "index": 0}]


def test_disk_moved_to_new_slot_and_container():
    settings = resolve_disks(disk_entry("d-s0", "Sata", 3, "gold-ssd"))

    assert settings == [
        {"diskId": "d-s0", "busType": "Sata", "index": 3, "storageContainerId": "sc-gold"}
    ]


def test_disk_settings_sorted_by_slot():
    forward = resolve_disks(disk_entry("scsi.1"), disk_entry("scsi.0"), disk_entry("pci.0"))
    backward = resolve_disks(disk_entry("pci.0"), disk_entry("scsi.0"), disk_entry("scsi.1"))

    assert forward == backward
    assert [s["diskId"] for s in forward] == ["d-p0", "d-s0", "d-s1"]


def test_disk_cdrom_rejected():
    with pytest.raises(ModuleFailure) as caught:
        resolve_disks(disk_entry("ide.0"))

    assert str(caught.value).startswith("disks[0].disk 'ide.0' is a CD-ROM")


def test_disk_same_slot_twice_rejected():
    with pytest.raises(ModuleFailure) as caught:
        resolve_disks(disk_entry("scsi.0"), disk_entry("scsi.1", index=0))

    assert str(caught.value).startswith("disks[1] restores a second disk to Scsi index 0.")


def test_disk_unknown_lists_disks():
    with pytest.raises(ModuleFailure) as caught:
        resolve_disks(disk_entry("scsi.7"))

    message = str(caught.value)
    assert message.startswith("disks[0].disk 'scsi.7' is neither the id nor the label of a disk")
    assert "scsi.0 (d-s0), scsi.1 (d-s1), ide.0 (d-cd), pci.0 (d-p0)" in message


def test_disk_label_shared_by_two_vms():
    pd_disks = [*POINT_DISKS, dict(POINT_DISKS[1], id="d-other")]

    with pytest.raises(ModuleFailure) as caught:
        resolve_disks(disk_entry("scsi.1"), disks=pd_disks)

    assert "'scsi.1' matches 2 disks of restore point rp-1" in str(caught.value)
    assert str(caught.value).endswith("Use the disk id instead.")


def test_disk_unknown_container_lists_containers():
    with pytest.raises(ModuleFailure) as caught:
        resolve_disks(disk_entry("scsi.0", storage_container="archive-hdd"))

    assert "Available storage containers: gold-ssd (sc-gold), dr-capacity (sc-dr)" in str(
        caught.value
    )


def test_disk_request_and_fingerprint():
    settings = [{"diskId": "d-s1", "busType": "Scsi", "index": 1}]
    body = build_disk_restore_request("rp-1", "vm-1", "vm-2", settings, power_on=False)
    powered = build_disk_restore_request("rp-1", "vm-1", "vm-2", settings, power_on=True)
    other_target = build_disk_restore_request("rp-1", "vm-1", "vm-3", settings)

    assert body == {
        "sourceVmId": "vm-1",
        "targetVmId": "vm-2",
        "restorePointId": "rp-1",
        "diskSettings": settings,
        "powerOnVmAfterRestore": False,
    }
    assert "powerOnVmAfterRestore" not in other_target
    fingerprint = request_fingerprint(body, "RestoreVmDisks")
    assert request_fingerprint(powered, "RestoreVmDisks") == fingerprint
    assert request_fingerprint(other_target, "RestoreVmDisks") != fingerprint


# --- Request body and fingerprint ---------------------------------------------------------------


def new_location_request(**changes):
    options = {
        "restore_point_id": "rp-1",
        "source_vm_id": "vm-1",
        "restore_to_original": False,
        "target_name": "app-db-01-restored",
        "target_cluster_id": "c-dr",
        "storage_container_id": "sc-1",
        "network_adapters": [remap("50:6b:8d:00:00:01", "net-iso", "Isolated-Restore")],
        "power_on": True,
        "disconnect_networks": False,
    }
    options.update(changes)
    return build_restore_request(**options)


def test_request_for_new_location():
    assert new_location_request() == {
        "restorePointId": "rp-1",
        "sourceVmId": "vm-1",
        "restoreToOriginal": False,
        "targetVmName": "app-db-01-restored",
        "targetVmClusterId": "c-dr",
        "storageContainerId": "sc-1",
        "networkAdapters": [remap("50:6b:8d:00:00:01", "net-iso", "Isolated-Restore")],
        "powerOnVmAfterRestore": True,
        "disconnectNetworksAfterRestore": False,
    }


def test_request_leaves_out_unset_fields():
    body = new_location_request(
        storage_container_id=None, network_adapters=[], power_on=None, disconnect_networks=None
    )

    assert sorted(body) == [
        "restorePointId",
        "restoreToOriginal",
        "sourceVmId",
        "targetVmClusterId",
        "targetVmName",
    ]


def test_request_to_original_has_no_target_fields():
    body = build_restore_request(
        "rp-1",
        "vm-1",
        True,
        target_name="ignored",
        target_cluster_id="c-1",
        storage_container_id="sc-1",
        network_adapters=[remap("m", "n", "N")],
        power_on=False,
        disconnect_networks=True,
    )

    assert body == {
        "restorePointId": "rp-1",
        "sourceVmId": "vm-1",
        "restoreToOriginal": True,
        "powerOnVmAfterRestore": False,
        "disconnectNetworksAfterRestore": True,
    }


def test_fingerprint_is_twelve_hex_digits():
    fingerprint = request_fingerprint(new_location_request())

    assert len(fingerprint) == 12
    assert int(fingerprint, 16) >= 0


def test_fingerprint_ignores_reason_and_switches():
    plain = new_location_request()
    changed = new_location_request(power_on=False, disconnect_networks=True)
    changed["reason"] = "another reason [ansible:0123456789ab]"

    assert request_fingerprint(plain) == request_fingerprint(changed)


def test_fingerprint_ignores_key_order():
    body = new_location_request()
    reordered = dict(reversed(list(body.items())))

    assert request_fingerprint(body) == request_fingerprint(reordered)


@pytest.mark.parametrize(
    "change",
    [
        {"restore_point_id": "rp-2"},
        {"source_vm_id": "vm-2"},
        {"target_name": "app-db-01-copy"},
        {"target_cluster_id": "c-prod"},
        {"storage_container_id": "sc-2"},
        {"network_adapters": [remap("50:6b:8d:00:00:01", "net-vm", "VM-Network")]},
        {"restore_to_original": True},
    ],
)
def test_fingerprint_changes_with_target(change):
    assert request_fingerprint(new_location_request(**change)) != request_fingerprint(
        new_location_request()
    )


def test_fingerprint_differs_by_session_type():
    body = {"restorePointId": "rp-1", "sourceVmId": "vm-1"}

    assert request_fingerprint(body, "RestoreVm") != request_fingerprint(body, "RestoreVmDisks")


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Quarterly test", "Quarterly test [ansible:0123456789ab]"),
        ("  padded  ", "padded [ansible:0123456789ab]"),
        (None, "[ansible:0123456789ab]"),
        ("", "[ansible:0123456789ab]"),
    ],
)
def test_reason_with_marker(reason, expected):
    assert reason_with_marker(reason, "0123456789ab") == expected


def test_reason_fingerprints():
    assert reason_fingerprints("x [ansible:0123456789ab] [ansible:ffffffffffff]") == [
        "0123456789ab",
        "ffffffffffff",
    ]
    assert reason_fingerprints("[ansible:0123]") == []
    assert reason_fingerprints(None) == []


# --- Session matching ---------------------------------------------------------------------------

FINGERPRINT = "0123456789ab"


def row(session_id, state, result, started, fingerprint=FINGERPRINT):
    return {
        "id": session_id,
        "sessionType": "RestoreVm",
        "state": state,
        "result": result,
        "startTimeUtc": started,
        "reason": f"test [ansible:{fingerprint}]",
    }


def test_match_running_wins_over_finished():
    rows = [
        row("done", "Finished", "Success", "2026-11-02T10:00:00Z"),
        row("busy", "Running", "None", "2026-11-01T10:00:00Z"),
    ]

    assert find_session_match(rows, FINGERPRINT) == (MATCH_RUNNING, rows[1])


@pytest.mark.parametrize("state", ["Starting", "Running", "Cancelling"])
def test_match_active_states(state):
    rows = [row("s", state, "None", "2026-11-01T10:00:00Z")]

    assert find_session_match(rows, FINGERPRINT)[0] == MATCH_RUNNING


@pytest.mark.parametrize("result", ["Success", "Warning"])
def test_match_finished_success(result):
    rows = [row("s", "Finished", result, "2026-11-01T10:00:00Z")]

    assert find_session_match(rows, FINGERPRINT) == (MATCH_FINISHED, rows[0])


def test_match_newest_finished():
    rows = [
        row("old", "Finished", "Success", "2026-11-01T10:00:00Z"),
        row("new", "Finished", "Warning", "2026-11-03T10:00:00Z"),
    ]

    assert find_session_match(rows, FINGERPRINT)[1]["id"] == "new"


def test_match_ignores_failed_and_cancelled():
    rows = [
        row("failed", "Finished", "Error", "2026-11-01T10:00:00Z"),
        row("stopped", "Cancelled", "Error", "2026-11-02T10:00:00Z"),
    ]

    assert find_session_match(rows, FINGERPRINT) == (None, None)


def test_match_ignores_other_fingerprints():
    rows = [
        row("other", "Running", "None", "2026-11-01T10:00:00Z", fingerprint="ffffffffffff"),
        {"id": "manual", "state": "Running", "reason": "Restore from the console"},
        {"id": "empty", "state": "Running", "reason": None},
    ]

    assert find_session_match(rows, FINGERPRINT) == (None, None)


def test_restore_result_without_match(client):
    result = restore_result(client, None, None, FINGERPRINT, {"restorePointId": "rp-1"})

    assert result == {
        "changed": True,
        "attached": False,
        "match": None,
        "fingerprint": FINGERPRINT,
        "request": {"restorePointId": "rp-1"},
    }


def test_restore_result_reads_matched_session(api, client):
    api.get(API + "/sessions/sess-1", json=session("Finished", "Success", 100))
    matched = row("sess-1", "Finished", "Success", "2026-11-01T10:00:00Z")

    result = restore_result(client, MATCH_FINISHED, matched, FINGERPRINT, {})

    assert result["changed"] is False
    assert result["attached"] is False
    assert result["session_id"] == "sess-1"
    assert result["session"]["progress_percent"] == 100


def test_restore_result_attaches_running(api, client):
    api.get(API + "/sessions/sess-1", json=session("Running"))
    running = row("sess-1", "Running", "None", "2026-11-01T10:00:00Z")

    result = restore_result(client, MATCH_RUNNING, running, FINGERPRINT, {})

    assert result["changed"] is True
    assert result["attached"] is True
    assert result["session"]["state"] == "Running"


@pytest.fixture
def client(api, tokens, make_client):
    api.post(TOKEN_URL, json=tokens.body())
    return make_client()


def test_list_sessions_since_sends_filter_and_from(api, client):
    rows = [
        {"id": "s-1", "sessionType": "RestoreVm"},
        {"id": "s-2", "sessionType": "BackupVmJob"},
    ]
    api.get(API + "/sessions", json={"offset": 0, "limit": 500, "totalCount": 2, "results": rows})

    listed = list_sessions_since(client, "RestoreVm", "2026-10-31T22:10:00Z")

    assert [r["id"] for r in listed] == ["s-1"]
    query = parse_qs(urlsplit(api.calls[-1].request.url).query)
    assert query["from"] == ["2026-10-31T22:10:00Z"]
    assert json.loads(query["filter"][0]) == [
        {"property": "sessionType", "operation": "Equals", "value": "RestoreVm"}
    ]


def test_list_sessions_without_since(api, client):
    api.get(API + "/sessions", json={"offset": 0, "limit": 500, "totalCount": 0, "results": []})

    assert list_sessions_since(client, "RestoreVm", None) == []
    assert "from" not in parse_qs(urlsplit(api.calls[-1].request.url).query)


# --- Waiting and outcomes -----------------------------------------------------------------------


def session(state, result="None", percent=40, events=()):
    return {
        "id": "sess-1",
        "sessionType": "RestoreVm",
        "state": state,
        "result": result,
        "progressState": {
            "progressPercents": percent,
            "events": [{"severity": severity, "message": text} for severity, text in events],
        },
    }


def test_wait_timeout_names_session(api, client, clock):
    api.get(API + "/sessions/sess-1", json=session("Running"))

    with pytest.raises(ModuleFailure) as caught:
        wait_for_session(
            client, "sess-1", 10, 2, "the restore of VM a", clock=clock.time, sleep=clock.sleep
        )

    message = str(caught.value)
    result = caught.value.to_result()
    assert message.startswith("Timed out after 10 s waiting for the restore of VM a: session ")
    assert "sess-1 (Running, 40%)" in message
    assert result["session_id"] == "sess-1"
    assert result["session"]["state"] == "Running"
    assert "session_ids" not in result
    assert sum(clock.sleeps) == pytest.approx(10)


def test_wait_returns_final_session(api, client, clock):
    api.get(API + "/sessions/sess-1", json=session("Running"))
    api.get(API + "/sessions/sess-1", json=session("Finished", "Success", 100))

    final = wait_for_session(client, "sess-1", 60, 2, "x", clock=clock.time, sleep=clock.sleep)

    assert final["result"] == "Success"
    assert clock.sleeps == [2]


class FakeModule:
    def __init__(self):
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def test_outcome_error_fails_with_events():
    failed = session(
        "Finished",
        "Error",
        100,
        [("Information", "Restoring disks."), ("Error", "Disk 1 is corrupted."), ("Error", "Fail")],
    )

    with pytest.raises(ModuleFailure) as caught:
        check_session_outcome(FakeModule(), failed, "The restore of VM a")

    assert str(caught.value) == (
        "The restore of VM a failed: session sess-1 ended with state Finished and result Error: "
        "Disk 1 is corrupted.; Fail"
    )
    assert caught.value.to_result()["session_id"] == "sess-1"
    assert caught.value.to_result()["session"]["errors"] == ["Disk 1 is corrupted.", "Fail"]


def test_outcome_cancelled_fails():
    with pytest.raises(ModuleFailure) as caught:
        check_session_outcome(FakeModule(), session("Cancelled", "Error"), "The restore")

    assert "ended with state Cancelled and result Error: the session reported no error" in str(
        caught.value
    )


def test_outcome_warning_warns():
    module = FakeModule()
    warned = session("Finished", "Warning", 100, [("Warning", "NIC left disconnected.")])

    summary = check_session_outcome(module, warned, "The restore of VM a")

    assert summary["warnings"] == ["NIC left disconnected."]
    assert module.warnings == ["The restore of VM a: NIC left disconnected."]


# --- Diff ---------------------------------------------------------------------------------------


def test_disk_state_replaces_container_except_cdrom():
    container = {"id": "sc-2", "name": "dr-capacity"}
    disk = {"busType": "Scsi", "index": 0, "size": 10, "storageContainerName": "gold-ssd"}
    cdrom = {"busType": "Ide", "index": 0, "size": 0, "isCdrom": True}

    assert disk_state(disk, container)["storage_container"] == "dr-capacity"
    assert disk_state(disk)["storage_container"] == "gold-ssd"
    assert disk_state(cdrom, container)["storage_container"] is None


def test_adapter_state_applies_mapping():
    remaps = [remap("50:6b:8d:00:00:01", "net-iso", "Isolated-Restore")]

    assert adapter_state(ADAPTERS[0], remaps) == {
        "mac_address": "50:6B:8D:00:00:01",
        "network": "Isolated-Restore",
    }
    assert adapter_state(ADAPTERS[1], remaps)["network"] == "DMZ-VLAN30"


def test_vm_state_absent():
    assert vm_state(None) == {"state": "absent"}
