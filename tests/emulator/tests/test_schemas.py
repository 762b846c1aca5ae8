"""Paths, field names and enum values of every endpoint against the v7 schemas."""

import re

import pytest
from emu_helpers import ENUMS, FIELDS

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_fields(item: dict, schema: str) -> None:
    assert set(item) == FIELDS[schema], f"{schema}: {sorted(set(item) ^ FIELDS[schema])}"


def assert_page(page: dict) -> list[dict]:
    assert set(page) == FIELDS["Page"]
    assert isinstance(page["totalCount"], int)
    assert isinstance(page["results"], list)
    return page["results"]


def assert_vm(vm: dict) -> None:
    assert_fields(vm, "VirtualMachine")
    assert UUID.match(vm["id"])
    for disk in vm["disks"]:
        assert_fields(disk, "Disk")
        assert disk["busType"] in ENUMS["AhvBusType"]
    for nic in vm["networkAdapters"]:
        assert_fields(nic, "NetworkAdapter")
        assert re.match(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$", nic["macAddress"])


def test_clusters_is_bare_array(api):
    clusters = api.ok("GET", "/clusters")
    assert isinstance(clusters, list)
    assert [c["name"] for c in clusters] == ["PROD-AHV-01", "PROD-AHV-02", "DR-AHV-01"]
    for cluster in clusters:
        assert_fields(cluster, "Cluster")
        assert cluster["state"] in ENUMS["ServerState"]
        assert api.ok("GET", f"/clusters/{cluster['id']}") == cluster


def test_cluster_vms_page_and_item(api):
    cluster = api.cluster("PROD-AHV-01")
    vms = assert_page(api.ok("GET", f"/clusters/{cluster['id']}/vms"))
    assert len(vms) == 16
    for vm in vms:
        assert_vm(vm)
        assert vm["clusterId"] == cluster["id"]
        assert vm["clusterName"] == "PROD-AHV-01"
    single = api.ok("GET", f"/clusters/{cluster['id']}/vms/{vms[0]['id']}")
    assert single == vms[0]


def test_vm_sizes_sum_disks(api):
    vm = api.vm("PROD-AHV-01", "dc-01")
    data_disks = [d for d in vm["disks"] if not d["isCdrom"]]
    assert vm["vmSize"] == sum(d["size"] for d in data_disks)
    cdroms = [d for d in vm["disks"] if d["isCdrom"]]
    assert len(cdroms) == 1
    assert cdroms[0]["busType"] == "Ide"


def test_virtual_machines_lists_all_clusters(api):
    page = api.ok("GET", "/virtualMachines")
    vms = assert_page(page)
    assert page["totalCount"] == 39
    assert {vm["clusterName"] for vm in vms} == {"PROD-AHV-01", "PROD-AHV-02", "DR-AHV-01"}
    for vm in vms:
        assert_vm(vm)


@pytest.mark.parametrize(
    ("suffix", "schema"),
    [("networks", "NutanixNetwork"), ("volumeGroups", "VolumeGroup")],
)
def test_bare_array_cluster_lists(api, suffix, schema):
    cluster = api.cluster("PROD-AHV-01")
    items = api.ok("GET", f"/clusters/{cluster['id']}/{suffix}")
    assert isinstance(items, list)
    assert items
    for item in items:
        assert_fields(item, schema)


def test_networks_include_restore_networks(api):
    for cluster in api.ok("GET", "/clusters"):
        names = {n["name"] for n in api.ok("GET", f"/clusters/{cluster['id']}/networks")}
        assert {"VM-Network", "Isolated-Restore"} <= names
        assert 2 <= len(names) <= 4


def test_storage_containers_page(api):
    for cluster in api.ok("GET", "/clusters"):
        containers = assert_page(api.ok("GET", f"/clusters/{cluster['id']}/storageContainers"))
        assert 2 <= len(containers) <= 3
        assert "default-container" in {c["name"] for c in containers}
        for container in containers:
            assert_fields(container, "StorageContainer")


def test_hosts_bare_array_with_id_and_name(api):
    cluster = api.cluster("DR-AHV-01")
    hosts = api.ok("GET", f"/clusters/{cluster['id']}/hosts")
    assert isinstance(hosts, list)
    assert len(hosts) == 3
    for host in hosts:
        assert UUID.match(host["id"])
        assert host["name"].startswith("dr-ahv-01-node-")


def test_protection_domains_page(api):
    cluster = api.cluster("PROD-AHV-01")
    domains = assert_page(api.ok("GET", f"/clusters/{cluster['id']}/protectionDomains"))
    assert [d["name"] for d in domains] == ["pd-sql"]
    assert_fields(domains[0], "ProtectionDomain")
    assert domains[0]["virtualMachinesCount"] == 3


def test_volume_group_by_id(api):
    cluster = api.cluster("PROD-AHV-01")
    groups = api.ok("GET", f"/clusters/{cluster['id']}/volumeGroups")
    group = next(g for g in groups if g["name"] == "vg-sql-data")
    assert api.ok("GET", f"/clusters/{cluster['id']}/volumeGroups/{group['id']}") == group
    assert group["protectionDomain"] == "pd-sql"


@pytest.mark.parametrize("suffix", ["protectionDomains/refresh", "volumeGroups/refresh"])
def test_refresh_actions_return_empty_204(api, suffix):
    cluster = api.cluster("PROD-AHV-02")
    response = api.post(f"/clusters/{cluster['id']}/{suffix}")
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "path_template"),
    [
        ("POST", "/clusters/{cluster}/vms/refreshAsync"),
        ("POST", "/clusters/{cluster}/rescanSnapshots"),
        ("POST", "/backupServer/rescanBackups"),
    ],
)
def test_rescans_return_202_async_task(api, method, path_template):
    cluster = api.cluster("PROD-AHV-01")
    response = api.request(method, path_template.format(cluster=cluster["id"]))
    assert response.status_code == 202
    body = response.json()
    assert set(body) == FIELDS["AsyncTask"]
    assert UUID.match(body["sessionId"])


def test_protected_vms_page(api):
    protected = api.get_all("/protectedVms")
    assert len(protected) == 18
    for vm in protected:
        assert_fields(vm, "ProtectedVirtualMachine")
        assert ISO_UTC.match(vm["lastProtectionDateUtc"])
        assert vm["snapshots"] + vm["backups"] >= 1
    names = {vm["name"] for vm in protected}
    assert "app-db-01" in names
    assert "test-sandbox-01" not in names


def test_protected_vm_restore_points(api):
    app_db = api.vm("PROD-AHV-01", "app-db-01")
    page = api.ok("GET", f"/protectedVms/{app_db['id']}/restorePoints")
    points = assert_page(page)
    assert page["totalCount"] == 7
    for point in points:
        assert_fields(point, "RestorePointBase")


def test_restore_points_list_has_every_type(api):
    points = api.get_all("/restorePoints")
    types = {p["type"] for p in points}
    assert types == ENUMS["RestorePointType"] - {"Unknown"}
    for point in points:
        assert_fields(point, "RestorePointBase")
        assert ISO_UTC.match(point["creationTimeUtc"])
    assert api.ok("GET", f"/restorePoints/{points[0]['id']}") == points[0]


@pytest.mark.parametrize(
    ("point_type", "path", "schema"),
    [
        ("Backup", "backups", "BackupRestorePoint"),
        ("BackupSnapshot", "backupSnapshots", "BackupSnapshot"),
        ("UserSnapshot", "userSnapshots", "UserSnapshot"),
        ("PdSnapshot", "protectionDomainSnapshots", "ProtectionDomainSnapshot"),
    ],
)
def test_typed_restore_point_details(api, point_type, path, schema):
    points = api.get_all("/restorePoints")
    point = next(p for p in points if p["type"] == point_type)
    detail = api.ok("GET", f"/restorePoints/{path}/{point['id']}")
    assert_fields(detail, schema)
    assert {k: detail[k] for k in FIELDS["RestorePointBase"]} == point
    other = next(p for p in points if p["type"] != point_type)
    assert api.get(f"/restorePoints/{path}/{other['id']}").status_code == 404


def test_backup_detail_has_v6_cluster_and_no_size(api):
    app_db = api.vm("PROD-AHV-01", "app-db-01")
    point = api.points(app_db["id"], "Backup")[0]
    detail = api.ok("GET", f"/restorePoints/backups/{point['id']}")
    assert detail["clusterId"] == app_db["clusterId"]
    assert detail["vmId"] == app_db["id"]
    assert "backupSizeBytes" not in detail
    assert detail["isCorrupted"] is False


def test_pd_snapshot_lists_several_vms(api):
    points = api.get_all("/restorePoints")
    pd_point = next(p for p in points if p["type"] == "PdSnapshot")
    detail = api.ok("GET", f"/restorePoints/protectionDomainSnapshots/{pd_point['id']}")
    assert detail["pdName"] == "pd-sql"
    assert len(detail["vmIds"]) == 3


def test_restore_point_disks_and_adapters(api):
    app_db = api.vm("PROD-AHV-01", "app-db-01")
    point = api.points(app_db["id"], "Backup")[0]
    disks = api.ok("GET", f"/restorePoints/{point['id']}/disks")
    assert isinstance(disks, list)
    assert len(disks) == 3
    for disk in disks:
        assert_fields(disk, "Disk")
    adapters = api.ok("GET", f"/restorePoints/{point['id']}/networkAdapters")
    assert isinstance(adapters, list)
    assert [a["macAddress"] for a in adapters] == [
        n["macAddress"] for n in app_db["networkAdapters"]
    ]
    for adapter in adapters:
        assert_fields(adapter, "NetworkAdapter")


@pytest.mark.parametrize("point_type", ["UserSnapshot", "PdSnapshot", "VolumeGroupSnapshot"])
def test_network_adapters_only_for_backups(api, point_type):
    point = next(p for p in api.get_all("/restorePoints") if p["type"] == point_type)
    response = api.get(f"/restorePoints/{point['id']}/networkAdapters")
    assert response.status_code == 400


def test_sessions_page_and_detail(api):
    sessions = api.get_all("/sessions")
    results = {s["result"] for s in sessions}
    assert {"Success", "Warning", "Error"} <= results
    for summary in sessions:
        assert_fields(summary, "SessionBaseInfo")
        assert summary["sessionType"] in ENUMS["SessionType"]
        assert summary["state"] in ENUMS["SessionState"]
        assert summary["result"] in ENUMS["SessionResult"]
    detail = api.ok("GET", f"/sessions/{sessions[0]['id']}")
    assert_fields(detail, "Session")
    assert set(detail["context"]) == FIELDS["SessionContext"]
    progress = detail["progressState"]
    assert set(progress) == FIELDS["SessionProgressState"]
    for name in ("transferred", "read", "processed"):
        assert set(progress[name]) == FIELDS["DataValue"]
    for event in progress["events"]:
        assert set(event) == FIELDS["ProgressEvent"]
        assert event["severity"] in ENUMS["EventSeverity"]


def test_jobs_page_detail_and_settings(api):
    jobs = api.get_all("/jobs")
    assert {j["mode"] for j in jobs} == {"Backup", "Snapshot", "PdSnapshot"}
    for job in jobs:
        assert_fields(job, "Job")
        assert job["status"] in ENUMS["JobStatus"]
        assert api.ok("GET", f"/jobs/{job['id']}") == job
        settings = api.ok("GET", f"/jobs/{job['id']}/settings")
        assert settings == job["settings"]
        assert settings["name"] == job["name"]
        assert "clusterId" in settings
        assert "retentionSettings" in settings
        assert "scheduleSettings" in settings
        assert "vmIds" not in settings


def test_backup_server_and_repositories(api):
    server = api.ok("GET", "/backupServer")
    assert set(server) == FIELDS["BackupServer"]
    assert server["state"] in ENUMS["ServerState"]
    repositories = assert_page(api.ok("GET", "/backupServer/repositories"))
    assert server["repositoriesCount"] == len(repositories)
    for repository in repositories:
        assert set(repository) == FIELDS["BackupRepository"]
        assert api.ok("GET", f"/backupServer/repositories/{repository['id']}") == repository


def test_empty_dataset_has_no_clusters(api, control):
    control.reset("empty")
    api.login()
    assert api.ok("GET", "/clusters") == []
    assert api.ok("GET", "/virtualMachines")["totalCount"] == 0
    assert api.ok("GET", "/restorePoints")["results"] == []
