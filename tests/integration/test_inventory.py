"""The vms inventory plugin through ansible-inventory --list, compared with golden files.

Set UPDATE_GOLDEN=1 to rewrite the golden files from the current output, then review
the diff by hand before committing it.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ansible_environment, api_requests

INVENTORY_DIR = Path(__file__).resolve().parent / "inventory"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
HOSTILE_LOOKUP = "{{ lookup('pipe', 'id') }}"


class InventoryRun:
    """Outcome of one ansible-inventory run."""

    def __init__(self, completed: subprocess.CompletedProcess):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    @property
    def data(self) -> dict:
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout)

    @property
    def hostvars(self) -> dict:
        return self.data["_meta"]["hostvars"]

    def group(self, name: str) -> list:
        return self.data.get(name, {}).get("hosts", [])

    def warnings(self) -> str:
        """Return stderr with the line breaks that Ansible adds to long warnings removed.

        ansible-core before 2.19 also breaks lines after a hyphen inside a word, so a
        space after a hyphen between two non-spaces is removed too.
        """
        text = " ".join(self.stderr.split())
        return re.sub(r"(?<=\S)- (?=\S)", "-", text)


@pytest.fixture
def run_inventory(tmp_path, connection_env):
    """Run ansible-inventory --list on a source file, with the emulator in VEEAM_AHV_*."""
    counter = {"runs": 0}

    def runner(source: Path, env: dict | None = None, args=(), connection=True) -> InventoryRun:
        counter["runs"] += 1
        run_dir = tmp_path / f"inventory-run-{counter['runs']}"
        run_dir.mkdir()
        extra = dict(connection_env) if connection else {}
        # A source the plugin cannot parse fails the run instead of leaving it empty.
        extra["ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED"] = "1"
        extra.update(env or {})
        command = [
            str(Path(sys.executable).with_name("ansible-inventory")),
            "-i",
            str(source),
            "--list",
            *args,
        ]
        completed = subprocess.run(
            command,
            env=ansible_environment(run_dir, extra),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=run_dir,
            check=False,
        )
        return InventoryRun(completed)

    return runner


def write_source(tmp_path: Path, name: str, options: dict) -> Path:
    """Write an inventory source file with ``options`` under the test's temp folder."""
    path = tmp_path / f"{name}.veeam_ahv.yml"
    source = {"plugin": "veeam_ahv.backup.vms"}
    source.update(options)
    path.write_text(yaml.safe_dump(source, sort_keys=False), encoding="utf-8")
    return path


def plain(value):
    """Return a --list value with the unsafe markers removed."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def comparable(data: dict) -> dict:
    """Return --list output without the differences between ansible-core versions.

    ansible-core 2.19 and later add ``_meta.profile``. Before 2.19 the host names in
    group lists, which the plugin marks unsafe, are written as unsafe values, and so is a
    number that ``compose`` computes from an unsafe value, such as ``name_length``.
    """
    data = json.loads(json.dumps(data))
    data["_meta"].pop("profile", None)
    for name, group in data.items():
        if name != "_meta" and "hosts" in group:
            group["hosts"] = [plain(host) for host in group["hosts"]]
    for hostvars in data["_meta"].get("hostvars", {}).values():
        if "name_length" in hostvars:
            hostvars["name_length"] = composed_number(hostvars["name_length"])
    return data


def composed_number(value):
    """Return a number computed by compose, which ansible-core before 2.19 writes as text."""
    text = plain(value)
    return int(text) if isinstance(text, str) and text.isdigit() else text


def assert_golden(name: str, run: InventoryRun) -> None:
    """Compare the --list output with inventory/<name>.json, or rewrite it with UPDATE_GOLDEN=1.

    The golden files are written by the ansible-core version in tests/requirements.txt.
    """
    golden = INVENTORY_DIR / f"{name}.json"
    actual = run.data
    if UPDATE_GOLDEN:
        text = json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to create it."
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert comparable(actual) == comparable(expected), f"--list output differs from {golden.name}"


def source_file(name: str) -> Path:
    return INVENTORY_DIR / f"{name}.veeam_ahv.yml"


def unsafe(value: str) -> dict:
    """Return a string as ansible-inventory --list writes an unsafe (untrusted) value."""
    return {"__ansible_unsafe": value}


def cluster_by_name(direct_api, name: str) -> dict:
    return next(cluster for cluster in direct_api.get("/clusters") if cluster["name"] == name)


# --- Golden output ----------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 4])
def test_default_dataset_golden(run_inventory, emulator, tmp_path, workers):
    source = write_source(tmp_path, f"workers-{workers}", {"max_workers": workers})

    run = run_inventory(source)

    assert run.returncode == 0, run.stderr
    assert_golden("default", run)
    assert len(run.hostvars) == 39


def test_host_variables_match_api(run_inventory, emulator, direct_api):
    clusters = direct_api.get("/clusters")
    vms = [vm for c in clusters for vm in direct_api.get_all(f"/clusters/{c['id']}/vms")]
    protected = {row["id"]: row for row in direct_api.get_all("/protectedVms")}

    run = run_inventory(source_file("env-only"))

    hosts_by_id = {plain(host["veeam_ahv_id"]): plain(host) for host in run.hostvars.values()}
    assert len(hosts_by_id) == len(vms) == len(run.hostvars)
    for vm in vms:
        host = hosts_by_id[vm["id"]]
        row = protected.get(vm["id"])
        assert host["veeam_ahv_name"] == vm["name"]
        assert host["veeam_ahv_cluster_id"] == vm["clusterId"]
        assert host["veeam_ahv_protection_domain"] == vm["protectionDomain"]
        assert host["veeam_ahv_guest_os_version"] == vm["guestOsVersion"]
        assert len(host["veeam_ahv_disks"]) == len(vm["disks"])
        assert host["veeam_ahv_protected"] is (row is not None)
        if row is not None:
            assert host["veeam_ahv_restore_point_count"] == row["backups"] + row["snapshots"]
            assert host["veeam_ahv_last_restore_point_id"] == row["lastRestorePointId"]
            assert host["veeam_ahv_last_restore_point_time"] == row["lastProtectionDateUtc"]


def test_environment_only_source(run_inventory, emulator):
    # The source file contains only the plugin name, as with an AWX credential type.
    assert source_file("env-only").read_text(encoding="utf-8") == "plugin: veeam_ahv.backup.vms\n"

    run = run_inventory(source_file("env-only"))

    assert run.returncode == 0, run.stderr
    assert_golden("default", run)


def test_empty_environment_variables_unset(run_inventory, emulator):
    # An AWX credential injects every field, so an unused one arrives empty.
    empty = {"VEEAM_AHV_API_VERSION": "", "VEEAM_AHV_TIMEOUT": " ", "VEEAM_AHV_ACCESS_TOKEN": ""}

    run = run_inventory(source_file("env-only"), env=empty)

    assert run.returncode == 0, run.stderr
    assert len(run.hostvars) == 39


def test_invalid_validate_certs_rejected(run_inventory, emulator, tmp_path):
    # Read as false, "ture" would turn TLS validation off and ignore the missing CA file.
    env = {"VEEAM_AHV_VALIDATE_CERTS": "ture", "VEEAM_AHV_CA_PATH": str(tmp_path / "none.pem")}

    run = run_inventory(source_file("env-only"), env=env)

    assert run.returncode != 0
    assert "validate_certs must be a boolean" in run.warnings()
    assert "got 'ture' from VEEAM_AHV_VALIDATE_CERTS" in run.warnings()
    assert api_requests(emulator) == []


def test_page_edges_golden(run_inventory, emulator):
    # Clusters hold 0, 1, cap - 1, cap and cap + 1 VMs for a server page cap of 5.
    emulator.control.generate(clusters=5, vmsPerCluster=[0, 1, 4, 5, 6], seed=5)
    emulator.control.set_config(maxPageSize=5)

    run = run_inventory(source_file("env-only"))

    assert_golden("page-edges", run)
    counts = {name: len(run.group(name)) for name in run.data if "_cluster_" in name}
    assert counts == {
        "veeam_ahv_cluster_GEN_AHV_02": 1,
        "veeam_ahv_cluster_GEN_AHV_03": 4,
        "veeam_ahv_cluster_GEN_AHV_04": 5,
        "veeam_ahv_cluster_GEN_AHV_05": 6,
    }


def test_page_edges_small_pages(run_inventory, emulator):
    emulator.control.generate(clusters=5, vmsPerCluster=[0, 1, 4, 5, 6], seed=5)
    emulator.control.set_config(maxPageSize=5)

    run = run_inventory(source_file("small-pages"))

    assert_golden("page-edges", run)
    vm_pages = api_requests(emulator, "GET", r"/api/v7/clusters/[^/]+/vms")
    # Pages of 2: 1 (empty), 1, 2, 3 and 3 requests.
    assert len(vm_pages) == 10
    assert {entry["query"]["limit"][0] for entry in vm_pages} == {"2"}


def test_page_edges_cap_fifty(run_inventory, emulator, direct_api):
    cap = 50
    counts = [0, 1, cap - 1, cap, cap + 1]
    emulator.control.generate(clusters=5, vmsPerCluster=counts, seed=50)
    emulator.control.set_config(maxPageSize=cap)
    vm_counts = {
        cluster["id"]: len(direct_api.get_all(f"/clusters/{cluster['id']}/vms"))
        for cluster in direct_api.get("/clusters")
    }
    emulator.control.clear_requests()

    run = run_inventory(source_file("env-only"))

    assert len(run.hostvars) == sum(counts)
    for number, count in enumerate(counts, start=1):
        assert len(run.group(f"veeam_ahv_cluster_GEN_AHV_{number:02d}")) == count
    assert sorted(vm_counts.values()) == counts
    for cluster_id, count in vm_counts.items():
        pages = api_requests(emulator, "GET", rf"/api/v7/clusters/{cluster_id}/vms")
        assert len(pages) == max(1, math.ceil(count / cap))


def test_broken_hostnames_entry_warns_once(run_inventory, emulator, tmp_path):
    source = write_source(tmp_path, "broken", {"hostnames": ["name +"]})

    run = run_inventory(source)

    assert len(run.hostvars) == 39
    assert run.warnings().count("The hostnames entry 'name +' failed for 39 VM(s)") == 1


def test_unknown_hostnames_field_strict_error(run_inventory, emulator, tmp_path):
    source = write_source(tmp_path, "unknown", {"hostnames": ["nosuchfield"], "strict": True})

    run = run_inventory(source)

    assert run.returncode != 0
    assert "The hostnames entry 'nosuchfield' is not a field of any VM" in run.warnings()


def test_duplicate_names_golden(run_inventory, emulator):
    emulator.control.generate(clusters=2, vmsPerCluster=[6, 3], duplicateNames=2, seed=21)

    run = run_inventory(source_file("env-only"))

    assert_golden("duplicates", run)
    assert len(run.hostvars) == 9
    assert "host name(s) are shared by several VMs: 'vm-01-00000' (2 VMs:" in run.warnings()


def test_duplicate_names_strict_error(run_inventory, emulator):
    emulator.control.generate(clusters=2, vmsPerCluster=[6, 3], duplicateNames=2, seed=21)

    run = run_inventory(source_file("strict"))

    assert run.returncode != 0
    assert "shared by several VMs: 'vm-01-00000'" in run.warnings()
    assert "The inventory was not loaded because strict is true" in run.warnings()


def test_hostile_names_golden(run_inventory, emulator):
    emulator.control.generate(
        clusters=1, vmsPerCluster=24, hostileNames=True, unicodeNames=True, seed=13
    )

    run = run_inventory(source_file("constructed"))

    assert_golden("hostile", run)
    assert len(run.hostvars) == 24


def test_hostile_names_not_rendered(run_inventory, emulator):
    emulator.control.generate(
        clusters=1, vmsPerCluster=24, hostileNames=True, unicodeNames=True, seed=13
    )

    run = run_inventory(source_file("constructed"))

    host = run.hostvars["vm-" + HOSTILE_LOOKUP]
    assert host["veeam_ahv_name"] == unsafe(HOSTILE_LOOKUP)
    assert host["copied_name"] == unsafe(HOSTILE_LOOKUP)
    assert composed_number(host["name_length"]) == len(HOSTILE_LOOKUP)
    assert run.hostvars["vm-{{ 7 * 7 }}"]["copied_name"] == unsafe("{{ 7 * 7 }}")
    braces = [plain(name) for name in run.group("braces_in_name")]
    assert "vm-{{ lookup('pipe', 'id') }}" in braces
    assert "vm-{{ 7 * 7 }}" in braces
    # The output of the id command would start with "uid=" had the lookup run.
    assert "uid=" not in run.stdout
    assert "uid=" not in run.stderr
    assert "vm-49" not in run.hostvars


def test_warning_escapes_control_characters(run_inventory, emulator):
    # Eight pairs make the hostile name "tab\tand\nnewline" one of the shared names.
    emulator.control.generate(clusters=1, vmsPerCluster=16, hostileNames=True, duplicateNames=8)

    run = run_inventory(source_file("env-only"))

    assert run.returncode == 0, run.stderr
    assert "tab\tand\nnewline" not in run.stderr
    assert "'tab\\tand\\nnewline' (2 VMs:" in run.warnings()


def test_unicode_names_kept(run_inventory, emulator):
    emulator.control.generate(clusters=1, vmsPerCluster=24, unicodeNames=True, seed=13)

    run = run_inventory(source_file("env-only"))

    names = {plain(host["veeam_ahv_name"]) for host in run.hostvars.values()}
    assert "監視サーバー-00013" in names
    assert "監視サーバー-00013" in run.hostvars


def minimal_cluster(number: int, name: str) -> dict:
    """Build a dataset cluster with one VM, for the emulator's reset."""
    cluster_id = f"00000000-0000-4000-8000-{number:012d}"
    return {
        "id": cluster_id,
        "name": name,
        "networks": [{"id": f"00000000-0000-4000-9000-{number:012d}", "name": "VM-Network"}],
        "storageContainers": [
            {"id": f"00000000-0000-4000-a000-{number:012d}", "name": "default-container"}
        ],
        "vms": [
            {
                "id": f"00000000-0000-4000-b000-{number:012d}",
                "name": f"vm-{number}",
                "clusterId": cluster_id,
                "clusterName": name,
                "disks": [],
                "networkAdapters": [],
            }
        ],
    }


def test_clusters_sharing_group_warning(run_inventory, emulator):
    names = ["PROD-AHV-01", "PROD_AHV_01", "PROD AHV 01"]
    clusters = [minimal_cluster(number, name) for number, name in enumerate(names, start=1)]
    emulator.control.reset({"clusters": clusters})

    run = run_inventory(source_file("env-only"))

    hosts = sorted(plain(host) for host in run.group("veeam_ahv_cluster_PROD_AHV_01"))
    assert hosts == ["vm-1", "vm-2", "vm-3"]
    warning = "The default group 'veeam_ahv_cluster_PROD_AHV_01' contains the VMs of 3 clusters"
    assert run.warnings().count(warning) == 1
    assert "'PROD AHV 01' (00000000-0000-4000-8000-000000000003)" in run.warnings()


# --- A cluster that fails ---------------------------------------------------------------------


def fail_cluster(emulator, direct_api, name: str) -> dict:
    cluster = cluster_by_name(direct_api, name)
    emulator.control.add_fault(
        method="GET", path=rf"^/api/v7/clusters/{cluster['id']}/vms$", status=500, count=-1
    )
    return cluster


def test_failing_cluster_warning_golden(run_inventory, emulator, direct_api):
    emulator.control.generate(clusters=3, vmsPerCluster=3, seed=31)
    cluster = fail_cluster(emulator, direct_api, "GEN-AHV-02")

    run = run_inventory(source_file("env-only"))

    assert run.returncode == 0, run.stderr
    assert_golden("failing-cluster", run)
    assert f"Reading the VMs of cluster 'GEN-AHV-02' ({cluster['id']}) failed" in run.warnings()
    assert "HTTP 500" in run.warnings()
    assert len(run.group("veeam_ahv_cluster_GEN_AHV_01")) == 3
    assert len(run.group("veeam_ahv_cluster_GEN_AHV_03")) == 3
    assert "veeam_ahv_cluster_GEN_AHV_02" not in run.data


def test_failing_cluster_strict_error(run_inventory, emulator, direct_api):
    emulator.control.generate(clusters=3, vmsPerCluster=3, seed=31)
    cluster = fail_cluster(emulator, direct_api, "GEN-AHV-02")

    run = run_inventory(source_file("strict"))

    assert run.returncode != 0
    assert f"Reading the VMs of cluster 'GEN-AHV-02' ({cluster['id']}) failed" in run.warnings()
    assert "The inventory was not loaded because strict is true" in run.warnings()
    assert len(api_requests(emulator, "POST", r"/api/oauth2/logout")) == 1


def test_failing_protected_list_warning(run_inventory, emulator):
    emulator.control.generate(clusters=2, vmsPerCluster=4, seed=32)
    emulator.control.add_fault(method="GET", path=r"^/api/v7/protectedVms$", status=403, count=-1)

    run = run_inventory(source_file("env-only"))

    assert "Reading the protected VM list failed" in run.warnings()
    assert len(run.hostvars) == 8
    states = {plain(host["veeam_ahv_protection_state"]) for host in run.hostvars.values()}
    assert states == {"unknown"}
    assert "veeam_ahv_protected" not in run.data


@pytest.mark.parametrize("strict", [False, True])
def test_every_cluster_failing_error(run_inventory, emulator, tmp_path, strict):
    for path in (r"^/api/v7/clusters/[^/]+/vms$", r"^/api/v7/protectedVms$"):
        emulator.control.add_fault(method="GET", path=path, status=500, body="html", count=-1)
    source = write_source(tmp_path, "all-failing", {"strict": strict})

    run = run_inventory(source)

    assert run.returncode != 0
    assert "the VM lists of all 3 selected cluster(s) could not be read" in run.warnings()
    assert "cluster 'PROD-AHV-01'" in run.warnings()
    assert "Reading the protected VM list failed too" in run.warnings()
    assert len(api_requests(emulator, "POST", r"/api/oauth2/logout")) == 1


# --- Requests per run -------------------------------------------------------------------------


@pytest.mark.parametrize("vm_counts", [[0, 120, 250], [0, 1200, 2500]])
def test_request_count_pages_not_vms(run_inventory, emulator, direct_api, tmp_path, vm_counts):
    page = 100
    emulator.control.generate(clusters=3, vmsPerCluster=vm_counts, seed=7)
    emulator.control.set_config(maxPageSize=page)
    protected = len(direct_api.get_all("/protectedVms"))
    emulator.control.clear_requests()
    source = write_source(tmp_path, "pages", {"page_size": page})

    run = run_inventory(source)

    assert len(run.hostvars) == sum(vm_counts)
    vm_pages = sum(max(1, math.ceil(count / page)) for count in vm_counts)
    protected_pages = max(1, math.ceil(protected / page))
    log = api_requests(emulator)
    assert len(api_requests(emulator, "POST", r"/api/oauth2/token")) == 1
    assert len(api_requests(emulator, "GET", r"/api/v7/clusters")) == 1
    assert len(api_requests(emulator, "GET", r"/api/v7/clusters/[^/]+/vms")) == vm_pages
    assert len(api_requests(emulator, "GET", r"/api/v7/protectedVms")) == protected_pages
    assert len(api_requests(emulator, "POST", r"/api/oauth2/logout")) == 1
    # Login, cluster list, VM pages, protected VM pages and logout: nothing per VM.
    assert len(log) == 1 + 1 + vm_pages + protected_pages + 1


def token_grants(emulator) -> list:
    return [
        entry["body"]["grantType"] for entry in api_requests(emulator, "POST", r"/api/oauth2/token")
    ]


def test_expired_token_renewed_once(run_inventory, emulator, tmp_path):
    emulator.control.add_fault(
        method="GET", path=r"^/api/v7/clusters/[^/]+/vms$", expireToken=True, count=1
    )
    source = write_source(tmp_path, "expiring", {"max_workers": 4})

    run = run_inventory(source)

    assert len(run.hostvars) == 39
    assert "Logout failed" not in run.warnings()
    assert token_grants(emulator) == ["Password", "RefreshToken"]
    logouts = api_requests(emulator, "POST", r"/api/oauth2/logout")
    assert [entry["status"] for entry in logouts] == [204]


def test_short_token_lifetime_one_login(run_inventory, emulator, tmp_path):
    emulator.control.generate(clusters=2, vmsPerCluster=6, seed=11)
    emulator.control.set_config(accessTokenLifetime=2, maxPageSize=2)
    emulator.control.add_fault(method="GET", path=r"/vms$|/protectedVms$", delay=0.3, count=-1)
    source = write_source(tmp_path, "short-tokens", {"max_workers": 2, "page_size": 2})

    run = run_inventory(source)

    assert len(run.hostvars) == 12
    assert "Logout failed" not in run.warnings()
    grants = token_grants(emulator)
    assert grants.count("Password") == 1
    assert grants.count("RefreshToken") >= 1
    logouts = api_requests(emulator, "POST", r"/api/oauth2/logout")
    assert [entry["status"] for entry in logouts] == [204]


def test_selected_clusters_only(run_inventory, emulator, direct_api, tmp_path):
    prod = cluster_by_name(direct_api, "PROD-AHV-01")
    dr = cluster_by_name(direct_api, "DR-AHV-01")
    emulator.control.clear_requests()
    source = write_source(tmp_path, "two", {"clusters": ["PROD-AHV-01", dr["id"]]})

    run = run_inventory(source)

    assert sorted(name for name in run.data if "_cluster_" in name) == [
        "veeam_ahv_cluster_DR_AHV_01",
        "veeam_ahv_cluster_PROD_AHV_01",
    ]
    read = {entry["path"] for entry in api_requests(emulator, "GET", r"/api/v7/clusters/.*")}
    assert read == {f"/api/v7/clusters/{prod['id']}/vms", f"/api/v7/clusters/{dr['id']}/vms"}


def test_unknown_cluster_error(run_inventory, emulator, tmp_path):
    source = write_source(tmp_path, "unknown", {"clusters": ["NO-SUCH-CLUSTER"]})

    run = run_inventory(source)

    assert run.returncode != 0
    assert "Cluster 'NO-SUCH-CLUSTER' was not found by name or id" in run.warnings()
    assert len(api_requests(emulator, "POST", r"/api/oauth2/logout")) == 1


# --- Inventory cache in a jsonfile folder -----------------------------------------------------


@pytest.fixture
def cache_env(tmp_path) -> dict:
    return {
        "ANSIBLE_INVENTORY_CACHE": "True",
        "ANSIBLE_INVENTORY_CACHE_PLUGIN": "ansible.builtin.jsonfile",
        "ANSIBLE_INVENTORY_CACHE_CONNECTION": str(tmp_path / "inventory-cache"),
    }


def test_cached_run_identical_without_requests(run_inventory, emulator, cache_env):
    emulator.control.generate(
        clusters=3, vmsPerCluster=[5, 0, 7], duplicateNames=1, hostileNames=True, seed=41
    )
    emulator.control.clear_requests()

    fresh = run_inventory(source_file("env-only"), env=cache_env)
    fresh_requests = api_requests(emulator)
    emulator.control.clear_requests()
    cached = run_inventory(source_file("env-only"), env=cache_env)

    assert fresh.returncode == 0, fresh.stderr
    assert cached.returncode == 0, cached.stderr
    assert len(fresh_requests) == 7
    assert api_requests(emulator) == []
    assert cached.stdout == fresh.stdout


def test_cached_run_survives_unreachable_appliance(run_inventory, emulator, cache_env):
    fresh = run_inventory(source_file("env-only"), env=cache_env)
    emulator.control.add_fault(path=r"^/api/", status=503, count=-1)
    emulator.control.clear_requests()

    cached = run_inventory(source_file("env-only"), env=cache_env)

    assert cached.stdout == fresh.stdout
    assert api_requests(emulator) == []


def ansible_inventory_has_flush_cache() -> bool:
    """Return whether this ansible-inventory accepts --flush-cache (added in ansible-core 2.17)."""
    command = [str(Path(sys.executable).with_name("ansible-inventory")), "--help"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    return "--flush-cache" in completed.stdout


@pytest.mark.skipif(
    not ansible_inventory_has_flush_cache(),
    reason="this ansible-inventory has no --flush-cache option",
)
def test_flush_cache_reads_api(run_inventory, emulator, cache_env):
    run_inventory(source_file("env-only"), env=cache_env)
    emulator.control.generate(clusters=1, vmsPerCluster=2, seed=42)
    emulator.control.clear_requests()

    flushed = run_inventory(source_file("env-only"), env=cache_env, args=["--flush-cache"])
    cached = run_inventory(source_file("env-only"), env=cache_env)

    assert len(flushed.hostvars) == 2
    assert len(api_requests(emulator, "GET", r"/api/v7/clusters")) == 1
    assert cached.stdout == flushed.stdout


def test_degraded_run_not_cached(run_inventory, emulator, cache_env):
    emulator.control.generate(clusters=2, vmsPerCluster=3, seed=43)
    emulator.control.add_fault(method="GET", path=r"^/api/v7/protectedVms$", status=500)
    degraded = run_inventory(source_file("env-only"), env=cache_env)
    emulator.control.clear_requests()

    complete = run_inventory(source_file("env-only"), env=cache_env)

    assert "Reading the protected VM list failed" in degraded.warnings()
    assert len(api_requests(emulator, "GET", r"/api/v7/protectedVms")) == 1
    assert complete.stdout != degraded.stdout


# --- Credentials ------------------------------------------------------------------------------


def test_vaulted_password_and_lookup(run_inventory, emulator, tmp_path):
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault_password = "integration-vault-password"
    secret = VaultSecret(vault_password.encode())
    ciphertext = VaultLib([("default", secret)]).encrypt(emulator.password).decode()
    password_file = tmp_path / "vault-password"
    password_file.write_text(vault_password, encoding="utf-8")
    source = tmp_path / "vault.veeam_ahv.yml"
    source.write_text(
        "plugin: veeam_ahv.backup.vms\n"
        "url: \"{{ lookup('ansible.builtin.env', 'TEST_VBAHV_URL') }}\"\n"
        f"username: {emulator.username}\n"
        "password: !vault |\n"
        + "".join(f"  {line}\n" for line in ciphertext.splitlines())
        + f"ca_path: {emulator.ca_path}\n",
        encoding="utf-8",
    )

    run = run_inventory(
        source,
        env={"TEST_VBAHV_URL": emulator.url},
        args=["--vault-password-file", str(password_file)],
        connection=False,
    )

    assert run.returncode == 0, run.stderr
    assert len(run.hostvars) == 39
    assert emulator.password not in run.stdout + run.stderr


def test_wrong_password_error(run_inventory, emulator):
    run = run_inventory(source_file("env-only"), env={"VEEAM_AHV_PASSWORD": "Not-The-Password-42"})

    assert run.returncode != 0
    assert "HTTP 401" in run.warnings()
    assert "check username and password" in run.warnings()
    assert "Not-The-Password-42" not in run.stdout + run.stderr


def test_environment_password_not_templated(run_inventory, emulator, tmp_path):
    marker = tmp_path / "lookup-ran"
    lookup = "{{ lookup('pipe', 'touch " + str(marker) + "; echo " + emulator.password + "') }}"

    run = run_inventory(source_file("env-only"), env={"VEEAM_AHV_PASSWORD": lookup})

    assert run.returncode != 0
    assert "HTTP 401" in run.warnings()
    assert not marker.exists()


def test_environment_password_with_jinja_characters(run_inventory, emulator):
    password = "Se{%cret{{99}}{#"
    emulator.control.set_config(password=password)

    run = run_inventory(source_file("env-only"), env={"VEEAM_AHV_PASSWORD": password})

    assert run.returncode == 0, run.stderr
    assert len(run.hostvars) == 39


def test_url_with_credentials_not_shown(run_inventory, emulator):
    address = emulator.url.split("://", 1)[1]
    url = f"https://admin:Url-Secret-77@{address}"

    run = run_inventory(source_file("env-only"), env={"VEEAM_AHV_URL": url})

    assert run.returncode != 0
    assert "url must not contain a user name or password" in run.warnings()
    assert "Url-Secret-77" not in run.stdout + run.stderr
