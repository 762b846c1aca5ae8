"""Helpers for the inventory plugin tests: the plugin loaded by Ansible, and source data."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_fetch import (
    SOURCE_DATA_FORMAT,
    FetchResult,
)

PLUGIN = "veeam_ahv.backup.vms"
URL = "https://vbahv.example.test"

CLUSTER_A = {"id": "c0000000-aaaa-4000-8000-000000000001", "name": "PROD-AHV-01"}
CLUSTER_B = {"id": "c0000000-bbbb-4000-8000-000000000002", "name": "DR AHV/02"}


def make_vm(cluster: dict, vm_id: str, name: str, ips=(), protection_domain=None) -> dict:
    """Build a VirtualMachine record as GET /clusters/{id}/vms returns it."""
    return {
        "id": vm_id,
        "name": name,
        "clusterId": cluster["id"],
        "clusterName": cluster["name"],
        "vmSize": 21474836480,
        "volumeGroupSize": 0,
        "protectionDomain": protection_domain,
        "consistencyGroup": None,
        "disks": [
            {
                "id": vm_id + "-disk0",
                "busType": "Scsi",
                "index": 0,
                "diskLabel": "scsi.0",
                "isCdrom": False,
                "isVolumeGroup": False,
                "size": 21474836480,
                "storageContainerId": "sc-1",
                "storageContainerName": "default-container",
            }
        ],
        "volumeGroups": [],
        "networkAdapters": [
            {
                "id": vm_id + "-nic0",
                "networkId": "net-1",
                "networkName": "VM-Network",
                "ipAddresses": list(ips),
                "macAddress": "50:6b:8d:00:00:01",
            }
        ],
        "guestOsVersion": "Ubuntu 24.04 LTS (64-bit)",
    }


def protected_row(vm: dict, backups: int, snapshots: int) -> dict:
    """Build a ProtectedVirtualMachine record as GET /protectedVms returns it."""
    return {
        "id": vm["id"],
        "name": vm["name"],
        "snapshots": snapshots,
        "backups": backups,
        "clusterId": vm["clusterId"],
        "clusterName": vm["clusterName"],
        "lastProtectionDateUtc": "2025-01-02T03:04:05Z",
        "lastRestorePointId": "rp-" + vm["id"][-4:],
    }


def sample_data() -> dict:
    """Two clusters with a shared VM name, a hostile name and a protection domain."""
    web_a = make_vm(CLUSTER_A, "a1111111-0000-4000-8000-000000000001", "web", ["10.0.0.11"])
    web_b = make_vm(CLUSTER_B, "b2222222-0000-4000-8000-000000000002", "web", ["10.0.1.12"])
    db = make_vm(
        CLUSTER_A, "a3333333-0000-4000-8000-000000000003", "db", [], protection_domain="pd-gold"
    )
    hostile = make_vm(
        CLUSTER_B, "b4444444-0000-4000-8000-000000000004", "{{ 7 * 7 }}", ["10.0.1.14"]
    )
    return {
        "format": SOURCE_DATA_FORMAT,
        "clusters": [CLUSTER_A, CLUSTER_B],
        "vms": {CLUSTER_A["id"]: [web_a, db], CLUSTER_B["id"]: [hostile, web_b]},
        "protected_vms": [protected_row(web_a, 3, 1), protected_row(db, 0, 2)],
    }


class Warnings:
    """Collects the plugin's warnings."""

    def __init__(self):
        self.messages: list[str] = []

    def __call__(self, message, *args, **kwargs):
        self.messages.append(str(message))


class PluginRun:
    """Runs the plugin on a source file with the API read replaced by fixed source data."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.fetches: list[dict] = []
        self.data = sample_data()
        self.cluster_failures: list = []
        self.protection_error = None
        self.warnings = Warnings()

    def fake_fetch(self, create_client, cluster_references, max_workers, log=None):
        self.fetches.append({"clusters": cluster_references, "max_workers": max_workers})
        result = FetchResult(copy.deepcopy(self.data))
        result.cluster_failures = list(self.cluster_failures)
        result.protection_error = self.protection_error
        if self.protection_error is not None:
            result.data["protected_vms"] = None
        return result

    def plugin(self):
        plugin = inventory_loader.get(PLUGIN)
        searched = AnsibleCollectionConfig.collection_paths
        assert plugin is not None, f"{PLUGIN} was not found under {searched}"
        module = sys.modules[type(plugin).__module__]
        self.monkeypatch.setattr(module, "fetch_source_data", self.fake_fetch)
        self.monkeypatch.setattr(plugin.display, "warning", self.warnings)
        return plugin

    def __call__(
        self, options: dict | None = None, cache=True, plugin=None, name="t.veeam_ahv.yml"
    ):
        """Parse a source with ``options`` and return the InventoryData."""
        source = {"plugin": PLUGIN, "url": URL, "username": "admin", "password": "secret"}
        source.update(options or {})
        return self.parse_text(yaml.safe_dump(source), cache=cache, plugin=plugin, name=name)

    def parse_text(self, text: str, cache=True, plugin=None, name="t.veeam_ahv.yml", loader=None):
        """Parse a source file with the content ``text`` and return the InventoryData."""
        path = self.tmp_path / name
        path.write_text(text, encoding="utf-8")
        inventory = InventoryData()
        plugin = plugin or self.plugin()
        plugin.parse(inventory, DataLoader(), str(path), cache=cache)
        return inventory


def host_vars(inventory: InventoryData, hostname: str) -> dict:
    return inventory.get_host(hostname).get_vars()


def group_hosts(inventory: InventoryData, group: str) -> list:
    return sorted(host.name for host in inventory.groups[group].get_hosts())
