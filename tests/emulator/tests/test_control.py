"""Control API: request log and redaction, counters, reset, settings and the state dump."""

import pytest

from vbahv_emulator.testing import EmulatorError


def test_request_log_entry_fields(api, control):
    control.clear_requests()
    api.get("/virtualMachines", params={"limit": 5, "offset": 1})
    entries = control.requests()
    assert len(entries) == 1
    entry = entries[0]
    assert set(entry) == {
        "seq",
        "time",
        "method",
        "path",
        "query",
        "status",
        "body",
        "contentType",
        "authenticated",
        "faultId",
    }
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v7/virtualMachines"
    assert entry["query"] == {"limit": ["5"], "offset": ["1"]}
    assert entry["status"] == 200
    assert entry["authenticated"] is True
    assert entry["faultId"] is None
    assert entry["time"].endswith("Z")


def test_log_redacts_secrets(anon, emulator, control):
    form = {"grantType": "Password", "userName": emulator.username, "password": emulator.password}
    tokens = anon.post("/api/oauth2/token", data=form).json()
    refresh = {"grantType": "RefreshToken", "refreshToken": tokens["refreshToken"]}
    anon.post("/api/v7/token", data=refresh)
    login, renewal = control.requests(method="POST", path="token")
    assert login["body"] == {
        "grantType": "Password",
        "userName": emulator.username,
        "password": "***",
    }
    assert login["contentType"] == "application/x-www-form-urlencoded"
    assert login["authenticated"] is False
    assert renewal["body"]["refreshToken"] == "***"
    for entry in control.requests():
        text = str(entry)
        assert emulator.password not in text
        assert tokens["refreshToken"] not in text
        assert tokens["accessToken"] not in text


def test_log_parses_json_bodies(api, control):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    point = api.points(vm["id"], "Backup")[0]
    body = {"restorePointId": point["id"], "targetVmName": "copy", "reason": "audit"}
    api.post("/restorePoints/restore", json=body)
    entry = control.requests(method="POST", path="/restore$")[-1]
    assert entry["body"] == body
    assert entry["contentType"] == "application/json"
    assert entry["status"] == 200


def test_log_filters_and_clear(api, control):
    api.get("/jobs")
    api.get("/clusters")
    api.post("/backupServer/rescanBackups")
    assert [e["path"] for e in control.requests(method="get", path="^/api/v7/jobs$")] == [
        "/api/v7/jobs"
    ]
    assert all(e["method"] == "POST" for e in control.requests(method="POST"))
    seqs = [e["seq"] for e in control.requests()]
    assert seqs == sorted(seqs)
    control.clear_requests()
    assert control.requests() == []


def test_log_records_unauthenticated_failures(anon, control):
    anon.get("/clusters", token=None)
    entry = control.requests(path="/clusters$")[-1]
    assert entry["status"] == 401
    assert entry["authenticated"] is False


def test_counters_by_route_and_status(api, control):
    cluster = api.cluster("PROD-AHV-01")
    api.get(f"/clusters/{cluster['id']}/vms")
    api.get(f"/clusters/{cluster['id']}/vms")
    api.get("/nope")
    counters = control.counters()
    assert counters["byRoute"]["GET /api/v7/clusters/{id}/vms"] == 2
    assert counters["byRoute"]["POST /api/oauth2/token"] == 1
    assert counters["byRoute"]["GET (unmatched)"] == 1
    assert counters["byStatus"]["404"] == 1
    assert counters["total"] == sum(counters["byStatus"].values())


def test_reset_restores_start_up(api, control):
    control.set_config(maxPageSize=3, sessionDuration=9)
    control.add_fault(path="/jobs", status=500, count=-1)
    control.reset()
    config = control.config()
    assert config["maxPageSize"] == 500
    assert config["sessionDuration"] == 0.5
    assert control.faults() == []
    assert control.requests() == []
    assert api.get("/jobs").status_code == 401


def test_reset_drops_created_objects(api, control):
    cluster = api.cluster("DR-AHV-01")
    control.add_nutanix_vm(cluster["id"], name="temporary")
    summary = control.reset("default")
    assert summary["vms"] == 39
    dump = control.state()
    names = {vm["name"] for c in dump["clusters"] for vm in c["nutanixVms"]}
    assert "temporary" not in names


def test_config_round_trip(control):
    config = control.set_config(
        accessTokenLifetime=60,
        refreshTokenLifetime=120,
        maxPageSize=50,
        sessionDurations={"RestoreVm": 2},
        sessionOutcomes={"RestoreVm": {"result": "Warning", "message": "m"}},
    )
    assert config["accessTokenLifetime"] == 60
    assert config["maxPageSize"] == 50
    assert config["sessionDurations"] == {"RestoreVm": 2}
    assert config["sessionOutcomes"]["RestoreVm"] == {"result": "Warning", "message": "m"}
    assert control.config() == config


@pytest.mark.parametrize(
    "settings",
    [
        {"maxPageSize": 0},
        {"accessTokenLifetime": -1},
        {"sessionDurations": {"NoSuchType": 1}},
        {"sessionOutcomes": {"RestoreVm": {"result": "Fine"}}},
        {"colour": "red"},
    ],
)
def test_invalid_config_rejected(control, settings):
    with pytest.raises(EmulatorError, match="400"):
        control.set_config(**settings)


def test_state_dump_sections(control):
    dump = control.state()
    assert {"clusters", "restorePoints", "jobs", "sessions", "tokens"} <= set(dump)
    assert len(dump["clusters"]) == 3
    assert len(dump["restorePoints"]) == 43
    assert len(dump["jobs"]) == 4
    assert all("effectPending" in s for s in dump["sessions"])


def test_reset_with_dataset_dict(api, control):
    dataset = {
        "clusters": [
            {
                "id": "c1",
                "name": "TINY",
                "networks": [{"id": "n1", "name": "VM-Network"}],
                "storageContainers": [{"id": "s1", "name": "default-container"}],
                "vms": [
                    {
                        "id": "vm1",
                        "name": "only-vm",
                        "disks": [{"id": "d1", "busType": "Scsi", "index": 0, "size": 1024}],
                    }
                ],
                "pendingVms": [{"id": "vm2", "name": "pending-vm"}],
            }
        ],
        "restorePoints": [
            {
                "id": "rp1",
                "type": "Backup",
                "creationTimeUtc": "2026-10-01T00:00:00Z",
                "clusterId": "c1",
                "vms": [{"id": "vm1", "name": "only-vm"}],
            }
        ],
    }
    summary = control.reset(dataset)
    assert summary["clusters"] == 1
    api.login()
    assert [vm["name"] for vm in api.get_all("/clusters/c1/vms")] == ["only-vm"]
    assert api.ok("GET", "/restorePoints/backups/rp1")["vmId"] == "vm1"
    rescan = api.ok("POST", "/clusters/c1/vms/refreshAsync", status=202)
    api.wait_session(rescan["sessionId"])
    assert sorted(vm["name"] for vm in api.get_all("/clusters/c1/vms")) == ["only-vm", "pending-vm"]


@pytest.mark.parametrize(
    "dataset",
    [
        {"clusters": [{"name": "no id"}]},
        {
            "clusters": [],
            "restorePoints": [
                {
                    "id": "r",
                    "type": "Backup",
                    "creationTimeUtc": "2026-10-01T00:00:00Z",
                    "clusterId": "nope",
                    "vms": [{"id": "v", "name": "v"}],
                }
            ],
        },
        {"clusters": [], "widgets": []},
        "huge",
    ],
)
def test_invalid_dataset_rejected(control, dataset):
    with pytest.raises(EmulatorError, match="400"):
        control.reset(dataset)


def test_control_posts_accept_empty_body(emulator, control):
    url = emulator.control_url
    response = control.session.post(f"{url}/reset", verify=emulator.ca_path)
    assert response.status_code == 200
    assert response.json()["clusters"] == 3
    cluster_id = control.state()["clusters"][0]["id"]
    created = control.session.post(
        f"{url}/nutanix/clusters/{cluster_id}/vms", verify=emulator.ca_path
    )
    assert created.status_code == 201
    assert created.json()["name"].startswith("new-vm-")
