"""restore_point_info against the emulator: selectors, details and lists, checked with the API."""

from __future__ import annotations

from conftest import api_requests, module_task

DETAIL_SEGMENTS = {
    "Backup": "backups",
    "BackupSnapshot": "backupSnapshots",
    "UserSnapshot": "userSnapshots",
    "PdSnapshot": "protectionDomainSnapshots",
}


def info(params: dict, name: str = "info", **task_options) -> dict:
    return module_task(name, "restore_point_info", params, **task_options)


def cluster_named(direct_api, name: str) -> dict:
    return next(c for c in direct_api.get("/clusters") if c["name"] == name)


def vm_named(direct_api, cluster_name: str, name: str) -> dict:
    cluster = cluster_named(direct_api, cluster_name)
    return next(
        vm for vm in direct_api.get_all(f"/clusters/{cluster['id']}/vms") if vm["name"] == name
    )


def newest_first(points: list) -> list:
    by_id = sorted(points, key=lambda p: p["id"])
    return sorted(by_id, key=lambda p: p["creationTimeUtc"], reverse=True)


def api_points(direct_api, vm_id: str) -> list:
    return newest_first(direct_api.get_all("/restorePoints", vmId=vm_id))


def ids(points: list) -> list:
    return [p["id"] for p in points]


def test_lists_points_newest_first(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    truth = api_points(direct_api, vm["id"])

    run = run_playbook([info(dict(connection, vm_name="app-db-01"))])

    assert run.returncode == 0, run.stdout
    result = run.result("info")
    assert result["changed"] is False
    assert result["restore_points"] == truth
    assert {p["type"] for p in truth} >= {"Backup", "BackupSnapshot", "UserSnapshot"}
    assert result["vm"] == {
        "id": vm["id"],
        "name": "app-db-01",
        "cluster_id": vm["clusterId"],
        "cluster_name": "PROD-AHV-01",
        "protected": True,
        "in_inventory": True,
    }


def test_selectors_match_api(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    truth = api_points(direct_api, vm["id"])
    backups = [p for p in truth if p["type"] == "Backup"]
    cutoff = backups[1]["creationTimeUtc"]
    before_cutoff = [p for p in truth if p["creationTimeUtc"] < cutoff]
    base = dict(connection, vm_id=vm["id"])

    run = run_playbook(
        [
            info(dict(base, latest=True), "latest"),
            info(dict(base, before=cutoff), "before"),
            info(dict(base, types=["Backup"]), "types"),
            info(dict(base, types=["BackupSnapshot", "UserSnapshot"], latest=True), "both"),
            info(dict(base, types=["Backup"], before=cutoff), "backup before"),
        ]
    )

    assert run.returncode == 0, run.stdout
    assert ids(run.result("latest")["restore_points"]) == [truth[0]["id"]]
    assert ids(run.result("before")["restore_points"]) == [before_cutoff[0]["id"]]
    assert ids(run.result("types")["restore_points"]) == ids(backups)
    snapshots = [p for p in truth if p["type"] in ("BackupSnapshot", "UserSnapshot")]
    assert ids(run.result("both")["restore_points"]) == [snapshots[0]["id"]]
    older_backups = [p for p in backups if p["creationTimeUtc"] < cutoff]
    assert ids(run.result("backup before")["restore_points"]) == [older_backups[0]["id"]]


def test_before_with_offset(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    truth = api_points(direct_api, vm["id"])
    newest = truth[0]["creationTimeUtc"]
    assert newest.endswith("Z")
    # The same instant as the newest point, written one hour ahead of UTC.
    hour = int(newest[11:13])
    shifted = f"{newest[:11]}{hour + 1:02d}{newest[13:-1]}+01:00"

    run = run_playbook([info(dict(connection, vm_id=vm["id"], before=shifted))])

    assert run.returncode == 0, run.stdout
    assert ids(run.result("info")["restore_points"]) == [truth[1]["id"]]


def test_details_match_typed_endpoints(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    truth = api_points(direct_api, vm["id"])

    run = run_playbook([info(dict(connection, vm_name="app-db-01", details=True))])

    assert run.returncode == 0, run.stdout
    points = run.result("info")["restore_points"]
    assert ids(points) == ids(truth)
    for point in points:
        detail = direct_api.get(f"/restorePoints/{DETAIL_SEGMENTS[point['type']]}/{point['id']}")
        assert point == detail
    backup = next(p for p in points if p["type"] == "Backup")
    assert backup["isCorrupted"] is False
    assert backup["vmId"] == vm["id"]


def test_corrupted_backup_detail(run_playbook, connection, direct_api):
    run = run_playbook(
        [info(dict(connection, vm_name="legacy-erp", types=["Backup"], latest=True, details=True))]
    )

    assert run.returncode == 0, run.stdout
    assert run.result("info")["restore_points"][0]["isCorrupted"] is True


def test_pd_snapshot_lists_member_vms(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "sql-node-01")

    run = run_playbook(
        [info(dict(connection, vm_name="sql-node-01", types=["PdSnapshot"], details=True))]
    )

    assert run.returncode == 0, run.stdout
    points = run.result("info")["restore_points"]
    assert len(points) == 2
    for point in points:
        assert vm["id"] in point["vmIds"]
        assert point["pdName"] == "pd-sql"


def test_include_disks_and_adapters(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    truth = api_points(direct_api, vm["id"])

    run = run_playbook(
        [info(dict(connection, vm_name="app-db-01", include=["disks", "network_adapters"]))]
    )

    assert run.returncode == 0, run.stdout
    for point in run.result("info")["restore_points"]:
        assert point["disks"] == direct_api.get(f"/restorePoints/{point['id']}/disks")
        if point["type"] in ("Backup", "BackupSnapshot"):
            adapters = direct_api.get(f"/restorePoints/{point['id']}/networkAdapters")
            assert point["networkAdapters"] == adapters
        else:
            assert "networkAdapters" not in point
    assert {p["type"] for p in truth} >= {"Backup", "UserSnapshot"}


def test_one_point_by_id(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "file-srv-01")
    point = api_points(direct_api, vm["id"])[0]

    run = run_playbook([info(dict(connection, id=point["id"], details=True))], check=True)

    assert run.returncode == 0, run.stdout
    result = run.result("info")
    assert result["changed"] is False
    assert "vm" not in result
    segment = DETAIL_SEGMENTS[point["type"]]
    assert result["restore_points"] == [direct_api.get(f"/restorePoints/{segment}/{point['id']}")]


def test_deleted_vm_keeps_points(run_playbook, connection, direct_api, emulator):
    vm = vm_named(direct_api, "PROD-AHV-01", "dc-01")
    truth = api_points(direct_api, vm["id"])
    emulator.control.remove_nutanix_vm(vm["clusterId"], vm["id"])
    rescan = module_task("rescan", "vm_rescan", dict(connection, clusters=["PROD-AHV-01"]))

    run = run_playbook([rescan, info(dict(connection, vm_name="dc-01"))])

    assert run.returncode == 0, run.stdout
    result = run.result("info")
    assert result["vm"]["id"] == vm["id"]
    assert result["vm"]["in_inventory"] is False
    assert ids(result["restore_points"]) == ids(truth)


def test_lookup_uses_server_filter(run_playbook, connection, direct_api, emulator):
    run = run_playbook([info(dict(connection, vm_name="app-db-01", latest=True))])

    assert run.returncode == 0, run.stdout
    listed = api_requests(emulator, "GET", r"/api/v7/protectedVms")
    assert len(listed) == 1
    assert listed[0]["query"]["filter"] == [
        '[{"property":"name","operation":"Equals","value":"app-db-01"}]'
    ]


def test_duplicate_name_fails(run_playbook, connection, direct_api):
    twins = [
        vm
        for vm in direct_api.get_all("/protectedVms")
        if vm["name"] == "ops-jumpbox" and vm["clusterName"] in ("PROD-AHV-01", "PROD-AHV-02")
    ]

    run = run_playbook([info(dict(connection, vm_name="ops-jumpbox"), ignore_errors=True)])

    assert run.status("info") == "failed"
    message = run.result("info")["msg"]
    assert message.startswith("2 VMs are named 'ops-jumpbox': ")
    for twin in twins:
        assert f"id {twin['id']}, cluster {twin['clusterName']}" in message
    assert "set cluster" in message


def test_cluster_resolves_duplicate(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-02", "ops-jumpbox")

    run = run_playbook([info(dict(connection, vm_name="ops-jumpbox", cluster="PROD-AHV-02"))])

    assert run.returncode == 0, run.stdout
    assert run.result("info")["vm"]["id"] == vm["id"]
    assert ids(run.result("info")["restore_points"]) == ids(api_points(direct_api, vm["id"]))


def test_unknown_id_fails(run_playbook, connection):
    missing = "00000000-0000-4000-8000-000000000000"

    run = run_playbook([info(dict(connection, id=missing), ignore_errors=True)])

    assert run.status("info") == "failed"
    assert run.result("info")["msg"].startswith(f"Restore point '{missing}' was not found.")


def test_invalid_before_fails(run_playbook, connection):
    run = run_playbook(
        [info(dict(connection, vm_name="app-db-01", before="last friday"), ignore_errors=True)]
    )

    assert run.status("info") == "failed"
    assert run.result("info")["msg"].startswith("before 'last friday' is not an ISO 8601 date-time")


def test_vm_without_points_lists_none(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "DR-AHV-01", "dr-sandbox")
    assert direct_api.get_all("/restorePoints", vmId=vm["id"]) == []

    run = run_playbook([info(dict(connection, vm_name="dr-sandbox"))])

    assert run.returncode == 0, run.stdout
    assert run.result("info")["restore_points"] == []
    assert run.result("info")["vm"]["protected"] is False


def test_action_group_sets_connection(run_playbook, connection, direct_api):
    vm = vm_named(direct_api, "PROD-AHV-01", "app-db-01")
    defaults = {"group/veeam_ahv.backup.veeam_ahv": connection}

    run = run_playbook([info({"vm_name": "app-db-01", "latest": True}, module_defaults=defaults)])

    assert run.returncode == 0, run.stdout
    assert ids(run.result("info")["restore_points"]) == [api_points(direct_api, vm["id"])[0]["id"]]
