"""The emulator's in-memory state: clusters on both sides, restore points, jobs and sessions.

Each cluster keeps two VM maps. `nutanix_vms` is what exists on the Nutanix cluster;
`known_vms` is the plug-in's inventory, which only an inventory rescan copies over. VM dicts
are never changed in place: an update stores a new dict, so both maps and restore points may
share one dict safely.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass, field

from vbahv_emulator import timeutil
from vbahv_emulator.sessions import Session

VM_FIELDS = (
    "id",
    "name",
    "clusterId",
    "clusterName",
    "vmSize",
    "volumeGroupSize",
    "protectionDomain",
    "consistencyGroup",
    "disks",
    "volumeGroups",
    "networkAdapters",
    "guestOsVersion",
)
CLUSTER_FIELDS = (
    "id",
    "name",
    "description",
    "address",
    "port",
    "state",
    "version",
    "prismCentralId",
)
RESTORE_POINT_BASE_FIELDS = ("id", "type", "creationTimeUtc", "jobId", "jobName")
# Type-specific fields of the detail endpoints, after the base fields.
RESTORE_POINT_DETAIL_FIELDS = {
    "Backup": ("isCorrupted", "backupType", "backupSnapshotId", "vmId", "backupId", "clusterId"),
    "BackupSnapshot": ("snapshotName", "snapshotType", "vmId"),
    "UserSnapshot": ("snapshotName", "vmId"),
    "PdSnapshot": ("snapshotId", "pdName", "vmIds"),
}


def derived_id(seed: int, kind: str, key: str) -> str:
    """Build a UUID that depends only on the seed, the object kind and a key, never on order."""
    digest = hashlib.sha256(f"{seed}:{kind}:{key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def finish_vm(vm: dict, cluster: "ClusterState") -> dict:
    """Copy `vm` with every VirtualMachine field, its cluster and its sizes filled in."""
    disks = vm.get("disks") or []
    result = {name: vm.get(name) for name in VM_FIELDS}
    result["disks"] = disks
    result["networkAdapters"] = vm.get("networkAdapters") or []
    result["volumeGroups"] = vm.get("volumeGroups") or []
    result["clusterId"] = cluster.id
    result["clusterName"] = cluster.name
    result["vmSize"] = sum(
        d["size"] for d in disks if not d.get("isCdrom") and not d.get("isVolumeGroup")
    )
    result["volumeGroupSize"] = sum(d["size"] for d in disks if d.get("isVolumeGroup"))
    return result


@dataclass
class ClusterState:
    info: dict
    networks: list[dict] = field(default_factory=list)
    storage_containers: list[dict] = field(default_factory=list)
    hosts: list[dict] = field(default_factory=list)
    protection_domains: list[str] = field(default_factory=list)
    volume_groups: list[dict] = field(default_factory=list)
    volume_group_disks: dict[str, list[dict]] = field(default_factory=dict)
    nutanix_vms: dict[str, dict] = field(default_factory=dict)
    known_vms: dict[str, dict] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.info["id"]

    @property
    def name(self) -> str:
        return self.info["name"]

    def network(self, network_id: str | None) -> dict | None:
        return next((n for n in self.networks if n["id"] == network_id), None)

    def network_named(self, name: str | None) -> dict | None:
        return next((n for n in self.networks if n["name"] == name), None)

    def container(self, container_id: str | None) -> dict | None:
        return next((c for c in self.storage_containers if c["id"] == container_id), None)

    def put_vm(self, vm: dict, *, known: bool = True) -> dict:
        """Store a VM on the Nutanix side and, when `known`, in the plug-in's inventory too."""
        finished = finish_vm(vm, self)
        self.nutanix_vms[finished["id"]] = finished
        if known:
            self.known_vms[finished["id"]] = finished
        return finished

    def rescan(self) -> None:
        """Copy the Nutanix side into the plug-in's inventory, as an inventory rescan does."""
        self.known_vms = dict(self.nutanix_vms)

    def protection_domain_rows(self) -> list[dict]:
        rows = []
        for name in self.protection_domains:
            members = [vm for vm in self.known_vms.values() if vm.get("protectionDomain") == name]
            rows.append(
                {
                    "name": name,
                    "virtualMachinesSize": sum(vm["vmSize"] for vm in members),
                    "virtualMachinesCount": len(members),
                }
            )
        return rows


@dataclass
class RestorePointIndex:
    """Restore points newest first, by VM, and the protected VMs derived from them."""

    ordered: list[dict]
    by_vm: dict[str, list[dict]]
    protected: list[dict]
    protected_by_id: dict[str, dict]


class State:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.clusters: dict[str, ClusterState] = {}
        self.restore_points: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.sessions: dict[str, Session] = {}
        # Sessions whose effect has not been applied yet.
        self.pending: dict[str, Session] = {}
        self.backup_server: dict = {}
        self.repositories: list[dict] = []
        self._rp_version = 0
        self._rp_index: RestorePointIndex | None = None
        self._rp_index_version = -1

    # --- Ids ----------------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_mac(self) -> str:
        tail = ":".join(f"{self.rng.randrange(256):02x}" for _octet in range(3))
        return f"50:6b:8d:{tail}"

    # --- Look-ups -----------------------------------------------------------------------------

    def cluster(self, cluster_id: str) -> ClusterState | None:
        return self.clusters.get(cluster_id)

    def find_known_vm(self, vm_id: str) -> dict | None:
        for cluster in self.clusters.values():
            vm = cluster.known_vms.get(vm_id)
            if vm is not None:
                return vm
        return None

    def all_known_vms(self) -> list[dict]:
        vms: list[dict] = []
        for cluster in self.clusters.values():
            vms.extend(cluster.known_vms.values())
        return vms

    # --- Restore points -----------------------------------------------------------------------

    def add_restore_point(self, point: dict) -> None:
        self.restore_points[point["id"]] = point
        self._rp_version += 1

    def delete_restore_point(self, point_id: str) -> None:
        del self.restore_points[point_id]
        self._rp_version += 1

    def rp_index(self) -> RestorePointIndex:
        if self._rp_index is None or self._rp_index_version != self._rp_version:
            self._rp_index = self._build_rp_index()
            self._rp_index_version = self._rp_version
        return self._rp_index

    def _build_rp_index(self) -> RestorePointIndex:
        ordered = sorted(
            self.restore_points.values(),
            key=lambda p: timeutil.parse_iso(p["creationTimeUtc"]),
            reverse=True,
        )
        by_vm: dict[str, list[dict]] = {}
        protected: dict[str, dict] = {}
        for point in ordered:
            for vm in point["vms"]:
                by_vm.setdefault(vm["id"], []).append(point)
                row = protected.get(vm["id"])
                if row is None:
                    # Points are newest first, so the first one seen is the latest.
                    cluster = self.clusters.get(point["clusterId"])
                    row = {
                        "id": vm["id"],
                        "name": vm["name"],
                        "snapshots": 0,
                        "backups": 0,
                        "clusterId": point["clusterId"],
                        "clusterName": cluster.name if cluster else vm.get("clusterName"),
                        "lastProtectionDateUtc": point["creationTimeUtc"],
                        "lastRestorePointId": point["id"],
                    }
                    protected[vm["id"]] = row
                if point["type"] == "Backup":
                    row["backups"] += 1
                else:
                    row["snapshots"] += 1
        return RestorePointIndex(ordered, by_vm, list(protected.values()), protected)

    @staticmethod
    def rp_base(point: dict) -> dict:
        return {name: point.get(name) for name in RESTORE_POINT_BASE_FIELDS}

    @staticmethod
    def rp_detail(point: dict) -> dict:
        detail = State.rp_base(point)
        for name in RESTORE_POINT_DETAIL_FIELDS.get(point["type"], ()):
            if name == "vmId":
                detail[name] = point["vms"][0]["id"]
            elif name == "vmIds":
                detail[name] = [vm["id"] for vm in point["vms"]]
            else:
                detail[name] = point.get(name)
        return detail

    # --- Sessions -----------------------------------------------------------------------------

    def add_session(self, session: Session) -> Session:
        self.sessions[session.id] = session
        if session.effect is not None and not session.effect_applied:
            self.pending[session.id] = session
        return session

    def process_due(self, moment: float | None = None) -> int:
        """Apply the effects of every session that has ended by `moment`, each exactly once."""
        if not self.pending:
            return 0
        moment = timeutil.now() if moment is None else moment
        due = sorted(
            (s for s in self.pending.values() if s.end_time <= moment), key=lambda s: s.end_time
        )
        for session in due:
            del self.pending[session.id]
            if session.effect_applied:
                continue
            session.effect_applied = True
            if session.stop_time is None and session.result in ("Success", "Warning"):
                session.effect(session.end_time)
        return len(due)

    def job_sessions(self, job_id: str) -> list[Session]:
        return [s for s in self.sessions.values() if s.context.get("jobId") == job_id]

    def last_job_session(self, job_id: str) -> Session | None:
        sessions = self.job_sessions(job_id)
        return max(sessions, key=lambda s: s.start) if sessions else None

    def sessions_newest_first(self) -> list[Session]:
        return sorted(self.sessions.values(), key=lambda s: s.start, reverse=True)
