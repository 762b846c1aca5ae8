"""The default dataset's notable objects, determinism, and the dataset generator."""

import json
import time
from collections import Counter

from emu_helpers import ApiClient

from vbahv_emulator.generator import HOSTILE_NAMES
from vbahv_emulator.testing import EmulatorProcess


def test_notable_vms(api):
    vms = api.get_all("/virtualMachines")
    by_name = Counter((vm["name"], vm["clusterName"]) for vm in vms)
    assert by_name[("app-db-01", "PROD-AHV-01")] == 1
    assert by_name[("web-frontend", "PROD-AHV-01")] == 2
    assert by_name[("ops-jumpbox", "PROD-AHV-01")] == 1
    assert by_name[("ops-jumpbox", "PROD-AHV-02")] == 1
    assert by_name[("Überwachung-監視-01", "PROD-AHV-01")] == 1
    assert Counter(vm["clusterName"] for vm in vms) == {
        "PROD-AHV-01": 16,
        "PROD-AHV-02": 13,
        "DR-AHV-01": 10,
    }


def test_disk_and_nic_variety(api):
    vms = api.get_all("/virtualMachines")
    buses = {d["busType"] for vm in vms for d in vm["disks"]}
    assert buses == {"Scsi", "Ide", "Sata", "Pci"}
    assert sum(d["isCdrom"] for vm in vms for d in vm["disks"]) == 1
    assert all(1 <= len([d for d in vm["disks"] if not d["isVolumeGroup"]]) <= 4 for vm in vms)
    assert all(1 <= len(vm["networkAdapters"]) <= 2 for vm in vms)
    assert all(vm["guestOsVersion"] for vm in vms)
    assert all(
        n["ipAddresses"]
        for vm in vms
        for n in vm["networkAdapters"]
        if n["networkName"] == "VM-Network"
    )


def test_app_db_01_protection(api):
    vm = api.vm("PROD-AHV-01", "app-db-01")
    types = Counter(p["type"] for p in api.points(vm["id"]))
    assert types == {"Backup": 4, "BackupSnapshot": 2, "UserSnapshot": 1}


def test_unprotected_vms(api):
    protected = {vm["id"] for vm in api.get_all("/protectedVms")}
    unprotected = {
        vm["name"] for vm in api.get_all("/virtualMachines") if vm["id"] not in protected
    }
    assert {"test-sandbox-01", "build-agent-01", "k8s-worker-01", "dr-sandbox"} <= unprotected
    assert "app-db-01" not in unprotected


def test_exactly_one_corrupted_backup(api):
    backups = [p for p in api.get_all("/restorePoints") if p["type"] == "Backup"]
    corrupted = [
        p for p in backups if api.ok("GET", f"/restorePoints/backups/{p['id']}")["isCorrupted"]
    ]
    assert len(corrupted) == 1
    legacy = api.vm("PROD-AHV-01", "legacy-erp")
    assert corrupted[0]["id"] == api.points(legacy["id"], "Backup")[0]["id"]


def test_same_seed_same_dataset(control):
    first = control.state()
    control.reset("default")
    second = control.state()
    for key in ("clusters", "restorePoints", "jobs", "repositories", "backupServer"):
        assert first[key] == second[key], key


def test_other_seed_changes_ids_not_names(tmp_path, control):
    default = control.state()
    with EmulatorProcess(tmp_path / "seeded", args=["--seed", "7"]) as other:
        seeded = other.control.state()
    assert [c["name"] for c in seeded["clusters"]] == [c["name"] for c in default["clusters"]]
    assert {c["id"] for c in seeded["clusters"]}.isdisjoint(c["id"] for c in default["clusters"])
    with EmulatorProcess(tmp_path / "seeded-again", args=["--seed", "7"]) as again:
        assert again.control.state()["clusters"] == seeded["clusters"]


def test_generator_spec(api, control):
    summary = control.generate(
        clusters=2,
        vmsPerCluster=[30, 10],
        restorePointsPerVm=3,
        protectedRatio=0.5,
        duplicateNames=4,
        unicodeNames=True,
        seed=11,
    )
    assert summary["clusters"] == 2
    assert summary["vms"] == 40
    api.login()
    clusters = api.ok("GET", "/clusters")
    assert [c["name"] for c in clusters] == ["GEN-AHV-01", "GEN-AHV-02"]
    first = api.get_all(f"/clusters/{clusters[0]['id']}/vms")
    assert len(first) == 30
    counts = Counter(vm["name"] for vm in first)
    assert sum(1 for count in counts.values() if count == 2) == 4
    assert any(not vm["name"].isascii() for vm in first)
    protected = api.get_all("/protectedVms")
    assert 5 <= len(protected) <= 35
    assert all(p["backups"] == 3 for p in protected)
    assert summary["restorePoints"] == 3 * len(protected)
    for cluster in clusters:
        names = {n["name"] for n in api.ok("GET", f"/clusters/{cluster['id']}/networks")}
        assert names == {"VM-Network", "Isolated-Restore"}


def test_generator_is_deterministic(control):
    control.generate(clusters=1, vmsPerCluster=20, seed=5)
    first = control.state()["clusters"]
    control.generate(clusters=1, vmsPerCluster=20, seed=5)
    assert control.state()["clusters"] == first
    control.generate(clusters=1, vmsPerCluster=20, seed=6)
    assert control.state()["clusters"] != first


def test_hostile_names_round_trip(api, control):
    control.generate(
        clusters=1, vmsPerCluster=len(HOSTILE_NAMES) + 2, hostileNames=True, protectedRatio=1
    )
    api.login()
    names = [vm["name"] for vm in api.get_all("/virtualMachines")]
    for hostile in (
        "{{ lookup('pipe', 'id') }}",
        "{% raw %}",
        "<script>alert('vm')</script>",
        "../../etc/passwd",
    ):
        assert hostile in names
    assert "  leading-and-trailing-spaces  " in names
    assert "v" * 255 in names
    assert any("🚀" in name for name in names)
    expr = {"property": "name", "operation": "Equals", "value": "{{ lookup('pipe', 'id') }}"}
    page = api.ok("GET", "/virtualMachines", params={"filter": json.dumps(expr)})
    assert page["totalCount"] == 1
    protected = {p["name"] for p in api.get_all("/protectedVms")}
    assert "{% raw %}" in protected


def test_dataset_file_at_start_up(tmp_path):
    dataset = {"generate": {"clusters": 1, "vmsPerCluster": 3, "seed": 2}}
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(dataset))
    with EmulatorProcess(tmp_path / "from-file", args=["--dataset", str(path)]) as process:
        state = process.control.state()
    assert [c["name"] for c in state["clusters"]] == ["GEN-AHV-01"]
    assert len(state["clusters"][0]["pluginVms"]) == 3


def test_empty_dataset_at_start_up(tmp_path):
    with EmulatorProcess(tmp_path / "empty", http=True, args=["--dataset", "empty"]) as process:
        client = ApiClient(process)
        client.login()
        assert client.ok("GET", "/clusters") == []


def test_generates_50000_vms_quickly(api, control):
    started = time.monotonic()
    summary = control.generate(
        clusters=10, vmsPerCluster=5000, restorePointsPerVm=1, protectedRatio=1.0
    )
    generate_seconds = time.monotonic() - started
    assert summary["vms"] == 50_000
    assert summary["restorePoints"] == 50_000
    # A few seconds on a 2-core machine; the bound leaves room for a slow CI run.
    assert generate_seconds < 30, f"generation took {generate_seconds:.1f} s"
    api.login()
    cluster = api.ok("GET", "/clusters")[4]
    started = time.monotonic()
    page = api.ok("GET", f"/clusters/{cluster['id']}/vms", params={"offset": 4500, "limit": 500})
    assert time.monotonic() - started < 2
    assert page["totalCount"] == 5000
    assert len(page["results"]) == 500
    started = time.monotonic()
    everything = api.ok("GET", "/virtualMachines", params={"offset": 49_500, "limit": 500})
    assert time.monotonic() - started < 3
    assert everything["totalCount"] == 50_000
    vm = page["results"][0]
    points = api.ok("GET", "/restorePoints", params={"vmId": vm["id"]})
    assert points["totalCount"] == 1


def test_documented_ids_of_default_seed(api):
    """docs/emulator.md lists these ids for the default seed; keep the two in step."""
    clusters = {c["name"]: c["id"] for c in api.ok("GET", "/clusters")}
    assert clusters == {
        "PROD-AHV-01": "fdf68a49-5386-4e00-847c-4a57e9d2463a",
        "PROD-AHV-02": "fe6f0170-2a4b-4dad-9fa2-9dbe55e113fa",
        "DR-AHV-01": "4b3070a9-8a7e-4a5b-a9ec-c87d85c0ba2d",
    }
    assert api.vm("PROD-AHV-01", "app-db-01")["id"] == "d1803701-9ddd-422a-a52e-444d39a559b2"
    legacy = api.vm("PROD-AHV-01", "legacy-erp")
    assert legacy["id"] == "6d4489f4-4d16-4354-be88-33f608f7a493"
    corrupted = api.points(legacy["id"], "Backup")[0]
    assert corrupted["id"] == "53a9ef1c-bb31-47a5-a833-a1ab01ac494c"
    unicode_vm = api.vm("PROD-AHV-01", "Überwachung-監視-01")
    assert unicode_vm["id"] == "af74bf24-d5bc-4ec2-b530-cc08dad8a36c"
