"""VM lookup, restore point selectors and restore point reads."""

from __future__ import annotations

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore_points import (
    choose_vm,
    find_vm,
    get_restore_point,
    get_restore_point_details,
    list_point_network_adapters,
    merge_vm_candidates,
    no_restore_point_failure,
    parse_option_timestamp,
    parse_timestamp,
    select_restore_points,
    source_vm_ids,
    vm_candidate,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.module_utils.fakes import (
    API,
    TOKEN_URL,
)

UTC = datetime.timezone.utc


def point(point_id, created, point_type="Backup"):
    return {"id": point_id, "type": point_type, "creationTimeUtc": created}


POINTS = [
    point("b-1028", "2026-10-28T22:10:00Z"),
    point("s-1031", "2026-10-31T20:00:00.1234567Z", "BackupSnapshot"),
    point("b-1030", "2026-10-30T22:10:00Z"),
    point("u-1026", "2026-10-26T00:00:00Z", "UserSnapshot"),
    point("b-1031", "2026-10-31T22:10:00Z"),
]


# --- Timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-31T22:10:00Z", datetime.datetime(2026, 10, 31, 22, 10, tzinfo=UTC)),
        (
            "2026-10-31T22:10:00.1234567Z",
            datetime.datetime(2026, 10, 31, 22, 10, 0, 123456, tzinfo=UTC),
        ),
        ("2026-10-31T23:10:00+01:00", datetime.datetime(2026, 10, 31, 22, 10, tzinfo=UTC)),
        ("2026-10-31T17:10:00-0500", datetime.datetime(2026, 10, 31, 22, 10, tzinfo=UTC)),
        ("2026-10-31T22:10", datetime.datetime(2026, 10, 31, 22, 10, tzinfo=UTC)),
        ("2026-10-31 22:10:00", datetime.datetime(2026, 10, 31, 22, 10, tzinfo=UTC)),
        ("2026-10-31", datetime.datetime(2026, 10, 31, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "31.10.2026", "2026-10-31T25"])
def test_parse_timestamp_rejects(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_option_timestamp_names_option():
    with pytest.raises(ModuleFailure) as caught:
        parse_option_timestamp("last friday", "before")

    assert str(caught.value).startswith("before 'last friday' is not an ISO 8601 date-time")
    assert "2026-10-30T18:00:00Z" in str(caught.value)


# --- Selectors ----------------------------------------------------------------------------------


def ids(points):
    return [p["id"] for p in points]


def test_select_sorts_newest_first():
    assert ids(select_restore_points(POINTS)) == ["b-1031", "s-1031", "b-1030", "b-1028", "u-1026"]


def test_select_latest():
    assert ids(select_restore_points(POINTS, latest=True)) == ["b-1031"]


def test_select_types():
    chosen = select_restore_points(POINTS, types=["BackupSnapshot", "UserSnapshot"])

    assert ids(chosen) == ["s-1031", "u-1026"]


def test_select_before_is_strict_and_single():
    before = parse_timestamp("2026-10-30T22:10:00Z")

    assert ids(select_restore_points(POINTS, before=before)) == ["b-1028"]


def test_select_before_with_offset():
    before = parse_timestamp("2026-10-31T23:00:00+02:00")

    assert ids(select_restore_points(POINTS, before=before)) == ["s-1031"]


def test_select_before_and_types():
    before = parse_timestamp("2026-10-31T23:00:00Z")

    assert ids(select_restore_points(POINTS, types=["Backup"], before=before)) == ["b-1031"]


def test_select_latest_of_type():
    chosen = select_restore_points(POINTS, types=["UserSnapshot"], latest=True)

    assert ids(chosen) == ["u-1026"]


def test_select_nothing_matches():
    before = parse_timestamp("2026-01-01")

    assert select_restore_points(POINTS, before=before) == []
    assert select_restore_points(POINTS, types=["PdSnapshot"], latest=True) == []


def test_select_unreadable_time_sorts_last():
    points = [point("x", None), point("y", "not a date"), *POINTS[:1]]

    assert ids(select_restore_points(points)) == ["b-1028", "x", "y"]


def test_select_equal_times_by_id():
    points = [point("b", "2026-10-31T22:10:00Z"), point("a", "2026-10-31T22:10:00Z")]

    assert ids(select_restore_points(points)) == ["a", "b"]


def test_no_point_failure_lists_newest():
    vm = vm_candidate("vm-1", "app-db-01", "c-1", "PROD-AHV-01", protected=True)

    failure = no_restore_point_failure(vm, POINTS, types=["PdSnapshot"], before="2026-10-30")

    message = str(failure)
    assert message.startswith("VM 'app-db-01' (id vm-1, cluster PROD-AHV-01) has 5 restore point")
    assert "none of type PdSnapshot created before 2026-10-30" in message
    assert "Newest: b-1031 (Backup, 2026-10-31T22:10:00Z)" in message
    assert message.endswith("Change types or before.")


def test_no_point_failure_without_points():
    vm = vm_candidate("vm-1", "app-db-01", "c-1", "PROD-AHV-01")

    assert "has no restore points" in str(no_restore_point_failure(vm, []))


# --- Choosing a VM ------------------------------------------------------------------------------


CLUSTERS = [{"id": "c-1", "name": "PROD-AHV-01"}, {"id": "c-2", "name": "PROD-AHV-02"}]


def protected_row(vm_id, name, cluster):
    return {"id": vm_id, "name": name, "clusterId": cluster["id"], "clusterName": cluster["name"]}


def inventory_vm(vm_id, name, cluster):
    return ({"id": vm_id, "name": name, "clusterId": cluster["id"]}, cluster)


def test_merge_marks_protected_and_inventory():
    merged = merge_vm_candidates(
        [protected_row("vm-1", "ops", CLUSTERS[0]), protected_row("vm-2", "ops", CLUSTERS[1])],
        [inventory_vm("vm-1", "ops", CLUSTERS[0]), inventory_vm("vm-3", "ops", CLUSTERS[1])],
    )

    by_id = {vm["id"]: vm for vm in merged}
    assert sorted(by_id) == ["vm-1", "vm-2", "vm-3"]
    assert (by_id["vm-1"]["protected"], by_id["vm-1"]["in_inventory"]) == (True, True)
    assert (by_id["vm-2"]["protected"], by_id["vm-2"]["in_inventory"]) == (True, False)
    assert (by_id["vm-3"]["protected"], by_id["vm-3"]["in_inventory"]) == (False, True)
    assert by_id["vm-3"]["cluster_name"] == "PROD-AHV-02"


def test_choose_single_vm():
    candidates = merge_vm_candidates([protected_row("vm-1", "ops", CLUSTERS[0])], [])

    assert choose_vm(candidates, name="ops")["id"] == "vm-1"


def test_choose_duplicate_names_fails_with_candidates():
    candidates = merge_vm_candidates(
        [protected_row("vm-1", "ops", CLUSTERS[0])],
        [inventory_vm("vm-1", "ops", CLUSTERS[0]), inventory_vm("vm-2", "ops", CLUSTERS[1])],
    )

    with pytest.raises(ModuleFailure) as caught:
        choose_vm(candidates, name="ops", clusters=CLUSTERS)

    message = str(caught.value)
    assert message.startswith("2 VMs are named 'ops': ")
    assert "ops (id vm-1, cluster PROD-AHV-01)" in message
    assert "ops (id vm-2, cluster PROD-AHV-02, no restore points)" in message
    assert "Set vm_id" in message
    assert "set cluster" in message


@pytest.mark.parametrize("cluster", ["PROD-AHV-02", "c-2"])
def test_choose_cluster_disambiguates(cluster):
    candidates = merge_vm_candidates(
        [protected_row("vm-1", "ops", CLUSTERS[0]), protected_row("vm-2", "ops", CLUSTERS[1])],
        [],
    )

    assert choose_vm(candidates, name="ops", cluster=cluster, clusters=CLUSTERS)["id"] == "vm-2"


def test_choose_unknown_vm():
    with pytest.raises(ModuleFailure) as caught:
        choose_vm([], name="no-such-vm", clusters=CLUSTERS)

    message = str(caught.value)
    assert message.startswith("VM 'no-such-vm' was not found: it is neither a protected VM")
    assert "PROD-AHV-01 (c-1), PROD-AHV-02 (c-2)" in message
    assert "vm_rescan" in message


def test_choose_unknown_vm_id():
    with pytest.raises(ModuleFailure) as caught:
        choose_vm([], vm_id="0000", clusters=CLUSTERS)

    assert str(caught.value).startswith("VM id '0000' was not found")


def test_choose_vm_on_other_cluster():
    candidates = merge_vm_candidates([protected_row("vm-1", "ops", CLUSTERS[0])], [])

    with pytest.raises(ModuleFailure) as caught:
        choose_vm(candidates, name="ops", cluster="PROD-AHV-02", clusters=CLUSTERS)

    message = str(caught.value)
    assert message.startswith("VM 'ops' was not found on cluster 'PROD-AHV-02'.")
    assert "ops (id vm-1, cluster PROD-AHV-01, not in the cluster inventory)" in message


def test_choose_unknown_cluster():
    with pytest.raises(ModuleFailure) as caught:
        choose_vm([], name="ops", cluster="NOPE", clusters=CLUSTERS)

    message = str(caught.value)
    assert "cluster 'NOPE' is neither the name nor the id of a registered cluster" in message
    assert "PROD-AHV-01 (c-1)" in message


# --- Reading from the API -----------------------------------------------------------------------


@pytest.fixture
def client(api, tokens, make_client):
    api.post(TOKEN_URL, json=tokens.body())
    return make_client()


def envelope(items):
    return {"offset": 0, "limit": 500, "totalCount": len(items), "results": items}


def filters_sent(api, url):
    sent = []
    for call in api.calls:
        if call.request.url.split("?")[0] == url:
            query = parse_qs(urlsplit(call.request.url).query)
            sent.append(json.loads(query["filter"][0]))
    return sent


def test_find_deleted_vm_through_protected_vms(api, client):
    api.get(API + "/clusters", json=CLUSTERS)
    api.get(API + "/protectedVms", json=envelope([protected_row("vm-9", "gone", CLUSTERS[1])]))
    api.get(API + "/clusters/c-1/vms", json=envelope([]))
    api.get(API + "/clusters/c-2/vms", json=envelope([]))

    vm = find_vm(client, name="gone")

    assert vm == {
        "id": "vm-9",
        "name": "gone",
        "cluster_id": "c-2",
        "cluster_name": "PROD-AHV-02",
        "protected": True,
        "in_inventory": False,
    }
    expected = [{"property": "name", "operation": "Equals", "value": "gone"}]
    assert filters_sent(api, API + "/protectedVms") == [expected]
    assert filters_sent(api, API + "/clusters/c-1/vms") == [expected]


def test_find_vm_rechecks_ignored_filter(api, client):
    api.get(API + "/clusters", json=CLUSTERS[:1])
    api.get(
        API + "/protectedVms",
        json=envelope(
            [protected_row("vm-1", "APP", CLUSTERS[0]), protected_row("vm-2", "app", CLUSTERS[0])]
        ),
    )
    api.get(
        API + "/clusters/c-1/vms",
        json=envelope([{"id": "vm-3", "name": "app-2", "clusterId": "c-1"}]),
    )

    assert find_vm(client, name="app")["id"] == "vm-2"


def test_find_vm_by_id_in_one_cluster(api, client):
    api.get(API + "/clusters", json=CLUSTERS)
    api.get(API + "/protectedVms", json=envelope([]))
    api.get(
        API + "/clusters/c-2/vms",
        json=envelope([{"id": "vm-5", "name": "new", "clusterId": "c-2"}]),
    )

    vm = find_vm(client, vm_id="vm-5", cluster="PROD-AHV-02")

    assert vm["name"] == "new"
    assert vm["protected"] is False
    assert filters_sent(api, API + "/clusters/c-2/vms") == [
        [{"property": "id", "operation": "Equals", "value": "vm-5"}]
    ]
    assert filters_sent(api, API + "/clusters/c-1/vms") == []


def test_get_restore_point_missing(api, client):
    api.get(API + "/restorePoints/rp-0", status=404, json={"title": "Not Found"})

    assert get_restore_point(client, "rp-0") is None


@pytest.mark.parametrize(
    ("point_type", "segment"),
    [
        ("Backup", "backups"),
        ("BackupSnapshot", "backupSnapshots"),
        ("UserSnapshot", "userSnapshots"),
        ("PdSnapshot", "protectionDomainSnapshots"),
    ],
)
def test_details_by_type(api, client, point_type, segment):
    base = point("rp-1", "2026-10-31T22:10:00Z", point_type)
    api.get(f"{API}/restorePoints/{segment}/rp-1", json=dict(base, vmId="vm-1", extra=1))

    detail = get_restore_point_details(client, base)

    assert detail["extra"] == 1
    assert detail["creationTimeUtc"] == "2026-10-31T22:10:00Z"
    assert source_vm_ids(detail) == ["vm-1"]


def test_details_of_volume_group_snapshot_need_no_request(api, client):
    base = point("rp-1", "2026-10-31T22:10:00Z", "VolumeGroupSnapshot")

    assert get_restore_point_details(client, base) == base
    assert [c.request.url for c in api.calls if "/restorePoints" in c.request.url] == []


def test_network_adapters_only_for_backups(api, client):
    api.get(API + "/restorePoints/rp-1/networkAdapters", json=[{"macAddress": "50:6b:8d:00:00:01"}])

    assert list_point_network_adapters(client, point("rp-2", None, "UserSnapshot")) is None
    backup = list_point_network_adapters(client, point("rp-1", None, "Backup"))
    assert backup == [{"macAddress": "50:6b:8d:00:00:01"}]


def test_source_vm_ids_of_pd_snapshot():
    assert source_vm_ids({"type": "PdSnapshot", "vmIds": ["a", "b"]}) == ["a", "b"]
    assert source_vm_ids({"type": "VolumeGroupSnapshot"}) == []
