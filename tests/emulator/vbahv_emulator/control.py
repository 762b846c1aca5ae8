"""The control API under /_emulator: reset, generate, settings, faults, request log, Nutanix side.

It needs no authentication, takes and returns JSON, and is never subject to fault rules.
"""

import re
import time

from vbahv_emulator import actions, timeutil
from vbahv_emulator.errors import bad_request, empty_response, json_response, not_found
from vbahv_emulator.generator import generate_dataset
from vbahv_emulator.models import (
    ConfigUpdate,
    FaultRule,
    GenerateSpec,
    NutanixVmCreate,
    ResetBody,
)
from vbahv_emulator.query import Param
from vbahv_emulator.routing import Context, RouteTable
from vbahv_emulator.store import ClusterState, State

PREFIX = "/_emulator"
routes = RouteTable()


def _summary(state: State) -> dict:
    return {
        "clusters": len(state.clusters),
        "vms": sum(len(c.known_vms) for c in state.clusters.values()),
        "restorePoints": len(state.restore_points),
        "jobs": len(state.jobs),
        "sessions": len(state.sessions),
    }


@routes.route("POST", f"{PREFIX}/reset", body=ResetBody, auth=False, empty_body_ok=True)
def reset(ctx: Context):
    ctx.emu.reset(ctx.body.dataset)
    return json_response(_summary(ctx.state))


@routes.route("POST", f"{PREFIX}/generate", body=GenerateSpec, auth=False, empty_body_ok=True)
def generate(ctx: Context):
    started = time.perf_counter()
    ctx.emu.replace_dataset(generate_dataset(ctx.body.model_dump()))
    ctx.state.rp_index()
    return json_response(_summary(ctx.state) | {"seconds": round(time.perf_counter() - started, 3)})


@routes.route("GET", f"{PREFIX}/config", auth=False)
def get_config(ctx: Context):
    return json_response(ctx.emu.config.as_dict())


@routes.route("POST", f"{PREFIX}/config", body=ConfigUpdate, auth=False, empty_body_ok=True)
def set_config(ctx: Context):
    ctx.emu.config.update(ctx.body.model_dump(exclude_unset=True, mode="json"))
    return json_response(ctx.emu.config.as_dict())


# --- Faults -----------------------------------------------------------------------------------


@routes.route("POST", f"{PREFIX}/faults", body=FaultRule, auth=False)
def add_fault(ctx: Context):
    rule = ctx.body.model_dump()
    if (
        rule["status"] is None
        and rule["delay"] is None
        and not rule["drop"]
        and not rule["expireToken"]
    ):
        raise bad_request(
            "A fault rule needs at least one of status, delay, drop or expireToken.", "status"
        )
    if rule["drop"] and rule["status"] is not None:
        raise bad_request("A fault rule cannot both drop the connection and send a status.", "drop")
    try:
        fault = ctx.emu.faults.add(rule)
    except re.error as exc:
        raise bad_request(
            f"The path pattern {rule['path']!r} is not a valid regular expression: {exc}.", "path"
        ) from None
    return json_response(fault.as_dict(), status=201)


@routes.route("GET", f"{PREFIX}/faults", auth=False)
def list_faults(ctx: Context):
    return json_response([fault.as_dict() for fault in ctx.emu.faults.faults])


@routes.route("DELETE", f"{PREFIX}/faults", auth=False)
def clear_faults(ctx: Context):
    ctx.emu.faults.clear()
    return empty_response()


# --- Tokens, request log, counters ------------------------------------------------------------


@routes.route("POST", f"{PREFIX}/tokens/expire", auth=False)
def expire_tokens(ctx: Context):
    return json_response({"expired": ctx.emu.tokens.expire_all_access()})


@routes.route(
    "GET", f"{PREFIX}/requests", query={"method": Param("str"), "path": Param("str")}, auth=False
)
def list_requests(ctx: Context):
    pattern = None
    if "path" in ctx.query:
        try:
            pattern = re.compile(ctx.query["path"])
        except re.error as exc:
            raise bad_request(
                f"The path pattern is not a valid regular expression: {exc}.", "path"
            ) from None
    return json_response(ctx.emu.log.select(ctx.query.get("method"), pattern))


@routes.route("DELETE", f"{PREFIX}/requests", auth=False)
def clear_requests(ctx: Context):
    ctx.emu.log.clear()
    return empty_response()


@routes.route("GET", f"{PREFIX}/counters", auth=False)
def get_counters(ctx: Context):
    return json_response(ctx.emu.log.counters())


@routes.route("DELETE", f"{PREFIX}/counters", auth=False)
def clear_counters(ctx: Context):
    ctx.emu.log.clear_counters()
    return empty_response()


# --- Nutanix side -----------------------------------------------------------------------------


def _cluster(ctx: Context) -> ClusterState:
    cluster_id = ctx.path_param("clusterId")
    cluster = ctx.state.cluster(cluster_id)
    if cluster is None:
        raise not_found(f"Cluster {cluster_id} was not found.")
    return cluster


@routes.route(
    "POST",
    f"{PREFIX}/nutanix/clusters/{{clusterId}}/vms",
    body=NutanixVmCreate,
    auth=False,
    empty_body_ok=True,
)
def add_nutanix_vm(ctx: Context):
    cluster = _cluster(ctx)
    state = ctx.state
    spec: NutanixVmCreate = ctx.body
    vm_id = spec.id or state.new_id()
    if vm_id in cluster.nutanix_vms:
        raise bad_request(f"A VM with id {vm_id} already exists on cluster {cluster.name}.", "id")

    # Without disks or adapters in the request, the VM gets one default disk and adapter.
    disk_specs = spec.disks if spec.disks is not None else [None]
    default_container = cluster.storage_containers[0] if cluster.storage_containers else None
    disks = []
    for position, disk in enumerate(disk_specs):
        disks.append(_new_disk(state, cluster, disk, disks, default_container, position))

    nic_specs = spec.networkAdapters if spec.networkAdapters is not None else [None]
    nics = [_new_nic(state, cluster, nic, position) for position, nic in enumerate(nic_specs)]

    vm = {
        "id": vm_id,
        "name": spec.name or f"new-vm-{vm_id[:8]}",
        "protectionDomain": spec.protectionDomain,
        "consistencyGroup": None,
        "disks": disks,
        "volumeGroups": [],
        "networkAdapters": nics,
        "guestOsVersion": spec.guestOsVersion,
    }
    return json_response(cluster.put_vm(vm, known=False), status=201)


def _new_nic(state: State, cluster: ClusterState, nic, position: int) -> dict:
    """Build an adapter on the requested network, by default VM-Network or the first network."""
    network = cluster.network_named("VM-Network")
    if network is None and cluster.networks:
        network = cluster.networks[0]
    if nic is not None and nic.networkId is not None:
        network = cluster.network(nic.networkId)
        if network is None:
            raise bad_request(
                f"The network {nic.networkId} is not on cluster {cluster.name}.",
                f"networkAdapters[{position}].networkId",
            )
    mac = nic.macAddress if nic is not None else None
    return {
        "id": state.new_id(),
        "networkId": network and network["id"],
        "networkName": network and network["name"],
        "ipAddresses": list(nic.ipAddresses) if nic is not None else [],
        "macAddress": mac or state.new_mac(),
    }


def _new_disk(
    state: State,
    cluster: ClusterState,
    disk,
    existing: list[dict],
    default_container,
    position: int,
) -> dict:
    bus = disk.busType if disk is not None else "Scsi"
    used = {d["index"] for d in existing if d["busType"] == bus}
    index = (
        disk.index
        if disk is not None and disk.index is not None
        else next(i for i in range(len(used) + 1) if i not in used)
    )
    is_cdrom = disk is not None and disk.isCdrom
    container = None if is_cdrom else default_container
    if disk is not None and disk.storageContainerId is not None:
        container = cluster.container(disk.storageContainerId)
        if container is None:
            raise bad_request(
                f"The storage container {disk.storageContainerId} is not on cluster "
                f"{cluster.name}.",
                f"disks[{position}].storageContainerId",
            )
    size = 20 * 1024**3 if disk is None else disk.size
    if is_cdrom:
        size = 0
    return {
        "id": state.new_id(),
        "busType": bus,
        "index": index,
        "diskLabel": (disk.diskLabel if disk is not None else None) or f"{bus.lower()}.{index}",
        "isCdrom": is_cdrom,
        "isVolumeGroup": False,
        "size": size,
        "storageContainerId": container and container["id"],
        "storageContainerName": container and container["name"],
    }


@routes.route("DELETE", f"{PREFIX}/nutanix/clusters/{{clusterId}}/vms/{{vmId}}", auth=False)
def remove_nutanix_vm(ctx: Context):
    cluster = _cluster(ctx)
    vm_id = ctx.path_param("vmId")
    if cluster.nutanix_vms.pop(vm_id, None) is None:
        raise not_found(f"VM {vm_id} does not exist on the Nutanix side of cluster {cluster.name}.")
    return empty_response()


# --- State dump -------------------------------------------------------------------------------


@routes.route("GET", f"{PREFIX}/state", auth=False)
def dump_state(ctx: Context):
    state = ctx.state
    moment = timeutil.now()
    clusters = []
    for cluster in state.clusters.values():
        clusters.append(
            {
                **cluster.info,
                "networks": cluster.networks,
                "storageContainers": cluster.storage_containers,
                "hosts": cluster.hosts,
                "protectionDomains": cluster.protection_domain_rows(),
                "volumeGroups": [
                    g | {"disks": cluster.volume_group_disks.get(g["id"], [])}
                    for g in cluster.volume_groups
                ],
                "nutanixVms": list(cluster.nutanix_vms.values()),
                "pluginVms": list(cluster.known_vms.values()),
            }
        )
    return json_response(
        {
            "seed": state.seed,
            "backupServer": state.backup_server,
            "repositories": state.repositories,
            "clusters": clusters,
            "restorePoints": state.rp_index().ordered,
            "jobs": [actions.render_job(state, job) for job in state.jobs.values()],
            "sessions": [
                s.detail(moment) | {"effectPending": s.id in state.pending}
                for s in state.sessions_newest_first()
            ],
            "tokens": {
                "access": len(ctx.emu.tokens.access),
                "refresh": len(ctx.emu.tokens.refresh),
            },
        }
    )
