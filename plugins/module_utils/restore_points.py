# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Find VMs, including deleted ones, and choose among their restore points.

A VM that was deleted in Nutanix is what people restore most often, and the
plug-in's cluster inventory drops it at the next rescan. The protected VM
list (``GET /protectedVms``) keeps every VM that has restore points, so VMs are
looked up in both places.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import (
    api_path,
    encode_json_parameter,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import ApiError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    describe_items,
    list_clusters,
)

# Values of the RestorePointType enum.
RESTORE_POINT_TYPES = (
    "Unknown",
    "Backup",
    "BackupSnapshot",
    "UserSnapshot",
    "PdSnapshot",
    "VolumeGroupSnapshot",
)

# Detail endpoint under /restorePoints for each restore point type that has one.
DETAIL_SEGMENTS = {
    "Backup": "backups",
    "BackupSnapshot": "backupSnapshots",
    "UserSnapshot": "userSnapshots",
    "PdSnapshot": "protectionDomainSnapshots",
}

# The API lists the network adapters of these restore point types only.
NETWORK_ADAPTER_TYPES = frozenset(("Backup", "BackupSnapshot"))

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*([Zz]|[+-]\d{2}:?\d{2})?$"
)

# Sorts restore points without a readable creation time after all others.
_NO_TIME = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)


def parse_timestamp(text: str) -> datetime.datetime:
    """Parse an ISO 8601 date or date-time into an aware datetime.

    A value without an offset is UTC. Fractions longer than microseconds, as
    .NET writes them, are truncated. Raises ``ValueError`` for other text.
    """
    match = _TIMESTAMP.match(str(text).strip())
    if not match:
        raise ValueError(f"'{text}' is not an ISO 8601 date-time")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    zone = datetime.timezone.utc
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        zone = datetime.timezone(sign * delta)
    return datetime.datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        microsecond,
        tzinfo=zone,
    )


def parse_option_timestamp(value: str, option: str) -> datetime.datetime:
    """Parse a module option that contains an ISO 8601 date-time.

    Raises ``ModuleFailure`` naming the option when the value is invalid.
    """
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ModuleFailure(
            f"{option} '{value}' is not an ISO 8601 date-time: use a value such as "
            "2026-10-30T18:00:00Z, or 2026-10-30 for midnight UTC."
        ) from None


def creation_time(point: dict) -> datetime.datetime:
    """Return a restore point's creation time, or the earliest datetime when it is unreadable."""
    try:
        return parse_timestamp(point.get("creationTimeUtc") or "")
    except ValueError:
        return _NO_TIME


def equals_filter(prop: str, value: str) -> str:
    """Encode a ``filter`` parameter that selects items whose ``prop`` equals ``value``."""
    return encode_json_parameter([{"property": prop, "operation": "Equals", "value": value}])


# --- VMs ---------------------------------------------------------------------------------------


def vm_candidate(
    vm_id, name, cluster_id, cluster_name, protected=False, in_inventory=False
) -> dict:
    """Return the summary of a VM found by a lookup, in the form the modules return."""
    return {
        "id": vm_id,
        "name": name,
        "cluster_id": cluster_id,
        "cluster_name": cluster_name,
        "protected": protected,
        "in_inventory": in_inventory,
    }


def merge_vm_candidates(protected_rows: list, inventory: list) -> list:
    """Combine protected VM rows and ``(vm, cluster)`` inventory pairs into one entry per VM id.

    ``protected`` is true when the VM has restore points, and ``in_inventory``
    when the plug-in's inventory of a cluster still lists it.
    """
    merged = {}
    for row in protected_rows:
        merged[row.get("id")] = vm_candidate(
            row.get("id"),
            row.get("name"),
            row.get("clusterId"),
            row.get("clusterName"),
            protected=True,
        )
    for vm, cluster in inventory:
        entry = merged.get(vm.get("id"))
        if entry is None:
            entry = vm_candidate(
                vm.get("id"),
                vm.get("name"),
                vm.get("clusterId") or cluster.get("id"),
                vm.get("clusterName") or cluster.get("name"),
            )
            merged[vm.get("id")] = entry
        entry["in_inventory"] = True
    return sorted(merged.values(), key=lambda vm: (vm["cluster_name"] or "", vm["id"] or ""))


def describe_vms(candidates: list) -> str:
    """Format VMs as ``name (id ..., cluster ...)`` for error messages."""
    parts = []
    for vm in candidates:
        notes = [f"id {vm['id']}", f"cluster {vm['cluster_name'] or vm['cluster_id']}"]
        if not vm["protected"]:
            notes.append("no restore points")
        elif not vm["in_inventory"]:
            notes.append("not in the cluster inventory")
        parts.append(f"{vm['name']} ({', '.join(notes)})")
    return "; ".join(parts)


def in_cluster(vm: dict, cluster_reference: str | None) -> bool:
    """Return whether the VM is on the cluster with this name or id (always, without one)."""
    if not cluster_reference:
        return True
    return cluster_reference in (vm["cluster_id"], vm["cluster_name"])


def choose_vm(candidates: list, name=None, vm_id=None, cluster=None, clusters=None) -> dict:
    """Return the one VM among ``candidates`` that the lookup options describe.

    ``clusters`` is the list of registered clusters, used in the message when
    nothing matches. Raises ``ModuleFailure`` naming the value and the fix.
    """
    matching = [vm for vm in candidates if in_cluster(vm, cluster)]
    if len(matching) == 1:
        return matching[0]
    subject = f"VM id '{vm_id}'" if vm_id else f"VM '{name}'"
    if matching:
        raise ModuleFailure(
            f"{len(matching)} VMs are named '{name}': {describe_vms(matching)}. "
            "Set vm_id to the id of the VM to use, or set cluster to the name or id of its "
            "cluster."
        )
    if cluster and candidates:
        raise ModuleFailure(
            f"{subject} was not found on cluster '{cluster}'. It exists on other clusters: "
            f"{describe_vms(candidates)}. Fix cluster or leave it unset."
        )
    known = describe_items(clusters or [])
    if cluster and not any(cluster in (c.get("id"), c.get("name")) for c in clusters or []):
        raise ModuleFailure(
            f"{subject} was not found, and cluster '{cluster}' is neither the name nor the id "
            f"of a registered cluster. Clusters known to the plug-in: {known}."
        )
    looked_in = f"cluster '{cluster}'" if cluster else f"the clusters {known}"
    raise ModuleFailure(
        f"{subject} was not found: it is neither a protected VM (a VM with restore points) nor "
        f"a VM in the plug-in's inventory of {looked_in}. Names are case-sensitive. Check the "
        "name, or run veeam_ahv.backup.vm_rescan if the VM was created recently."
    )


def find_protected_vms(client, prop: str, value: str) -> list:
    """Return the protected VMs whose ``prop`` (``id`` or ``name``) equals ``value``.

    The server filters first, and the check here keeps the result exact even
    where a server ignores the filter or compares without case.
    """
    rows = client.get_all("/protectedVms", params={"filter": equals_filter(prop, value)})
    return [row for row in rows if row.get(prop) == value]


def find_inventory_vms(client, clusters: list, prop: str, value: str) -> list:
    """Return ``(vm, cluster)`` pairs for the VMs in the clusters' inventory that match."""
    pairs = []
    for cluster in clusters:
        path = api_path("clusters", cluster["id"], "vms")
        vms = client.get_all(path, params={"filter": equals_filter(prop, value)})
        pairs.extend((vm, cluster) for vm in vms if vm.get(prop) == value)
    return pairs


def find_vm(client, name: str | None = None, vm_id: str | None = None, cluster=None) -> dict:
    """Return the summary of one VM, by id or by name, among protected and inventory VMs.

    ``cluster`` (a name or id) narrows the search. Raises ``ModuleFailure``
    when no VM or several VMs match.
    """
    prop, value = ("id", vm_id) if vm_id else ("name", name)
    clusters = list_clusters(client)
    searched = [c for c in clusters if not cluster or cluster in (c.get("id"), c.get("name"))]
    protected = find_protected_vms(client, prop, value)
    inventory = find_inventory_vms(client, searched, prop, value)
    candidates = merge_vm_candidates(protected, inventory)
    return choose_vm(candidates, name=name, vm_id=vm_id, cluster=cluster, clusters=clusters)


# --- Restore points ----------------------------------------------------------------------------


def sort_newest_first(points: list) -> list:
    """Return restore points ordered by creation time, newest first, then by id."""
    by_id = sorted(points, key=lambda point: point.get("id") or "")
    return sorted(by_id, key=creation_time, reverse=True)


def select_restore_points(
    points: list,
    types: list | None = None,
    before: datetime.datetime | None = None,
    latest: bool = False,
) -> list:
    """Apply the selectors to restore points and return the matches, newest first.

    ``types`` keeps the listed types. ``before`` keeps the newest point created
    strictly before that instant, so it implies ``latest``. ``latest`` keeps
    only the newest point.
    """
    chosen = sort_newest_first(points)
    if types:
        chosen = [point for point in chosen if point.get("type") in types]
    if before is not None:
        chosen = [point for point in chosen if creation_time(point) < before]
    if latest or before is not None:
        chosen = chosen[:1]
    return chosen


def no_restore_point_failure(vm: dict, points: list, types=None, before=None) -> ModuleFailure:
    """Build the failure for a VM whose restore points do not match the selectors.

    ``before`` is the option text as the user wrote it. The message lists the
    newest points that exist, so that the user can adjust the selectors.
    """
    subject = f"VM '{vm['name']}' (id {vm['id']}, cluster {vm['cluster_name'] or vm['cluster_id']})"
    if not points:
        return ModuleFailure(
            f"{subject} has no restore points. Back it up first, or check vm_name, vm_id "
            "and cluster."
        )
    conditions = []
    if types:
        conditions.append("of type " + " or ".join(types))
    if before:
        conditions.append(f"created before {before}")
    newest = ", ".join(
        f"{point.get('id')} ({point.get('type')}, {point.get('creationTimeUtc')})"
        for point in sort_newest_first(points)[:5]
    )
    return ModuleFailure(
        f"{subject} has {len(points)} restore point(s) but none {' '.join(conditions)}. "
        f"Newest: {newest}. Change types or before."
    )


def list_vm_restore_points(client, vm_id: str) -> list:
    """Return every restore point of a VM, newest first."""
    return sort_newest_first(client.get_all("/restorePoints", params={"vmId": vm_id}))


def get_restore_point(client, point_id: str) -> dict | None:
    """Return one restore point, or None when the server returns 404."""
    try:
        return client.get(api_path("restorePoints", point_id))
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def require_restore_point(client, point_id: str) -> dict:
    """Return one restore point, or raise ``ModuleFailure`` naming the id when it is missing."""
    point = get_restore_point(client, point_id)
    if point is None:
        raise ModuleFailure(
            f"Restore point '{point_id}' was not found. List the restore points of a VM with "
            "veeam_ahv.backup.restore_point_info and use one of their ids."
        )
    return point


def get_restore_point_details(client, point: dict) -> dict:
    """Return the restore point merged with the typed detail for its ``type``.

    Types without a detail endpoint (VolumeGroupSnapshot, Unknown) are returned
    as they are.
    """
    segment = DETAIL_SEGMENTS.get(point.get("type"))
    if segment is None:
        return dict(point)
    detail = client.get(api_path("restorePoints", segment, point["id"])) or {}
    merged = dict(point)
    merged.update(detail)
    return merged


def list_point_disks(client, point_id: str) -> list:
    """Return the disks stored in a restore point."""
    return client.get_list(api_path("restorePoints", point_id, "disks"))


def list_point_network_adapters(client, point: dict) -> list | None:
    """Return the network adapters of a restore point, or None for a type that has none."""
    if point.get("type") not in NETWORK_ADAPTER_TYPES:
        return None
    return client.get_list(api_path("restorePoints", point["id"], "networkAdapters"))


def source_vm_ids(point: dict) -> list:
    """Return the ids of the VMs in a restore point that has its typed detail merged in."""
    if point.get("vmIds"):
        return list(point["vmIds"])
    if point.get("vmId"):
        return [point["vmId"]]
    return []


# --- Choosing the restore point of a restore ----------------------------------------------------


def resolve_point_by_id(client, params: dict) -> tuple:
    """Return the restore point named by restore_point_id and the VM to restore from it."""
    point = get_restore_point_details(
        client, require_restore_point(client, params["restore_point_id"])
    )
    vm_ids = source_vm_ids(point)
    if params["vm_name"] or params["vm_id"]:
        vm = find_vm(client, params["vm_name"], params["vm_id"], params["cluster"])
        if vm_ids and vm["id"] not in vm_ids:
            raise ModuleFailure(
                f"VM '{vm['name']}' (id {vm['id']}) is not in restore point {point['id']}, "
                f"which contains the VM id(s) {', '.join(vm_ids)}. Remove vm_name and vm_id, "
                "or choose a restore point of this VM."
            )
        return point, vm
    if len(vm_ids) == 1:
        return point, find_vm(client, vm_id=vm_ids[0])
    if vm_ids:
        raise ModuleFailure(
            f"Restore point {point['id']} is a {point.get('type')} of {len(vm_ids)} VMs "
            f"({', '.join(vm_ids)}): set vm_name or vm_id to choose the VM to restore."
        )
    raise ModuleFailure(
        f"Restore point {point['id']} is a {point.get('type')} that names no VM to restore. "
        "Use a Backup, BackupSnapshot, UserSnapshot or PdSnapshot restore point."
    )


def resolve_point(client, params: dict) -> tuple:
    """Return the restore point to restore from, with its typed detail, and the source VM.

    ``params`` are module parameters with the keys restore_point_id, vm_name,
    vm_id, cluster, types and before.
    """
    if params["restore_point_id"]:
        point, vm = resolve_point_by_id(client, params)
    else:
        before = params["before"] and parse_option_timestamp(params["before"], "before")
        vm = find_vm(client, params["vm_name"], params["vm_id"], params["cluster"])
        points = list_vm_restore_points(client, vm["id"])
        chosen = select_restore_points(points, params["types"], before or None, latest=True)
        if not chosen:
            raise no_restore_point_failure(vm, points, params["types"], params["before"])
        point = get_restore_point_details(client, chosen[0])
    if point.get("type") == "VolumeGroupSnapshot":
        raise ModuleFailure(
            f"Restore point {point['id']} is a VolumeGroupSnapshot, which contains volume group "
            "disks and no VM. Choose another restore point, for example with types."
        )
    return point, vm
