"""Turn a dataset dict into a State, and validate datasets that come from outside.

A dataset has the keys `seed`, `backupServer`, `repositories`, `clusters` (each with its
`networks`, `storageContainers`, `hosts`, `protectionDomains`, `volumeGroups`, `vms` and
optional `pendingVms`), `restorePoints`, `jobs` and `sessions`. `docs/emulator.md` describes
the format; DatasetModel below is its exact definition.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vbahv_emulator import timeutil
from vbahv_emulator.errors import ApiError
from vbahv_emulator.models import AhvBusType, GenerateSpec, validation_error
from vbahv_emulator.sessions import Session, default_steps
from vbahv_emulator.store import ClusterState, State, finish_vm


class DatasetModel_(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DiskData(DatasetModel_):
    id: str
    busType: AhvBusType
    index: Annotated[int, Field(ge=0)]
    diskLabel: str | None = None
    isCdrom: bool = False
    isVolumeGroup: bool = False
    size: Annotated[int, Field(ge=0)] = 0
    storageContainerId: str | None = None
    storageContainerName: str | None = None


class NicData(DatasetModel_):
    id: str
    networkId: str | None = None
    networkName: str | None = None
    ipAddresses: list[str] = Field(default_factory=list)
    macAddress: str | None = None


class VmData(DatasetModel_):
    id: str
    name: str
    protectionDomain: str | None = None
    consistencyGroup: str | None = None
    disks: list[DiskData] = Field(default_factory=list)
    volumeGroups: list[str] = Field(default_factory=list)
    networkAdapters: list[NicData] = Field(default_factory=list)
    guestOsVersion: str | None = None
    # Accepted so that VMs copied from API output load; the loader recomputes them.
    clusterId: str | None = None
    clusterName: str | None = None
    vmSize: int | None = None
    volumeGroupSize: int | None = None


class NetworkData(DatasetModel_):
    id: str
    name: str
    networkAddress: str | None = None
    ipManagementOn: bool = False
    prefixLength: int | None = None
    ipPool: list[str] = Field(default_factory=list)
    gatewayIp: str | None = None


class ContainerData(DatasetModel_):
    id: str
    name: str
    maxCapacity: int = 0
    reservedCapacity: int = 0
    usedSpace: int = 0
    freeSpace: int = 0


class HostData(DatasetModel_):
    id: str
    name: str
    address: str | None = None
    hypervisorVersion: str | None = None
    cpuCores: int | None = None
    memoryBytes: int | None = None


class VolumeGroupData(DatasetModel_):
    id: str
    name: str
    protectionDomain: str | None = None
    consistencyGroup: str | None = None
    disks: list[DiskData] = Field(default_factory=list)


class ClusterData(DatasetModel_):
    id: str
    name: str
    description: str | None = None
    address: str | None = None
    port: int = 9440
    state: Literal["Unknown", "Available", "Unavailable"] = "Available"
    version: str | None = None
    prismCentralId: str | None = None
    networks: list[NetworkData] = Field(default_factory=list)
    storageContainers: list[ContainerData] = Field(default_factory=list)
    hosts: list[HostData] = Field(default_factory=list)
    protectionDomains: list[str] = Field(default_factory=list)
    volumeGroups: list[VolumeGroupData] = Field(default_factory=list)
    vms: list[VmData] = Field(default_factory=list)
    # VMs that exist on the Nutanix side but that the plug-in finds only after a rescan.
    pendingVms: list[VmData] = Field(default_factory=list)


class RestorePointData(DatasetModel_):
    id: str
    type: Literal["Backup", "BackupSnapshot", "UserSnapshot", "PdSnapshot", "VolumeGroupSnapshot"]
    creationTimeUtc: str
    jobId: str | None = None
    jobName: str | None = None
    clusterId: str
    vms: list[VmData] = Field(default_factory=list)
    isCorrupted: bool | None = None
    backupType: str | None = None
    backupSnapshotId: str | None = None
    backupId: str | None = None
    snapshotName: str | None = None
    snapshotType: Literal["Unknown", "ApplicationConsistent", "CrashConsistent"] | None = None
    snapshotId: str | None = None
    pdName: str | None = None
    volumeGroupId: str | None = None
    disks: list[DiskData] = Field(default_factory=list)

    @model_validator(mode="after")
    def check_vm_count(self) -> "RestorePointData":
        if self.type == "PdSnapshot" and not self.vms:
            raise ValueError("a PdSnapshot restore point needs at least one VM in 'vms'")
        if self.type in ("Backup", "BackupSnapshot", "UserSnapshot") and len(self.vms) != 1:
            raise ValueError(f"a {self.type} restore point needs exactly one VM in 'vms'")
        timeutil.parse_iso(self.creationTimeUtc)
        return self


class JobData(DatasetModel_):
    id: str
    name: str
    description: str | None = None
    mode: Literal["Backup", "Snapshot", "PdSnapshot"]
    enabled: bool = True
    nextRunInfo: str | None = None
    nextRunUtc: str | None = None
    settings: dict[str, Any]

    @model_validator(mode="after")
    def check_settings(self) -> "JobData":
        if not isinstance(self.settings.get("clusterId"), str):
            raise ValueError("job settings need a 'clusterId' string")
        return self


class SessionData(DatasetModel_):
    id: str
    name: str
    sessionType: str
    startTimeUtc: str
    finishTimeUtc: str
    result: Literal["Success", "Warning", "Error"]
    message: str | None = None
    objectsCount: int = 1
    totalBytes: int = 0
    parentSessionId: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class BackupServerData(DatasetModel_):
    address: str
    port: int = 10006
    state: Literal["Unknown", "Available", "Unavailable"] = "Available"
    version: str | None = None


class RepositoryData(DatasetModel_):
    id: str
    name: str
    totalSpace: int = 0
    freeSpace: int = 0
    usedSpace: int = 0


class DatasetModel(DatasetModel_):
    seed: int = 1
    backupServer: BackupServerData | None = None
    repositories: list[RepositoryData] = Field(default_factory=list)
    clusters: list[ClusterData] = Field(default_factory=list)
    restorePoints: list[RestorePointData] = Field(default_factory=list)
    jobs: list[JobData] = Field(default_factory=list)
    sessions: list[SessionData] = Field(default_factory=list)


def validate_dataset(raw: Any) -> dict:
    """Validate a dataset or a `{"generate": spec}` request from outside into a dataset dict."""
    from vbahv_emulator.generator import generate_dataset

    if isinstance(raw, dict) and set(raw) == {"generate"}:
        try:
            spec = GenerateSpec.model_validate(raw["generate"])
        except ValidationError as exc:
            raise validation_error(exc, "GenerateSpec") from None
        return generate_dataset(spec.model_dump())
    try:
        model = DatasetModel.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, "dataset") from None
    dataset = model.model_dump()
    _check_references(dataset)
    return dataset


def _check_references(dataset: dict) -> None:
    cluster_ids = {c["id"] for c in dataset["clusters"]}
    problems = []
    for point in dataset["restorePoints"]:
        if point["clusterId"] not in cluster_ids:
            problems.append(
                f"restore point {point['id']} names unknown cluster {point['clusterId']}"
            )
    for job in dataset["jobs"]:
        if job["settings"]["clusterId"] not in cluster_ids:
            problems.append(f"job {job['id']} names unknown cluster {job['settings']['clusterId']}")
    if problems:
        raise ApiError(400, "The dataset is inconsistent: " + "; ".join(problems))


def build_state(dataset: dict) -> State:
    """Load a dataset dict (already validated or built by this package) into a new State."""
    state = State(dataset.get("seed", 1))
    state.backup_server = dict(dataset.get("backupServer") or {})
    state.repositories = [dict(r) for r in dataset.get("repositories", [])]
    for raw in dataset.get("clusters", []):
        info = {
            name: raw.get(name)
            for name in (
                "id",
                "name",
                "description",
                "address",
                "port",
                "state",
                "version",
                "prismCentralId",
            )
        }
        cluster = ClusterState(
            info=info,
            networks=list(raw.get("networks", [])),
            storage_containers=list(raw.get("storageContainers", [])),
            hosts=list(raw.get("hosts", [])),
            protection_domains=list(raw.get("protectionDomains", [])),
        )
        for group in raw.get("volumeGroups", []):
            cluster.volume_groups.append(
                {
                    name: group.get(name)
                    for name in ("id", "name", "protectionDomain", "consistencyGroup")
                }
            )
            cluster.volume_group_disks[group["id"]] = list(group.get("disks", []))
        for vm in raw.get("vms", []):
            cluster.put_vm(vm)
        for vm in raw.get("pendingVms", []) or []:
            cluster.put_vm(vm, known=False)
        state.clusters[cluster.id] = cluster
    for raw in dataset.get("restorePoints", []):
        cluster = state.clusters[raw["clusterId"]]
        point = dict(raw)
        point["vms"] = [finish_vm(vm, cluster) for vm in raw.get("vms", [])]
        state.restore_points[point["id"]] = point
    state._rp_version += 1
    for raw in dataset.get("jobs", []):
        state.jobs[raw["id"]] = dict(raw)
    for raw in dataset.get("sessions", []):
        start = timeutil.parse_iso(raw["startTimeUtc"])
        finish = timeutil.parse_iso(raw["finishTimeUtc"])
        context = dict(raw.get("context") or {})
        state.add_session(
            Session(
                id=raw["id"],
                name=raw["name"],
                session_type=raw["sessionType"],
                start=start,
                duration=max(finish - start, 0.0),
                result=raw["result"],
                message=raw.get("message"),
                context=context,
                objects_count=raw.get("objectsCount", 1),
                total_bytes=raw.get("totalBytes", 0),
                steps=default_steps(raw["sessionType"], context.get("objectName")),
                parent_session_id=raw.get("parentSessionId"),
            )
        )
    return state
