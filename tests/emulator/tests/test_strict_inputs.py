"""Strict input handling: unknown paths, methods, ids, parameters and malformed bodies."""

import pytest
from emu_helpers import assert_problem

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_unknown_path_is_404(api):
    body = assert_problem(api.get("/nonexistent"), 404)
    assert body["title"] == "Not Found"


def test_unknown_api_version_is_404(api):
    assert_problem(api.get("/api/v6/clusters"), 404)


def test_unknown_path_outside_api_is_404(api):
    assert_problem(api.get("/index.html", token=None), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/jobs", "GET"),
        ("DELETE", "/clusters", "GET"),
        ("GET", "/restorePoints/restore/extra", None),
        ("GET", "/api/oauth2/logout", "POST"),
        ("PATCH", "/sessions", "GET"),
    ],
)
def test_wrong_method_is_405(api, method, path, allowed):
    response = api.request(method, path)
    if allowed is None:
        assert_problem(response, 404)
        return
    assert_problem(response, 405)
    assert allowed in response.headers["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        f"/clusters/{UNKNOWN}",
        f"/clusters/{UNKNOWN}/vms",
        f"/clusters/{UNKNOWN}/networks",
        f"/clusters/{UNKNOWN}/hosts",
        f"/clusters/{UNKNOWN}/storageContainers",
        f"/clusters/{UNKNOWN}/protectionDomains",
        f"/clusters/{UNKNOWN}/volumeGroups",
        f"/restorePoints/{UNKNOWN}",
        f"/restorePoints/{UNKNOWN}/disks",
        f"/restorePoints/{UNKNOWN}/networkAdapters",
        f"/restorePoints/backups/{UNKNOWN}",
        f"/restorePoints/backupSnapshots/{UNKNOWN}",
        f"/restorePoints/userSnapshots/{UNKNOWN}",
        f"/restorePoints/protectionDomainSnapshots/{UNKNOWN}",
        f"/protectedVms/{UNKNOWN}/restorePoints",
        f"/sessions/{UNKNOWN}",
        f"/jobs/{UNKNOWN}",
        f"/jobs/{UNKNOWN}/settings",
        f"/backupServer/repositories/{UNKNOWN}",
    ],
)
def test_unknown_ids_are_404(api, path):
    body = assert_problem(api.get(path), 404)
    assert UNKNOWN in body["detail"]


def test_unknown_vm_and_volume_group_are_404(api):
    cluster = api.cluster("PROD-AHV-01")
    assert_problem(api.get(f"/clusters/{cluster['id']}/vms/{UNKNOWN}"), 404)
    assert_problem(api.get(f"/clusters/{cluster['id']}/volumeGroups/{UNKNOWN}"), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/jobs/{UNKNOWN}/start"),
        ("POST", f"/jobs/{UNKNOWN}/stop"),
        ("POST", f"/jobs/{UNKNOWN}/enable"),
        ("POST", f"/jobs/{UNKNOWN}/disable"),
        ("POST", f"/sessions/{UNKNOWN}/stop"),
        ("DELETE", f"/restorePoints/{UNKNOWN}/delete"),
        ("POST", f"/clusters/{UNKNOWN}/vms/refreshAsync"),
        ("POST", f"/clusters/{UNKNOWN}/rescanSnapshots"),
        ("POST", f"/clusters/{UNKNOWN}/protectionDomains/refresh"),
        ("POST", f"/clusters/{UNKNOWN}/volumeGroups/refresh"),
    ],
)
def test_actions_on_unknown_ids_are_404(api, method, path):
    assert_problem(api.request(method, path), 404)


@pytest.mark.parametrize(
    ("method", "path_template"),
    [
        ("POST", "/jobs/{job}/enable"),
        ("POST", "/jobs/{job}/start"),
        ("POST", "/clusters/{cluster}/vms/refreshAsync"),
        ("POST", "/backupServer/rescanBackups"),
        ("GET", "/clusters"),
    ],
)
def test_body_on_bodyless_action_is_400(api, method, path_template):
    job = api.ok("GET", "/jobs")["results"][0]
    cluster = api.cluster("PROD-AHV-01")
    path = path_template.format(job=job["id"], cluster=cluster["id"])
    body = assert_problem(api.request(method, path, json={"force": True}), 400)
    assert "body" in body["errors"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/jobs/{job}/start", {"backupMode": "Full"}, "backupMode"),
        ("/jobs/{job}/start", {"mode": "ActiveFullBackup"}, "mode"),
        ("/restorePoints/{point}/delete", {"deleteFromServer": "yes"}, "deleteFromServer"),
        ("/restorePoints/{point}/delete", {"force": "true"}, "force"),
    ],
)
def test_bad_action_query_is_400(api, path, params, field):
    job = next(j for j in api.ok("GET", "/jobs")["results"] if j["enabled"])
    point = api.ok("GET", "/restorePoints")["results"][0]
    method = "DELETE" if "delete" in path else "POST"
    response = api.request(method, path.format(job=job["id"], point=point["id"]), params=params)
    body = assert_problem(response, 400)
    assert field in body["errors"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "last week"}, "from"), ({"to": "2026-13-01"}, "to"), ({"since": "x"}, "since")],
)
def test_bad_session_query_is_400(api, params, field):
    body = assert_problem(api.get("/sessions", params=params), 400)
    assert field in body["errors"]


def test_sessions_from_to_window(api):
    params = {"from": "2026-10-31T00:00:00Z", "to": "2026-10-31T23:59:59Z", "limit": -1}
    sessions = api.ok("GET", "/sessions", params=params)["results"]
    assert sessions
    assert all(s["startTimeUtc"].startswith("2026-10-31") for s in sessions)
    everything = api.ok("GET", "/sessions", params={"limit": -1})["totalCount"]
    assert len(sessions) < everything


def test_restore_points_query_by_vm_and_cluster(api):
    app_db = api.vm("PROD-AHV-01", "app-db-01")
    by_vm = api.ok("GET", "/restorePoints", params={"vmId": app_db["id"]})
    assert by_vm["totalCount"] == 7
    prod2 = api.cluster("PROD-AHV-02")
    both = api.ok("GET", "/restorePoints", params={"vmId": app_db["id"], "clusterId": prod2["id"]})
    assert both["totalCount"] == 0
    by_cluster = api.ok("GET", "/restorePoints", params={"clusterId": prod2["id"], "limit": -1})
    assert by_cluster["totalCount"] == 4
    unknown = api.ok("GET", "/restorePoints", params={"vmId": UNKNOWN})
    assert unknown["totalCount"] == 0


# --- JSON bodies ------------------------------------------------------------------------------


def restore_point_of(api, vm_name="app-db-01", cluster="PROD-AHV-01", point_type="Backup"):
    vm = api.vm(cluster, vm_name)
    return vm, api.points(vm["id"], point_type)[0]


def test_json_body_needs_json_content_type(api):
    _vm, point = restore_point_of(api)
    body = f'{{"restorePointId": "{point["id"]}", "restoreToOriginal": true}}'
    response = api.post("/restorePoints/restore", data=body, headers={"Content-Type": "text/plain"})
    problem = assert_problem(response, 400)
    assert "Content-Type" in problem["errors"]


def test_empty_json_body_is_400(api):
    response = api.post(
        "/restorePoints/restore", data=b"", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400)


def test_malformed_json_body_is_400(api):
    response = api.post(
        "/restorePoints/restore",
        data=b"{restorePointId:",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"restorePointId": None}, "restorePointId"),
        ({"preserveOriginalVmId": True}, "preserveOriginalVmId"),
        ({"restoreToOriginal": "true"}, "restoreToOriginal"),
        ({"powerOnVmAfterRestore": 1}, "powerOnVmAfterRestore"),
        ({"networkAdapters": {"macAddress": "x"}}, "networkAdapters"),
        ({"networkAdapters": [{"macAddress": "x"}]}, "networkAdapters[0].value"),
        ({"networkAdapters": [{"value": {"networkId": 5}}]}, "networkAdapters[0].value.networkId"),
        ({"reason": ["a"]}, "reason"),
        ({"restoreVmCategories": False}, "restoreVmCategories"),
    ],
)
def test_restore_settings_schema_errors(api, change, field):
    _vm, point = restore_point_of(api)
    body = {"restorePointId": point["id"], "restoreToOriginal": True, **change}
    body = {k: v for k, v in body.items() if v is not None}
    problem = assert_problem(api.post("/restorePoints/restore", json=body), 400)
    assert field in problem["errors"], problem["errors"]


def test_restore_body_must_be_object(api):
    problem = assert_problem(api.post("/restorePoints/restore", json=["x"]), 400)
    assert problem["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"diskSettings": []}, "diskSettings"),
        ({"targetVmId": None}, "targetVmId"),
        (
            {"diskSettings": [{"diskId": "d", "busType": "Nvme", "index": 0}]},
            "diskSettings[0].busType",
        ),
        (
            {"diskSettings": [{"diskId": "d", "busType": "Scsi", "index": -1}]},
            "diskSettings[0].index",
        ),
        (
            {"diskSettings": [{"diskId": "d", "busType": "Scsi", "index": 2**31}]},
            "diskSettings[0].index",
        ),
        ({"diskSettings": [{"diskId": "d", "busType": "Scsi"}]}, "diskSettings[0].index"),
        ({"targetVmClusterId": "x"}, "targetVmClusterId"),
    ],
)
def test_disk_restore_schema_errors(api, change, field):
    vm, point = restore_point_of(api)
    body = {
        "sourceVmId": vm["id"],
        "targetVmId": vm["id"],
        "restorePointId": point["id"],
        "diskSettings": [{"diskId": vm["disks"][0]["id"], "busType": "Scsi", "index": 0}],
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    problem = assert_problem(api.post("/restorePoints/diskRestore", json=body), 400)
    assert field in problem["errors"], problem["errors"]
