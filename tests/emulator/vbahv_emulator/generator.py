"""Build large or awkward datasets from a small spec, for scale and robustness tests.

The generator must build 10 clusters of 5,000 VMs with one restore point each in a few
seconds. So it builds plain dicts, shares one VM dict between a VM and its restore points,
and skips the pydantic validation that hand-written datasets go through.
"""

import random

from vbahv_emulator.dataset import GIB, HOUR, job_settings
from vbahv_emulator.store import derived_id
from vbahv_emulator.timeutil import DATASET_EPOCH, to_iso

# Names that break naive templating, quoting, HTML or path handling in clients.
HOSTILE_NAMES = [
    "{{ lookup('pipe', 'id') }}",
    "{% raw %}vm{% endraw %}",
    "{% raw %}",
    "{{ 7 * 7 }}",
    "vm-with-'single'-quotes",
    'vm-with-"double"-quotes',
    "<script>alert('vm')</script>",
    "../../etc/passwd",
    "..\\..\\windows\\system32",
    "  leading-and-trailing-spaces  ",
    "v" * 255,
    "🚀 rocket-vm 🔥",
    "$(id); rm -rf /",
    "back\\slash\\vm",
    "tab\tand\nnewline",
    "null",
    "%s%n%x",
    "semicolon;and&ampersand",
]
UNICODE_NAMES = [
    "Überwachung",
    "監視サーバー",
    "сервер-приложений",
    "εξυπηρετητής",
    "خادم",
    "Ñandú-façade",
]


def _mac(cluster_number: int, vm_index: int) -> str:
    return f"50:6b:8d:{cluster_number:02x}:{vm_index >> 8 & 0xFF:02x}:{vm_index & 0xFF:02x}"


def generate_dataset(spec: dict) -> dict:
    """Build a dataset from a validated GenerateSpec dict."""
    seed = spec["seed"]
    rng = random.Random(seed)
    cluster_count = spec["clusters"]
    per_cluster = spec["vmsPerCluster"]
    if isinstance(per_cluster, int):
        per_cluster = [per_cluster] * cluster_count
    else:
        per_cluster = (list(per_cluster) + [0] * cluster_count)[:cluster_count]

    def make_id(kind: str, key: str) -> str:
        return derived_id(seed, kind, key)

    clusters = []
    restore_points = []
    jobs = []
    sessions = []
    hostile = list(HOSTILE_NAMES) if spec["hostileNames"] else []
    for number in range(cluster_count):
        cluster_key = f"gen{number + 1}"
        cluster_name = f"GEN-AHV-{number + 1:02d}"
        cluster_id = make_id("cluster", cluster_key)
        networks = [
            {
                "id": make_id("network", f"{cluster_key}/{name}"),
                "name": name,
                "networkAddress": f"172.{20 + number % 200}.{position}.0",
                "ipManagementOn": name == "VM-Network",
                "prefixLength": 24,
                "ipPool": [],
                "gatewayIp": f"172.{20 + number % 200}.{position}.1"
                if name == "VM-Network"
                else None,
            }
            for position, name in enumerate(["VM-Network", "Isolated-Restore"])
        ]
        container = {
            "id": make_id("storageContainer", f"{cluster_key}/default-container"),
            "name": "default-container",
            "maxCapacity": 500 * 1024 * GIB,
            "reservedCapacity": 0,
            "usedSpace": 100 * 1024 * GIB,
            "freeSpace": 400 * 1024 * GIB,
        }
        vms = []
        names: list[str] = []
        for index in range(per_cluster[number]):
            if hostile:
                name = hostile.pop(0)
            elif spec["unicodeNames"] and index % 10 == 3:
                name = f"{UNICODE_NAMES[index % len(UNICODE_NAMES)]}-{index:05d}"
            else:
                name = f"vm-{number + 1:02d}-{index:05d}"
            names.append(name)
        # Each duplicate takes the name of the VM before it, so pairs share a name.
        for position in range(min(spec["duplicateNames"], len(names) // 2)):
            names[2 * position + 1] = names[2 * position]
        for index, name in enumerate(names):
            vm_id = make_id("vm", f"{cluster_key}/{index}")
            vms.append(
                {
                    "id": vm_id,
                    "name": name,
                    "protectionDomain": None,
                    "consistencyGroup": None,
                    "disks": [
                        {
                            "id": make_id("disk", f"{vm_id}/0"),
                            "busType": "Scsi",
                            "index": 0,
                            "diskLabel": "scsi.0",
                            "isCdrom": False,
                            "isVolumeGroup": False,
                            "size": (20 + index % 80) * GIB,
                            "storageContainerId": container["id"],
                            "storageContainerName": container["name"],
                        }
                    ],
                    "volumeGroups": [],
                    "networkAdapters": [
                        {
                            "id": make_id("nic", f"{vm_id}/0"),
                            "networkId": networks[0]["id"],
                            "networkName": networks[0]["name"],
                            "ipAddresses": [
                                f"172.{20 + number % 200}.{index // 250}.{index % 250 + 2}"
                            ],
                            "macAddress": _mac(number, index),
                        }
                    ],
                    "guestOsVersion": "Ubuntu 24.04 LTS (64-bit)",
                }
            )
        protected = [vm for vm in vms if rng.random() < spec["protectedRatio"]]
        job_id = make_id("job", cluster_key)
        job_name = f"Generated Backup - {cluster_name}"
        jobs.append(
            {
                "id": job_id,
                "name": job_name,
                "description": f"Backup job for {cluster_name}",
                "mode": "Backup",
                "enabled": True,
                "nextRunInfo": "Daily at 22:00",
                "nextRunUtc": to_iso(DATASET_EPOCH + 22 * HOUR),
                "settings": job_settings(
                    cluster_id,
                    make_id("repository", "default"),
                    [
                        {
                            "id": vm["id"],
                            "name": vm["name"],
                            "clusterId": cluster_id,
                            "type": "VirtualMachine",
                        }
                        for vm in protected
                    ],
                    "Backup",
                ),
            }
        )
        for run in range(spec["restorePointsPerVm"] if protected else 0):
            start = DATASET_EPOCH - (spec["restorePointsPerVm"] - run) * 24 * HOUR
            created = to_iso(start + 1800)
            sessions.append(
                {
                    "id": make_id("session", f"{cluster_key}/{run}"),
                    "name": job_name,
                    "sessionType": "BackupVmJob",
                    "startTimeUtc": to_iso(start),
                    "finishTimeUtc": created,
                    "result": "Success",
                    "objectsCount": len(protected),
                    "totalBytes": sum(vm["disks"][0]["size"] for vm in protected),
                    "context": {
                        "jobId": job_id,
                        "jobName": job_name,
                        "backupMode": "IncrementalBackup",
                    },
                }
            )
            for vm in protected:
                restore_points.append(
                    {
                        "id": make_id("restorePoint", f"{vm['id']}/{run}"),
                        "type": "Backup",
                        "creationTimeUtc": created,
                        "jobId": job_id,
                        "jobName": job_name,
                        "clusterId": cluster_id,
                        "isCorrupted": False,
                        "backupType": "Full" if run == 0 else "Incremental",
                        "backupSnapshotId": None,
                        "backupId": make_id("backup", vm["id"]),
                        "vms": [vm],
                    }
                )
        clusters.append(
            {
                "id": cluster_id,
                "name": cluster_name,
                "description": f"Generated cluster {number + 1}",
                "address": f"203.0.113.{(number + 1) % 250}",
                "port": 9440,
                "state": "Available",
                "version": "6.8.1",
                "prismCentralId": None,
                "networks": networks,
                "storageContainers": [container],
                "hosts": [
                    {
                        "id": make_id("host", f"{cluster_key}/{host}"),
                        "name": f"{cluster_name.lower()}-node-{host:02d}",
                        "address": f"203.0.113.{(100 + host) % 250}",
                        "hypervisorVersion": "AHV 10.0.1",
                        "cpuCores": 64,
                        "memoryBytes": 512 * GIB,
                    }
                    for host in range(1, 4)
                ],
                "protectionDomains": [],
                "volumeGroups": [],
                "vms": vms,
            }
        )
    return {
        "seed": seed,
        "backupServer": {
            "address": "vbr01.example.com",
            "port": 10006,
            "state": "Available",
            "version": "12.3.1.1139",
        },
        "repositories": [
            {
                "id": make_id("repository", "default"),
                "name": "Default Backup Repository",
                "totalSpace": 100 * 1024 * GIB,
                "freeSpace": 60 * 1024 * GIB,
                "usedSpace": 40 * 1024 * GIB,
            }
        ],
        "clusters": clusters,
        "restorePoints": restore_points,
        "jobs": jobs,
        "sessions": sessions,
    }
