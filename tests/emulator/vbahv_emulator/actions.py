"""Operations behind the API's actions: restores, jobs, rescans and session control.

Each operation validates its request, then creates a Session whose effect runs once when the
session finishes with Success or Warning (see State.process_due).
"""

from vbahv_emulator import timeutil
from vbahv_emulator.emulator import Emulator
from vbahv_emulator.errors import ApiError, bad_request, not_found
from vbahv_emulator.models import DiskRestoreSettings, NetworkAdapterRemap, RestoreSettings
from vbahv_emulator.sessions import Session, default_steps
from vbahv_emulator.store import ClusterState, State

JOB_SESSION_TYPES = {
    "Backup": "BackupVmJob",
    "Snapshot": "SnapshotVmJob",
    "PdSnapshot": "SnapshotPdJob",
}
# The v7 SessionType enum has no value for an inventory rescan, so it runs as Internal.
INVENTORY_RESCAN_SESSION_TYPE = "Internal"


def new_session(
    emu: Emulator,
    session_type: str,
    name: str,
    *,
    context: dict,
    subject: str | None = None,
    objects_count: int = 1,
    total_bytes: int = 0,
    effect=None,
    forced_outcome: tuple[str, str] | None = None,
) -> Session:
    """Create a session that starts now, with the configured duration and outcome for its type.

    `forced_outcome` (result, message) wins over the configured outcome, as a corrupted backup
    fails whatever the test configured.
    """
    outcome = emu.config.sessionOutcomes.get(session_type) or {"result": "Success", "message": None}
    result, message = forced_outcome or (outcome["result"], outcome.get("message"))
    session = Session(
        id=emu.state.new_id(),
        name=name,
        session_type=session_type,
        start=timeutil.now(),
        duration=emu.config.duration_for(session_type),
        result=result,
        message=message,
        context=context,
        objects_count=objects_count,
        total_bytes=total_bytes,
        steps=default_steps(session_type, subject),
        effect=effect,
    )
    return emu.state.add_session(session)


def stop_session(emu: Emulator, session: Session) -> None:
    moment = timeutil.now()
    state = session.state_at(moment)
    if state in ("Finished", "Cancelled"):
        raise bad_request(
            f"The session {session.id} cannot be stopped because it is {state}.", "id"
        )
    if state == "Cancelling":
        return
    session.stop_time = moment


# --- Restore ----------------------------------------------------------------------------------


def _vm_size(vm: dict) -> int:
    return vm.get("vmSize") or 0


def _restore_point(state: State, point_id: str) -> dict:
    point = state.restore_points.get(point_id)
    if point is None:
        raise not_found(f"Restore point {point_id} was not found.")
    if point["type"] == "VolumeGroupSnapshot":
        raise bad_request(
            f"Restore point {point_id} is a VolumeGroupSnapshot; VM and disk restores need a "
            "Backup, BackupSnapshot, UserSnapshot or PdSnapshot point.",
            "restorePointId",
        )
    return point


def _source_vm(point: dict, source_vm_id: str | None) -> dict:
    """Pick the VM to restore from a point. A PdSnapshot point needs `sourceVmId` to choose one."""
    vm_ids = [vm["id"] for vm in point["vms"]]
    if point["type"] == "PdSnapshot":
        if not source_vm_id:
            raise bad_request(
                "sourceVmId is required for a PdSnapshot restore point; use one of its vmIds: "
                f"{', '.join(vm_ids)}.",
                "sourceVmId",
            )
    elif source_vm_id is None:
        return point["vms"][0]
    if source_vm_id not in vm_ids:
        raise bad_request(
            f"The VM {source_vm_id} is not in restore point {point['id']}; the point contains "
            f"{', '.join(vm_ids)}.",
            "sourceVmId",
        )
    return point["vms"][vm_ids.index(source_vm_id)]


def _check_remaps(
    remaps: list[NetworkAdapterRemap], source_vm: dict, cluster: ClusterState
) -> None:
    point_macs = {(nic.get("macAddress") or "").lower() for nic in source_vm["networkAdapters"]}
    seen: set[str] = set()
    for position, remap in enumerate(remaps):
        mac = (remap.macAddress or "").lower()
        if mac:
            if mac not in point_macs:
                raise bad_request(
                    f"The MAC address {remap.macAddress} is not an adapter of the VM in the "
                    "restore point "
                    f"(adapters: {', '.join(sorted(point_macs)) or 'none'}).",
                    f"networkAdapters[{position}].macAddress",
                )
            if mac in seen:
                raise bad_request(
                    f"The MAC address {remap.macAddress} is remapped more than once.",
                    f"networkAdapters[{position}].macAddress",
                )
            seen.add(mac)
        network_id = remap.value.networkId
        if network_id is not None and cluster.network(network_id) is None:
            raise bad_request(
                f"The network {network_id} is not on the target cluster {cluster.name} "
                f"({cluster.id}).",
                f"networkAdapters[{position}].value.networkId",
            )


def _restored_disks(
    state: State, disks: list[dict], cluster: ClusterState, container_id: str | None, keep_ids: bool
) -> list[dict]:
    fallback = cluster.storage_containers[0] if cluster.storage_containers else None
    result = []
    for disk in disks:
        if disk.get("isVolumeGroup") and not keep_ids:
            continue
        restored = dict(disk)
        if not keep_ids:
            restored["id"] = state.new_id()
        if not disk.get("isCdrom") and not disk.get("isVolumeGroup"):
            container = (
                cluster.container(container_id)
                or cluster.container(disk.get("storageContainerId"))
                or fallback
            )
            restored["storageContainerId"] = container and container["id"]
            restored["storageContainerName"] = container and container["name"]
        result.append(restored)
    return result


def _restored_nics(
    state: State,
    nics: list[dict],
    cluster: ClusterState,
    remaps: list[NetworkAdapterRemap],
    keep_ids: bool,
) -> list[dict]:
    by_mac = {(r.macAddress or "").lower(): r for r in remaps if r.macAddress}
    result = []
    for nic in nics:
        restored = dict(nic)
        if not keep_ids:
            restored["id"] = state.new_id()
        remap = by_mac.get((nic.get("macAddress") or "").lower())
        network = cluster.network(nic.get("networkId")) or cluster.network_named(
            nic.get("networkName")
        )
        if remap is not None:
            _apply_adapter_value(restored, remap, cluster)
        else:
            # An unmapped adapter keeps its network when the target cluster has it, by id and
            # then by name. Otherwise the adapter is left disconnected.
            restored["networkId"] = network and network["id"]
            restored["networkName"] = network and network["name"]
        result.append(restored)
    for remap in remaps:
        if not remap.macAddress:
            added = {
                "id": state.new_id(),
                "networkId": None,
                "networkName": None,
                "ipAddresses": [],
                "macAddress": state.new_mac(),
            }
            _apply_adapter_value(added, remap, cluster)
            result.append(added)
    return result


def _apply_adapter_value(nic: dict, remap: NetworkAdapterRemap, cluster: ClusterState) -> None:
    value = remap.value
    if value.networkId is not None:
        network = cluster.network(value.networkId)
        nic["networkId"] = network["id"]
        nic["networkName"] = network["name"]
    if value.ipAddresses is not None:
        nic["ipAddresses"] = list(value.ipAddresses)
    if value.macAddress:
        nic["macAddress"] = value.macAddress


def start_restore(emu: Emulator, settings: RestoreSettings) -> Session:
    state = emu.state
    point = _restore_point(state, settings.restorePointId)
    source_vm = _source_vm(point, settings.sourceVmId)
    to_original = bool(settings.restoreToOriginal)
    if to_original:
        for name in ("targetVmName", "targetVmClusterId"):
            if getattr(settings, name) is not None:
                raise bad_request(f"{name} cannot be combined with restoreToOriginal: true.", name)
        cluster = state.cluster(point["clusterId"])
        if cluster is None:
            raise not_found(
                f"The cluster {point['clusterId']} of restore point {point['id']} is no longer "
                "registered."
            )
    else:
        if settings.targetVmName is None or not settings.targetVmName.strip():
            raise bad_request(
                "targetVmName is required unless restoreToOriginal is true.", "targetVmName"
            )
        cluster_id = settings.targetVmClusterId or point["clusterId"]
        cluster = state.cluster(cluster_id)
        if cluster is None:
            raise not_found(f"The target cluster {cluster_id} was not found.")
    if (
        settings.storageContainerId is not None
        and cluster.container(settings.storageContainerId) is None
    ):
        raise bad_request(
            f"The storage container {settings.storageContainerId} is not on the target cluster "
            f"{cluster.name} ({cluster.id}).",
            "storageContainerId",
        )
    remaps = settings.networkAdapters or []
    _check_remaps(remaps, source_vm, cluster)

    def effect(finish_time: float) -> None:
        vm_id = source_vm["id"] if to_original else state.new_id()
        restored = dict(source_vm)
        restored["id"] = vm_id
        if not to_original:
            restored["name"] = settings.targetVmName
            restored["protectionDomain"] = None
            restored["consistencyGroup"] = None
            restored["volumeGroups"] = []
        restored["disks"] = _restored_disks(
            state, source_vm["disks"], cluster, settings.storageContainerId, to_original
        )
        restored["networkAdapters"] = _restored_nics(
            state, source_vm["networkAdapters"], cluster, remaps, to_original
        )
        cluster.put_vm(restored)

    forced = None
    if point["type"] == "Backup" and point.get("isCorrupted"):
        forced = (
            "Error",
            f"Restore point {point['id']} of {source_vm['name']} is corrupted: the backup file "
            "failed its integrity check.",
        )
    target = "original location" if to_original else f"'{settings.targetVmName}' on {cluster.name}"
    return new_session(
        emu,
        "RestoreVm",
        f"Restore VM {source_vm['name']}",
        context={
            "objectId": source_vm["id"],
            "objectName": source_vm["name"],
            "reason": settings.reason,
        },
        subject=f"{source_vm['name']} to {target}",
        total_bytes=_vm_size(source_vm),
        effect=effect,
        forced_outcome=forced,
    )


def start_disk_restore(emu: Emulator, settings: DiskRestoreSettings) -> Session:
    state = emu.state
    point = _restore_point(state, settings.restorePointId)
    source_vm = _source_vm(point, settings.sourceVmId)
    target_vm = state.find_known_vm(settings.targetVmId)
    if target_vm is None:
        raise not_found(f"The target VM {settings.targetVmId} was not found.")
    cluster = state.clusters[target_vm["clusterId"]]
    point_disks = {disk["id"]: disk for disk in source_vm["disks"]}
    slots: set[tuple[str, int]] = set()
    for position, item in enumerate(settings.diskSettings):
        disk = point_disks.get(item.diskId)
        if disk is None:
            raise bad_request(
                f"The disk {item.diskId} is not a disk of {source_vm['name']} in restore point "
                f"{point['id']}.",
                f"diskSettings[{position}].diskId",
            )
        if disk.get("isCdrom"):
            raise bad_request(
                f"The disk {item.diskId} is a CD-ROM and cannot be restored.",
                f"diskSettings[{position}].diskId",
            )
        if (
            item.storageContainerId is not None
            and cluster.container(item.storageContainerId) is None
        ):
            raise bad_request(
                f"The storage container {item.storageContainerId} is not on the target VM's "
                f"cluster {cluster.name}.",
                f"diskSettings[{position}].storageContainerId",
            )
        slot = (item.busType, item.index)
        if slot in slots:
            raise bad_request(
                f"Two disks target {item.busType} index {item.index}.",
                f"diskSettings[{position}].index",
            )
        slots.add(slot)

    def effect(finish_time: float) -> None:
        current = cluster.nutanix_vms.get(settings.targetVmId)
        if current is None:
            return
        disks = [dict(d) for d in current["disks"]]
        for item in settings.diskSettings:
            source = point_disks[item.diskId]
            restored = _restored_disks(state, [source], cluster, item.storageContainerId, False)[0]
            restored["busType"] = item.busType
            restored["index"] = item.index
            restored["diskLabel"] = f"{item.busType.lower()}.{item.index}"
            disks = [d for d in disks if (d["busType"], d["index"]) != (item.busType, item.index)]
            disks.append(restored)
        updated = dict(current)
        updated["disks"] = sorted(disks, key=lambda d: (d["busType"], d["index"]))
        cluster.put_vm(updated, known=settings.targetVmId in cluster.known_vms)

    forced = None
    if point["type"] == "Backup" and point.get("isCorrupted"):
        forced = (
            "Error",
            f"Restore point {point['id']} of {source_vm['name']} is corrupted: the backup file "
            "failed its integrity check.",
        )
    return new_session(
        emu,
        "RestoreVmDisks",
        f"Restore disks of {source_vm['name']} to {target_vm['name']}",
        context={
            "objectId": source_vm["id"],
            "objectName": source_vm["name"],
            "reason": settings.reason,
        },
        subject=f"{source_vm['name']}",
        objects_count=len(settings.diskSettings),
        total_bytes=sum(point_disks[item.diskId]["size"] for item in settings.diskSettings),
        effect=effect,
        forced_outcome=forced,
    )


# --- Jobs -------------------------------------------------------------------------------------


def job_members(state: State, job: dict) -> list[dict]:
    """List the VMs a job run processes: included VMs and members of included protection
    domains that are in the plug-in's inventory, minus exclusions."""
    settings = job["settings"]
    cluster = state.cluster(settings["clusterId"])
    if cluster is None:
        return []
    excluded = {obj["id"] for obj in (settings.get("excludes") or {}).get("objects", [])}
    members: dict[str, dict] = {}
    for obj in (settings.get("includes") or {}).get("objects", []):
        if obj.get("type") == "ProtectionDomain":
            for vm in cluster.known_vms.values():
                if vm.get("protectionDomain") == obj["id"]:
                    members[vm["id"]] = vm
        else:
            vm = cluster.known_vms.get(obj["id"])
            if vm is not None:
                members[vm["id"]] = vm
    return [vm for vm_id, vm in members.items() if vm_id not in excluded]


def job_status(state: State, job: dict) -> str:
    last = state.last_job_session(job["id"])
    if last is None:
        return "NeverStarted"
    current = last.state_at(timeutil.now())
    if current in ("Starting", "Running"):
        return "Running"
    if current == "Cancelling":
        return "Stopping"
    if current == "Cancelled":
        return "Canceled"
    return {"Success": "Success", "Warning": "Warning", "Error": "Failed"}[last.result]


def render_job_settings(job: dict) -> dict:
    return {
        "id": job["id"],
        "name": job["name"],
        "description": job.get("description"),
        "mode": job["mode"],
        **job["settings"],
    }


def render_job(state: State, job: dict) -> dict:
    last = state.last_job_session(job["id"])
    return {
        "id": job["id"],
        "name": job["name"],
        "description": job.get("description"),
        "mode": job["mode"],
        "settings": render_job_settings(job),
        "status": job_status(state, job),
        "objects": len(job_members(state, job)),
        "nextRunInfo": job.get("nextRunInfo") if job["enabled"] else "Disabled",
        "nextRunUtc": job.get("nextRunUtc") if job["enabled"] else None,
        "lastRunUtc": timeutil.to_iso(last.start) if last else None,
        "lastSessionId": last.id if last else None,
        "enabled": job["enabled"],
    }


def start_job(emu: Emulator, job: dict, backup_mode: str | None) -> Session:
    state = emu.state
    if not job["enabled"]:
        raise bad_request(
            f"The job '{job['name']}' is disabled; enable it before starting it.", "id"
        )
    last = state.last_job_session(job["id"])
    if last is not None and last.is_active(timeutil.now()):
        raise bad_request(f"The job '{job['name']}' is already running (session {last.id}).", "id")
    members = job_members(state, job)
    cluster = state.clusters[job["settings"]["clusterId"]]
    mode = job["mode"]
    member_ids = [vm["id"] for vm in members]

    def effect(finish_time: float) -> None:
        created = timeutil.to_iso(finish_time)
        current = [
            cluster.nutanix_vms[vm_id] for vm_id in member_ids if vm_id in cluster.nutanix_vms
        ]
        if mode == "PdSnapshot":
            domains = sorted(
                {vm.get("protectionDomain") for vm in current if vm.get("protectionDomain")}
            )
            for domain in domains:
                state.add_restore_point(
                    _point(
                        state,
                        "PdSnapshot",
                        created,
                        job,
                        cluster,
                        [vm for vm in current if vm.get("protectionDomain") == domain],
                        snapshotId=state.new_id(),
                        pdName=domain,
                    )
                )
            return
        # Read the index once: adding points invalidates it.
        index = state.rp_index()
        for vm in current:
            if mode == "Backup":
                previous = [
                    p
                    for p in index.by_vm.get(vm["id"], [])
                    if p["type"] == "Backup" and p["jobId"] == job["id"]
                ]
                full = backup_mode == "ActiveFullBackup" or not previous
                state.add_restore_point(
                    _point(
                        state,
                        "Backup",
                        created,
                        job,
                        cluster,
                        [vm],
                        isCorrupted=False,
                        backupType="Full" if full else "Incremental",
                        backupSnapshotId=None,
                        backupId=previous[0]["backupId"] if previous else state.new_id(),
                    )
                )
            else:
                state.add_restore_point(
                    _point(
                        state,
                        "BackupSnapshot",
                        created,
                        job,
                        cluster,
                        [vm],
                        snapshotName=f"veeam-{vm['name']}-{created}",
                        snapshotType="ApplicationConsistent",
                    )
                )

    return new_session(
        emu,
        JOB_SESSION_TYPES[mode],
        job["name"],
        context={
            "jobId": job["id"],
            "jobName": job["name"],
            "backupMode": backup_mode or "IncrementalBackup",
        },
        subject=job["name"],
        objects_count=len(members),
        total_bytes=sum(_vm_size(vm) for vm in members),
        effect=effect,
    )


def _point(
    state: State,
    point_type: str,
    created: str,
    job: dict,
    cluster: ClusterState,
    vms: list[dict],
    **details,
) -> dict:
    return {
        "id": state.new_id(),
        "type": point_type,
        "creationTimeUtc": created,
        "jobId": job["id"],
        "jobName": job["name"],
        "clusterId": cluster.id,
        "vms": list(vms),
        **details,
    }


def stop_job(emu: Emulator, job: dict) -> None:
    last = emu.state.last_job_session(job["id"])
    if last is None or not last.is_active(timeutil.now()):
        raise bad_request(f"The job '{job['name']}' is not running.", "id")
    stop_session(emu, last)


# --- Rescans ----------------------------------------------------------------------------------


def start_inventory_rescan(emu: Emulator, cluster: ClusterState) -> Session:
    return new_session(
        emu,
        INVENTORY_RESCAN_SESSION_TYPE,
        f"Infrastructure rescan of {cluster.name}",
        context={"objectId": cluster.id, "objectName": cluster.name},
        subject=cluster.name,
        objects_count=len(cluster.nutanix_vms),
        effect=lambda finish_time: cluster.rescan(),
    )


def start_snapshot_rescan(emu: Emulator, cluster: ClusterState) -> Session:
    return new_session(
        emu,
        "RescanSnapshots",
        f"Rescan snapshots of {cluster.name}",
        context={"objectId": cluster.id, "objectName": cluster.name},
        subject=cluster.name,
        objects_count=len(cluster.known_vms),
    )


def start_backup_rescan(emu: Emulator) -> Session:
    server = emu.state.backup_server
    return new_session(
        emu,
        "RescanBackups",
        "Rescan backups",
        context={"objectName": server.get("address")},
        subject="the backup repositories",
        objects_count=len(emu.state.repositories),
    )


def require(value, message: str):
    """Return `value`, or raise a 404 with `message` when it is None."""
    if value is None:
        raise ApiError(404, message)
    return value
