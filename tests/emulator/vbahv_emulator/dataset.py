"""The default dataset: three clusters that look like a small production site plus a DR site.

Everything is derived from the seed. Ids come from `derived_id`, so an object's id does not
depend on how many objects were built before it. Sizes, MAC and IP addresses come from a
seeded random generator, and timestamps are offsets from DATASET_EPOCH. `docs/emulator.md`
lists the notable objects that tests refer to by name.
"""

import random

from vbahv_emulator.store import derived_id
from vbahv_emulator.timeutil import DATASET_EPOCH, to_iso

DEFAULT_SEED = 20261101
GIB = 1024**3
TIB = 1024**4
HOUR = 3600.0
DAY = 86400.0

WINDOWS_2022 = "Windows Server 2022 Datacenter"
WINDOWS_2019 = "Windows Server 2019 Standard"
RHEL_9 = "Red Hat Enterprise Linux 9.4 (64-bit)"
UBUNTU_2404 = "Ubuntu 24.04 LTS (64-bit)"
ROCKY_8 = "Rocky Linux 8.10 (64-bit)"

# Cluster specs: (key, name, description, address, AOS version, networks, storage containers).
CLUSTERS = [
    (
        "prod1",
        "PROD-AHV-01",
        "Production cluster, site A",
        "192.0.2.10",
        "6.8.1",
        ["VM-Network", "Isolated-Restore", "DMZ-VLAN30", "Backup-VLAN40"],
        ["default-container", "gold-ssd", "archive-hdd"],
    ),
    (
        "prod2",
        "PROD-AHV-02",
        "Production cluster, site B",
        "192.0.2.20",
        "6.8.1",
        ["VM-Network", "Isolated-Restore", "DMZ-VLAN30"],
        ["default-container", "gold-ssd"],
    ),
    (
        "dr",
        "DR-AHV-01",
        "Disaster recovery cluster",
        "198.51.100.10",
        "6.7.1.5",
        ["VM-Network", "Isolated-Restore"],
        ["default-container", "dr-capacity"],
    ),
]

# VM specs per cluster: (key, name, guest OS, disks, NIC network names, protection domain).
# A disk is (bus, index, size in GiB, container name); size 0 on IDE marks a CD-ROM.
VMS = {
    "prod1": [
        (
            "app-db-01",
            "app-db-01",
            RHEL_9,
            [
                ("Scsi", 0, 80, "gold-ssd"),
                ("Scsi", 1, 500, "gold-ssd"),
                ("Scsi", 2, 200, "default-container"),
            ],
            ["VM-Network"],
            None,
        ),
        (
            "app-db-02",
            "app-db-02",
            RHEL_9,
            [("Scsi", 0, 80, "gold-ssd"), ("Scsi", 1, 300, "gold-ssd")],
            ["VM-Network"],
            None,
        ),
        (
            "app-web-01",
            "app-web-01",
            UBUNTU_2404,
            [("Scsi", 0, 40, "default-container")],
            ["VM-Network", "DMZ-VLAN30"],
            None,
        ),
        (
            "app-web-02",
            "app-web-02",
            UBUNTU_2404,
            [("Scsi", 0, 40, "default-container")],
            ["VM-Network", "DMZ-VLAN30"],
            None,
        ),
        (
            "web-frontend-a",
            "web-frontend",
            UBUNTU_2404,
            [("Scsi", 0, 32, "default-container")],
            ["DMZ-VLAN30"],
            None,
        ),
        (
            "web-frontend-b",
            "web-frontend",
            UBUNTU_2404,
            [("Scsi", 0, 32, "default-container")],
            ["DMZ-VLAN30"],
            None,
        ),
        (
            "dc-01",
            "dc-01",
            WINDOWS_2022,
            [("Scsi", 0, 100, "default-container"), ("Ide", 0, 0, None)],
            ["VM-Network"],
            None,
        ),
        (
            "file-srv-01",
            "file-srv-01",
            WINDOWS_2019,
            [
                ("Scsi", 0, 100, "default-container"),
                ("Sata", 0, 1024, "archive-hdd"),
                ("Sata", 1, 2048, "archive-hdd"),
            ],
            ["VM-Network"],
            None,
        ),
        (
            "sql-node-01",
            "sql-node-01",
            WINDOWS_2022,
            [("Scsi", 0, 120, "gold-ssd"), ("Scsi", 1, 400, "gold-ssd")],
            ["VM-Network", "Backup-VLAN40"],
            "pd-sql",
        ),
        (
            "sql-node-02",
            "sql-node-02",
            WINDOWS_2022,
            [("Scsi", 0, 120, "gold-ssd"), ("Scsi", 1, 400, "gold-ssd")],
            ["VM-Network", "Backup-VLAN40"],
            "pd-sql",
        ),
        (
            "sql-witness-01",
            "sql-witness-01",
            WINDOWS_2022,
            [("Scsi", 0, 60, "default-container")],
            ["VM-Network"],
            "pd-sql",
        ),
        (
            "legacy-erp",
            "legacy-erp",
            WINDOWS_2019,
            [("Pci", 0, 200, "default-container"), ("Scsi", 0, 300, "archive-hdd")],
            ["VM-Network"],
            None,
        ),
        (
            "ops-jumpbox",
            "ops-jumpbox",
            UBUNTU_2404,
            [("Scsi", 0, 30, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "unicode",
            "Überwachung-監視-01",
            ROCKY_8,
            [("Scsi", 0, 50, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "test-sandbox-01",
            "test-sandbox-01",
            UBUNTU_2404,
            [("Scsi", 0, 20, "default-container")],
            ["Isolated-Restore"],
            None,
        ),
        (
            "build-agent-01",
            "build-agent-01",
            UBUNTU_2404,
            [("Scsi", 0, 60, "default-container"), ("Sata", 0, 100, "default-container")],
            ["VM-Network"],
            None,
        ),
    ],
    "prod2": [
        (
            "crm-app-01",
            "crm-app-01",
            WINDOWS_2022,
            [("Scsi", 0, 80, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "crm-app-02",
            "crm-app-02",
            WINDOWS_2022,
            [("Scsi", 0, 80, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "crm-db-01",
            "crm-db-01",
            RHEL_9,
            [
                ("Scsi", 0, 80, "gold-ssd"),
                ("Scsi", 1, 750, "gold-ssd"),
                ("Scsi", 2, 250, "gold-ssd"),
                ("Scsi", 3, 100, "default-container"),
            ],
            ["VM-Network", "DMZ-VLAN30"],
            "pd-crm",
        ),
        (
            "ops-jumpbox-2",
            "ops-jumpbox",
            UBUNTU_2404,
            [("Scsi", 0, 30, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "k8s-master-01",
            "k8s-master-01",
            UBUNTU_2404,
            [("Scsi", 0, 60, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "k8s-worker-01",
            "k8s-worker-01",
            UBUNTU_2404,
            [("Scsi", 0, 120, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "k8s-worker-02",
            "k8s-worker-02",
            UBUNTU_2404,
            [("Scsi", 0, 120, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "k8s-worker-03",
            "k8s-worker-03",
            UBUNTU_2404,
            [("Scsi", 0, 120, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "print-srv-01",
            "print-srv-01",
            WINDOWS_2019,
            [("Scsi", 0, 60, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "erp-app-01",
            "erp-app-01",
            WINDOWS_2022,
            [("Scsi", 0, 100, "default-container"), ("Scsi", 1, 200, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "mail-01",
            "mail-01",
            WINDOWS_2022,
            [("Scsi", 0, 100, "gold-ssd"), ("Scsi", 1, 800, "gold-ssd")],
            ["VM-Network", "DMZ-VLAN30"],
            None,
        ),
        (
            "monitoring-01",
            "monitoring-01",
            ROCKY_8,
            [("Scsi", 0, 80, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "git-01",
            "git-01",
            UBUNTU_2404,
            [("Scsi", 0, 200, "default-container")],
            ["VM-Network"],
            None,
        ),
    ],
    "dr": [
        (
            "dr-dc-01",
            "dr-dc-01",
            WINDOWS_2022,
            [("Scsi", 0, 100, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "dr-app-db-01",
            "dr-app-db-01",
            RHEL_9,
            [("Scsi", 0, 80, "default-container"), ("Scsi", 1, 500, "dr-capacity")],
            ["VM-Network"],
            None,
        ),
        (
            "dr-web-01",
            "dr-web-01",
            UBUNTU_2404,
            [("Scsi", 0, 40, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "restore-test-01",
            "restore-test-01",
            UBUNTU_2404,
            [("Scsi", 0, 20, "default-container")],
            ["Isolated-Restore"],
            None,
        ),
        (
            "replica-file-01",
            "replica-file-01",
            WINDOWS_2019,
            [("Sata", 0, 1024, "dr-capacity")],
            ["VM-Network"],
            None,
        ),
        (
            "dr-monitoring-01",
            "dr-monitoring-01",
            ROCKY_8,
            [("Scsi", 0, 80, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "dr-jumpbox",
            "dr-jumpbox",
            UBUNTU_2404,
            [("Scsi", 0, 30, "default-container")],
            ["VM-Network", "Isolated-Restore"],
            None,
        ),
        (
            "dr-witness-01",
            "dr-witness-01",
            UBUNTU_2404,
            [("Scsi", 0, 20, "default-container")],
            ["VM-Network"],
            None,
        ),
        (
            "dr-erp-standby",
            "dr-erp-standby",
            WINDOWS_2022,
            [("Scsi", 0, 200, "dr-capacity")],
            ["VM-Network"],
            None,
        ),
        (
            "dr-sandbox",
            "dr-sandbox",
            UBUNTU_2404,
            [("Scsi", 0, 20, "default-container")],
            ["Isolated-Restore"],
            None,
        ),
    ],
}

# Jobs: (key, name, mode, cluster key, enabled, repository key, included VM keys or PD names,
# schedule text, runs as (days before the epoch, result, warning or error message)).
JOBS = [
    (
        "daily-prod1",
        "Daily Backup - PROD-AHV-01",
        "Backup",
        "prod1",
        True,
        "default",
        [
            "app-db-01",
            "app-db-02",
            "app-web-01",
            "app-web-02",
            "web-frontend-a",
            "dc-01",
            "file-srv-01",
            "legacy-erp",
            "ops-jumpbox",
            "unicode",
        ],
        "Daily at 22:00",
        [
            (4, "Success", None),
            (3, "Success", None),
            (
                2,
                "Warning",
                "legacy-erp: changed block tracking is unavailable, a full read of the disks was "
                "performed.",
            ),
            (1, "Success", None),
        ],
    ),
    (
        "hourly-prod1",
        "Hourly Snapshots - PROD-AHV-01",
        "Snapshot",
        "prod1",
        True,
        None,
        ["app-db-01", "file-srv-01"],
        "Every 4 hours",
        [
            (0.5, "Success", None),
            (
                0.25,
                "Warning",
                "file-srv-01: an application-consistent snapshot failed, a crash-consistent "
                "snapshot was created.",
            ),
        ],
    ),
    (
        "pd-sql",
        "SQL PD Snapshots",
        "PdSnapshot",
        "prod1",
        True,
        None,
        ["pd:pd-sql"],
        "Daily at 01:00",
        [(2, "Success", None), (1, "Success", None)],
    ),
    (
        "weekly-prod2",
        "Weekly Backup - PROD-AHV-02",
        "Backup",
        "prod2",
        False,
        "hardened",
        ["crm-app-01", "crm-app-02", "crm-db-01", "ops-jumpbox-2"],
        "Weekly on Saturday at 23:00",
        [
            (8, "Success", None),
            (
                1,
                "Error",
                "Failed to create a snapshot of crm-db-01: the Nutanix cluster PROD-AHV-02 did "
                "not respond in time.",
            ),
        ],
    ),
]

# VMs whose first runs of the daily job predate them: key -> index of the first run they are in.
FIRST_RUN = {"app-web-02": 1, "web-frontend-a": 2, "unicode": 2, "ops-jumpbox": 3, "legacy-erp": 2}

# The latest backup of legacy-erp (the daily job's fourth run) is corrupted.
CORRUPTED_POINT_VM = "legacy-erp"
CORRUPTED_POINT_RUN = 3

REPOSITORIES = [
    ("default", "Default Backup Repository", 20 * TIB, 8 * TIB),
    ("hardened", "Hardened-Linux-Repo", 50 * TIB, 31 * TIB),
    ("object", "S3-Object-Repo", 100 * TIB, 64 * TIB),
]


class _Builder:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.vms: dict[str, dict] = {}
        self.vm_cluster: dict[str, str] = {}
        self.clusters: dict[str, dict] = {}
        self.restore_points: list[dict] = []
        self.sessions: list[dict] = []
        self.jobs: list[dict] = []
        # VMs that already have a full backup, so later points are incremental.
        self.backed_up: set[str] = set()

    def id(self, kind: str, key: str) -> str:
        return derived_id(self.seed, kind, key)

    def mac(self) -> str:
        return "50:6b:8d:" + ":".join(f"{self.rng.randrange(256):02x}" for _octet in range(3))

    # --- Infrastructure -----------------------------------------------------------------------

    def build_clusters(self) -> None:
        prism_central = self.id("prismCentral", "pc-site")
        for number, (key, name, description, address, version, networks, containers) in enumerate(
            CLUSTERS
        ):
            cluster = {
                "id": self.id("cluster", key),
                "name": name,
                "description": description,
                "address": address,
                "port": 9440,
                "state": "Available",
                "version": version,
                "prismCentralId": None if key == "dr" else prism_central,
                "networks": [
                    self.network(key, position, net, number)
                    for position, net in enumerate(networks)
                ],
                "storageContainers": [self.container(key, c) for c in containers],
                "hosts": [
                    self.host(key, name, h, address) for h in range(1, 4 if key == "dr" else 5)
                ],
                "protectionDomains": [],
                "volumeGroups": [],
                "vms": [],
            }
            self.clusters[key] = cluster

    def network(self, cluster_key: str, position: int, name: str, cluster_number: int) -> dict:
        vlan_base = f"172.{16 + cluster_number}.{position * 10}"
        isolated = name == "Isolated-Restore"
        return {
            "id": self.id("network", f"{cluster_key}/{name}"),
            "name": name,
            "networkAddress": f"{vlan_base}.0",
            "ipManagementOn": not isolated,
            "prefixLength": 24,
            "ipPool": [] if isolated else [f"{vlan_base}.100-{vlan_base}.199"],
            "gatewayIp": None if isolated else f"{vlan_base}.1",
        }

    def container(self, cluster_key: str, name: str) -> dict:
        capacity = {"default-container": 40, "gold-ssd": 20, "archive-hdd": 120, "dr-capacity": 80}[
            name
        ] * TIB
        used = int(capacity * self.rng.uniform(0.2, 0.7))
        return {
            "id": self.id("storageContainer", f"{cluster_key}/{name}"),
            "name": name,
            "maxCapacity": capacity,
            "reservedCapacity": 0,
            "usedSpace": used,
            "freeSpace": capacity - used,
        }

    def host(self, cluster_key: str, cluster_name: str, number: int, address: str) -> dict:
        prefix = address.rsplit(".", 1)[0]
        return {
            "id": self.id("host", f"{cluster_key}/{number}"),
            "name": f"{cluster_name.lower()}-node-{number:02d}",
            "address": f"{prefix}.{100 + number}",
            "hypervisorVersion": "AHV 10.0.1",
            "cpuCores": 64,
            "memoryBytes": 768 * GIB,
        }

    def build_vms(self) -> None:
        for cluster_key, specs in VMS.items():
            cluster = self.clusters[cluster_key]
            containers = {c["name"]: c for c in cluster["storageContainers"]}
            networks = {n["name"]: n for n in cluster["networks"]}
            for key, name, guest_os, disks, nics, protection_domain in specs:
                vm_id = self.id("vm", key)
                vm = {
                    "id": vm_id,
                    "name": name,
                    "protectionDomain": protection_domain,
                    "consistencyGroup": protection_domain and f"{protection_domain}-cg",
                    "disks": [self.disk(vm_id, d, containers) for d in disks],
                    "volumeGroups": [],
                    "networkAdapters": [
                        self.nic(vm_id, position, networks[n]) for position, n in enumerate(nics)
                    ],
                    "guestOsVersion": guest_os,
                }
                cluster["vms"].append(vm)
                self.vms[key] = vm
                self.vm_cluster[key] = cluster_key
                if protection_domain and protection_domain not in cluster["protectionDomains"]:
                    cluster["protectionDomains"].append(protection_domain)

    def disk(self, vm_id: str, spec: tuple, containers: dict) -> dict:
        bus, index, size_gib, container_name = spec
        is_cdrom = bus == "Ide" and size_gib == 0
        container = containers.get(container_name)
        return {
            "id": self.id("disk", f"{vm_id}/{bus}/{index}"),
            "busType": bus,
            "index": index,
            "diskLabel": f"{bus.lower()}.{index}",
            "isCdrom": is_cdrom,
            "isVolumeGroup": False,
            "size": size_gib * GIB,
            "storageContainerId": container["id"] if container else None,
            "storageContainerName": container["name"] if container else None,
        }

    def nic(self, vm_id: str, position: int, network: dict) -> dict:
        addresses = []
        if network["ipManagementOn"]:
            prefix = network["networkAddress"].rsplit(".", 1)[0]
            addresses = [f"{prefix}.{self.rng.randrange(100, 200)}"]
        return {
            "id": self.id("nic", f"{vm_id}/{position}"),
            "networkId": network["id"],
            "networkName": network["name"],
            "ipAddresses": addresses,
            "macAddress": self.mac(),
        }

    def build_volume_groups(self) -> None:
        prod1 = self.clusters["prod1"]
        gold = next(c for c in prod1["storageContainers"] if c["name"] == "gold-ssd")
        for key, name, pd, members, size_gib in (
            ("vg-sql-data", "vg-sql-data", "pd-sql", ["sql-node-01", "sql-node-02"], 1024),
            ("vg-file-shares", "vg-file-shares", None, ["file-srv-01"], 4096),
        ):
            vg_id = self.id("volumeGroup", key)
            disk = {
                "id": self.id("disk", f"{vg_id}/0"),
                "busType": "Scsi",
                "index": 0,
                "diskLabel": f"{name}.0",
                "isCdrom": False,
                "isVolumeGroup": True,
                "size": size_gib * GIB,
                "storageContainerId": gold["id"],
                "storageContainerName": gold["name"],
            }
            prod1["volumeGroups"].append(
                {
                    "id": vg_id,
                    "name": name,
                    "protectionDomain": pd,
                    "consistencyGroup": pd and f"{pd}-cg",
                    "disks": [disk],
                }
            )
            for member in members:
                self.vms[member]["volumeGroups"].append(vg_id)
                self.vms[member]["disks"].append(dict(disk))

    # --- Protection history -------------------------------------------------------------------

    def build_jobs(self) -> None:
        for job_key, name, mode, cluster_key, enabled, repo_key, includes, schedule, runs in JOBS:
            job_id = self.id("job", job_key)
            cluster = self.clusters[cluster_key]
            objects = []
            for include in includes:
                if include.startswith("pd:"):
                    pd = include[3:]
                    objects.append(
                        {
                            "id": pd,
                            "name": pd,
                            "clusterId": cluster["id"],
                            "type": "ProtectionDomain",
                        }
                    )
                else:
                    vm = self.vms[include]
                    objects.append(
                        {
                            "id": vm["id"],
                            "name": vm["name"],
                            "clusterId": cluster["id"],
                            "type": "VirtualMachine",
                        }
                    )
            self.jobs.append(
                {
                    "id": job_id,
                    "name": name,
                    "description": f"{mode} job for {cluster['name']}",
                    "mode": mode,
                    "enabled": enabled,
                    "nextRunInfo": schedule,
                    "nextRunUtc": to_iso(DATASET_EPOCH + 22 * HOUR),
                    "settings": job_settings(
                        cluster["id"], repo_key and self.id("repository", repo_key), objects, mode
                    ),
                }
            )
            for run_number, (days_before, result, message) in enumerate(runs):
                self.job_run(
                    job_key,
                    job_id,
                    name,
                    mode,
                    cluster_key,
                    includes,
                    run_number,
                    days_before,
                    result,
                    message,
                )

    def job_run(
        self,
        job_key,
        job_id,
        job_name,
        mode,
        cluster_key,
        includes,
        run_number,
        days_before,
        result,
        message,
    ):
        start = DATASET_EPOCH - days_before * DAY - 2 * HOUR
        finish = start + 600 + 60 * run_number
        session_id = self.id("session", f"{job_key}/{run_number}")
        session_type = {
            "Backup": "BackupVmJob",
            "Snapshot": "SnapshotVmJob",
            "PdSnapshot": "SnapshotPdJob",
        }[mode]
        members = self.job_members(includes, run_number)
        self.sessions.append(
            {
                "id": session_id,
                "name": job_name,
                "sessionType": session_type,
                "startTimeUtc": to_iso(start),
                "finishTimeUtc": to_iso(finish),
                "result": result,
                "message": message,
                "objectsCount": len(members),
                "totalBytes": sum(vm_size(self.vms[key]) for key in members),
                "context": {
                    "jobId": job_id,
                    "jobName": job_name,
                    "backupMode": "IncrementalBackup" if mode == "Backup" else None,
                },
            }
        )
        if result == "Error":
            return
        created = to_iso(finish)
        if mode == "PdSnapshot":
            point_key = f"{job_key}/{run_number}"
            self.point(
                point_key,
                "PdSnapshot",
                created,
                job_id,
                job_name,
                cluster_key,
                [self.vms[k] for k in members],
                snapshotId=self.id("nutanixSnapshot", point_key),
                pdName="pd-sql",
            )
            return
        for key in members:
            point_key = f"{job_key}/{run_number}/{key}"
            vm = self.vms[key]
            if mode == "Backup":
                corrupted = key == CORRUPTED_POINT_VM and run_number == CORRUPTED_POINT_RUN
                self.point(
                    point_key,
                    "Backup",
                    created,
                    job_id,
                    job_name,
                    cluster_key,
                    [vm],
                    isCorrupted=corrupted,
                    backupType="Full"
                    if run_number == 0 or key not in self.backed_up
                    else "Incremental",
                    backupSnapshotId=None,
                    backupId=self.id("backup", f"{job_key}/{key}"),
                )
                self.backed_up.add(key)
            else:
                crash = key == "file-srv-01" and result == "Warning"
                self.point(
                    point_key,
                    "BackupSnapshot",
                    created,
                    job_id,
                    job_name,
                    cluster_key,
                    [vm],
                    snapshotName=f"veeam-{vm['name']}-{created[:10]}-{run_number}",
                    snapshotType="CrashConsistent" if crash else "ApplicationConsistent",
                )

    def job_members(self, includes: list[str], run_number: int) -> list[str]:
        members = []
        for include in includes:
            if include.startswith("pd:"):
                pd = include[3:]
                members.extend(k for k, vm in self.vms.items() if vm["protectionDomain"] == pd)
            elif FIRST_RUN.get(include, 0) <= run_number:
                members.append(include)
        return members

    def point(
        self, key, point_type, created, job_id, job_name, cluster_key, vms, **details
    ) -> dict:
        point = {
            "id": self.id("restorePoint", key),
            "type": point_type,
            "creationTimeUtc": created,
            "jobId": job_id,
            "jobName": job_name,
            "clusterId": self.clusters[cluster_key]["id"],
            "vms": [dict(vm) for vm in vms],
            **details,
        }
        self.restore_points.append(point)
        return point

    def build_extra_points(self) -> None:
        # Nutanix snapshots taken by hand show up as UserSnapshot points with no job.
        for key, name, days_before in (
            ("app-db-01", "before-upgrade-2026-10", 6),
            ("dr-app-db-01", "dr-drill-baseline", 10),
        ):
            self.point(
                f"user/{key}",
                "UserSnapshot",
                to_iso(DATASET_EPOCH - days_before * DAY),
                None,
                None,
                self.vm_cluster[key],
                [self.vms[key]],
                snapshotName=name,
            )
        prod1 = self.clusters["prod1"]
        volume_group = prod1["volumeGroups"][0]
        pd_job = next(job for job in self.jobs if job["mode"] == "PdSnapshot")
        self.point(
            "vg/vg-sql-data",
            "VolumeGroupSnapshot",
            to_iso(DATASET_EPOCH - DAY - HOUR),
            pd_job["id"],
            pd_job["name"],
            "prod1",
            [],
            volumeGroupId=volume_group["id"],
            disks=[dict(d) for d in volume_group["disks"]],
        )

    def build_other_sessions(self) -> None:
        app_web = self.vms["app-web-01"]
        legacy = self.vms["legacy-erp"]
        for key, name, session_type, days_before, result, message, vm, reason in (
            (
                "restore/app-web-01",
                "Restore VM app-web-01",
                "RestoreVm",
                3.5,
                "Success",
                None,
                app_web,
                "Quarterly restore test",
            ),
            (
                "restore/legacy-erp",
                "Restore VM legacy-erp",
                "RestoreVm",
                0.8,
                "Error",
                "The backup file of legacy-erp is corrupted.",
                legacy,
                "Roll back failed patch",
            ),
            ("rescan-backups", "Rescan backups", "RescanBackups", 5, "Success", None, None, None),
        ):
            start = DATASET_EPOCH - days_before * DAY
            self.sessions.append(
                {
                    "id": self.id("session", key),
                    "name": name,
                    "sessionType": session_type,
                    "startTimeUtc": to_iso(start),
                    "finishTimeUtc": to_iso(start + 420),
                    "result": result,
                    "message": message,
                    "objectsCount": 1,
                    "totalBytes": vm_size(vm) if vm else 0,
                    "context": {
                        "objectId": vm and vm["id"],
                        "objectName": vm and vm["name"],
                        "reason": reason,
                    },
                }
            )

    def build(self) -> dict:
        self.build_clusters()
        self.build_vms()
        self.build_volume_groups()
        self.build_jobs()
        self.build_extra_points()
        self.build_other_sessions()
        return {
            "seed": self.seed,
            "backupServer": {
                "address": "vbr01.example.com",
                "port": 10006,
                "state": "Available",
                "version": "12.3.1.1139",
            },
            "repositories": [
                {
                    "id": self.id("repository", key),
                    "name": name,
                    "totalSpace": total,
                    "freeSpace": total - used,
                    "usedSpace": used,
                }
                for key, name, total, used in REPOSITORIES
            ],
            "clusters": list(self.clusters.values()),
            "restorePoints": self.restore_points,
            "jobs": self.jobs,
            "sessions": self.sessions,
        }


def vm_size(vm: dict) -> int:
    return sum(d["size"] for d in vm["disks"] if not d["isCdrom"])


def job_settings(
    cluster_id: str, repository_id: str | None, objects: list[dict], mode: str
) -> dict:
    """Build JobSettings in the shape the emulator serves (see docs/emulator.md for `includes`)."""
    return {
        "clusterId": cluster_id,
        "repositoryId": repository_id,
        "includes": {"objects": objects},
        "excludes": {"objects": []},
        "scheduleSettings": {
            "enabled": True,
            "type": "Periodic" if mode == "Snapshot" else "Weekly",
            "weekly": {"startTime": "22:00", "configuredDays": "EveryDay", "selectedDays": []},
            "monthly": None,
            "periodic": {"interval": 4, "mode": "EveryHour"} if mode == "Snapshot" else None,
            "automaticRetry": True,
            "retryCount": 3,
            "retryTimeDelay": 10,
        },
        "activeFullSettings": {
            "enabled": mode == "Backup",
            "type": "Monthly",
            "weekly": None,
            "monthly": {
                "startTime": "22:00",
                "configuredWeekOrDay": "FirstWeek",
                "dayOfWeek": "Saturday",
                "dayOfMonth": 1,
                "months": [],
            },
        },
        "deletedVmRetention": {"enabled": True, "days": 30},
        "gfsSettings": {"enabled": False, "weekly": None, "monthly": None, "yearly": None},
        "healthCheckSettings": {
            "enabled": False,
            "type": "Monthly",
            "weekly": None,
            "monthly": None,
        },
        "syntheticFullSettings": {
            "enabled": False,
            "type": "Weekly",
            "weekly": None,
            "monthly": None,
        },
        "retentionSettings": {
            "type": "RestorePoints",
            "restorePointsToKeep": 14 if mode == "Backup" else 6,
            "daysToKeep": None,
        },
    }


def build_default_dataset(seed: int = DEFAULT_SEED) -> dict:
    return _Builder(seed).build()
