# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build restore requests, recognise restores already started, and follow their sessions.

A restore is idempotent through a fingerprint: a hash of the resolved request
fields that decide what is restored and where. The module appends it to the
``reason`` it sends, as ``[ansible:<12 hex digits>]``. The plug-in copies the
reason into the restore session, so a later run finds the session of the same
restore in ``GET /sessions`` and attaches to it or reports it instead of
starting a second restore.

NOTE: the schema of ``GET /sessions`` items has a ``reason`` field, but only
the test emulator has shown that it returns the reason sent with a restore.
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import (
    encode_json_parameter,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import (
    ApiConnectionError,
    VeeamAhvError,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    candidates_for,
    describe_items,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.sessions import (
    ACTIVE_STATES,
    SessionTimeout,
    SessionWaiter,
    get_session,
    session_failure,
    summarize_session,
)

# The API types a disk's bus index as int32.
MAX_DISK_INDEX = 2**31 - 1

# Request fields that decide which data is restored and where it lands. The
# reason and the power and network switches after the restore are left out,
# so changing only those does not start another restore.
FINGERPRINT_FIELDS = {
    "RestoreVm": (
        "restorePointId",
        "sourceVmId",
        "restoreToOriginal",
        "targetVmName",
        "targetVmClusterId",
        "storageContainerId",
        "networkAdapters",
    ),
    "RestoreVmDisks": ("restorePointId", "sourceVmId", "targetVmId", "diskSettings"),
}
FINGERPRINT_LENGTH = 12
_MARKER = re.compile(r"\[ansible:([0-9a-f]{12})\]")

SUCCESS_RESULTS = frozenset(("Success", "Warning"))

# Values of the ``match`` result key of the restore modules.
MATCH_RUNNING = "running_session"
MATCH_FINISHED = "finished_session"
MATCH_TARGET_VM = "target_vm"


# --- Names and ids --------------------------------------------------------------------------------


def match_named(items: list, reference: str, kind: str, location: str) -> dict:
    """Return the item whose id, or else whose name, equals ``reference``.

    ``kind`` names the object in messages ("network") and ``location`` names
    where it was looked up ("cluster DR-AHV-01"). Raises ``ModuleFailure``
    listing what exists when nothing or several items match.
    """
    candidates = candidates_for(items, reference)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise ModuleFailure(
            f"{len(candidates)} {kind}s on {location} are named '{reference}': "
            f"{describe_items(candidates)}. Use the id instead."
        )
    raise ModuleFailure(
        f"{kind.capitalize()} '{reference}' was not found by name or id on {location}. "
        f"Available {kind}s: {describe_items(items)}."
    )


# --- Network mapping ------------------------------------------------------------------------------


def normalize_mac(mac: str) -> str:
    """Return a MAC address in lower case with colons, the form used for comparisons."""
    return str(mac).strip().lower().replace("-", ":")


def describe_adapters(adapters: list) -> str:
    """Format network adapters as ``<mac> on <network>`` for error messages."""
    if not adapters:
        return "none"
    return ", ".join(
        f"{adapter.get('macAddress')} on {adapter.get('networkName') or adapter.get('networkId')}"
        for adapter in adapters
    )


def _mapped_adapters(item: dict, position: int, adapters: list | None, point: dict) -> list:
    """Return the source MAC addresses that one network_mapping entry applies to."""
    label = f"network_mapping[{position}]"
    if item.get("source_mac"):
        mac = normalize_mac(item["source_mac"])
        if adapters is None:
            return [mac]
        for adapter in adapters:
            if normalize_mac(adapter.get("macAddress") or "") == mac:
                return [adapter["macAddress"]]
        raise ModuleFailure(
            f"{label}.source_mac '{item['source_mac']}' is not a network adapter of the VM in "
            f"restore point {point.get('id')}. Adapters in the restore point: "
            f"{describe_adapters(adapters)}."
        )
    if adapters is None:
        raise ModuleFailure(
            f"{label}.source_network cannot be resolved: the API lists network adapters only "
            f"for Backup and BackupSnapshot restore points, and {point.get('id')} is a "
            f"{point.get('type')}. Use source_mac instead."
        )
    reference = item["source_network"]
    selected = [adapter for adapter in adapters if adapter.get("networkId") == reference]
    if not selected:
        selected = [adapter for adapter in adapters if adapter.get("networkName") == reference]
    if not selected:
        raise ModuleFailure(
            f"{label}.source_network '{reference}' matches no network adapter of the VM in "
            f"restore point {point.get('id')}, by network name or id. Adapters in the restore "
            f"point: {describe_adapters(adapters)}."
        )
    return [adapter.get("macAddress") for adapter in selected]


def resolve_network_mapping(
    mapping: list, adapters: list | None, networks: list, location: str, point: dict
) -> list:
    """Turn network_mapping entries into the request's ``networkAdapters`` list.

    ``adapters`` are the restore point's network adapters, or None when the API
    does not list them for the point's type. ``networks`` are the networks of
    the target cluster described by ``location``. Each source adapter may be
    mapped once. The result is sorted by MAC address, so the order of the
    entries does not change the fingerprint.
    """
    remaps = {}
    for position, item in enumerate(mapping or []):
        target = match_named(networks, item["target_network"], "network", location)
        for mac in _mapped_adapters(item, position, adapters, point):
            key = normalize_mac(mac)
            if key in remaps:
                raise ModuleFailure(
                    f"network_mapping[{position}] maps the adapter {mac} again. Map each "
                    "network adapter once."
                )
            remaps[key] = {
                "macAddress": mac,
                "value": {"networkId": target.get("id"), "networkName": target.get("name")},
            }
    return [remaps[key] for key in sorted(remaps)]


# --- Disk selection -------------------------------------------------------------------------------

# AhvBusType values that a restored disk can be attached with.
DISK_BUS_TYPES = ("Scsi", "Pci", "Ide", "Sata")


def disk_label(disk: dict) -> str:
    """Return a disk's label, such as ``scsi.1``, built from its bus and index when missing."""
    return disk.get("diskLabel") or f"{str(disk.get('busType')).lower()}.{disk.get('index')}"


def describe_disks(disks: list) -> str:
    """Format restore point disks as ``label (id)`` for error messages."""
    if not disks:
        return "none"
    return ", ".join(f"{disk_label(disk)} ({disk.get('id')})" for disk in disks)


def _match_point_disk(reference: str, disks: list, position: int, point: dict) -> dict:
    for disk in disks:
        if disk.get("id") == reference:
            return disk
    labelled = [disk for disk in disks if disk_label(disk).lower() == reference.lower()]
    if len(labelled) == 1:
        return labelled[0]
    label = f"disks[{position}].disk"
    if labelled:
        raise ModuleFailure(
            f"{label} '{reference}' matches {len(labelled)} disks of restore point "
            f"{point.get('id')}: {describe_disks(labelled)}. Use the disk id instead."
        )
    raise ModuleFailure(
        f"{label} '{reference}' is neither the id nor the label of a disk in restore point "
        f"{point.get('id')}. Disks in the restore point: {describe_disks(disks)}."
    )


def resolve_disk_settings(
    entries: list, point_disks: list, containers: list, location: str, point: dict
) -> list:
    """Turn disks entries into the request's ``diskSettings`` list.

    Each entry names a disk of the restore point by id or label and may move it
    to another bus, index or storage container of the target VM's cluster,
    described by ``location``. The result is sorted by bus and index, so the
    order of the entries does not change the fingerprint.
    """
    settings = {}
    for position, entry in enumerate(entries):
        disk = _match_point_disk(entry["disk"], point_disks, position, point)
        if disk.get("isCdrom"):
            raise ModuleFailure(
                f"disks[{position}].disk '{entry['disk']}' is a CD-ROM, which cannot be "
                "restored. Choose a disk."
            )
        bus_type = entry.get("bus_type") or disk.get("busType")
        index = disk.get("index") if entry.get("index") is None else entry["index"]
        if entry.get("index") is not None and not 0 <= index <= MAX_DISK_INDEX:
            raise ModuleFailure(
                f"disks[{position}].index is {index}: use a bus index from 0 to "
                f"{MAX_DISK_INDEX}, or leave it out to keep the disk's index."
            )
        slot = (bus_type, index)
        if slot in settings:
            raise ModuleFailure(
                f"disks[{position}] restores a second disk to {bus_type} index {index}. Give "
                "each restored disk its own bus_type and index."
            )
        setting = {"diskId": disk.get("id"), "busType": bus_type, "index": index}
        if entry.get("storage_container"):
            container = match_named(
                containers, entry["storage_container"], "storage container", location
            )
            setting["storageContainerId"] = container.get("id")
        settings[slot] = setting
    return [settings[slot] for slot in sorted(settings, key=lambda item: (str(item[0]), item[1]))]


# --- Request and fingerprint ----------------------------------------------------------------------


def build_restore_request(
    restore_point_id: str,
    source_vm_id: str,
    restore_to_original: bool,
    target_name: str | None = None,
    target_cluster_id: str | None = None,
    storage_container_id: str | None = None,
    network_adapters: list | None = None,
    power_on: bool | None = None,
    disconnect_networks: bool | None = None,
) -> dict:
    """Build a ``RestoreSettings`` body without its reason, with only the fields that apply.

    A restore to the original location takes its name, cluster, storage and
    networks from the restore point, so those fields are left out.
    """
    body = {
        "restorePointId": restore_point_id,
        "sourceVmId": source_vm_id,
        "restoreToOriginal": bool(restore_to_original),
    }
    if not restore_to_original:
        body["targetVmName"] = target_name
        body["targetVmClusterId"] = target_cluster_id
        if storage_container_id:
            body["storageContainerId"] = storage_container_id
        if network_adapters:
            body["networkAdapters"] = network_adapters
    if power_on is not None:
        body["powerOnVmAfterRestore"] = bool(power_on)
    if disconnect_networks is not None:
        body["disconnectNetworksAfterRestore"] = bool(disconnect_networks)
    return body


def build_disk_restore_request(
    restore_point_id: str,
    source_vm_id: str,
    target_vm_id: str,
    disk_settings: list,
    power_on: bool | None = None,
) -> dict:
    """Build a ``DiskRestoreSettings`` body without its reason."""
    body = {
        "sourceVmId": source_vm_id,
        "targetVmId": target_vm_id,
        "restorePointId": restore_point_id,
        "diskSettings": disk_settings,
    }
    if power_on is not None:
        body["powerOnVmAfterRestore"] = bool(power_on)
    return body


def request_fingerprint(body: dict, session_type: str = "RestoreVm") -> str:
    """Return the fingerprint of a restore request: 12 hex digits of a SHA-256.

    It covers the ``FINGERPRINT_FIELDS`` of the session type, serialised as
    canonical JSON, and ignores every other field.
    """
    fields = {name: body[name] for name in FINGERPRINT_FIELDS[session_type] if name in body}
    canonical = json.dumps([session_type, fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def fingerprint_marker(fingerprint: str) -> str:
    """Return the text that carries a fingerprint in a session reason."""
    return f"[ansible:{fingerprint}]"


def reason_with_marker(reason: str | None, fingerprint: str) -> str:
    """Return the user's reason followed by the fingerprint marker."""
    marker = fingerprint_marker(fingerprint)
    text = (reason or "").strip()
    return f"{text} {marker}" if text else marker


def reason_fingerprints(reason: str | None) -> list:
    """Return the fingerprints found in a session reason."""
    return _MARKER.findall(reason or "")


# --- Matching sessions ----------------------------------------------------------------------------


def session_type_filter(session_type: str) -> str:
    """Encode a ``filter`` parameter that selects sessions of one type."""
    return encode_json_parameter(
        [{"property": "sessionType", "operation": "Equals", "value": session_type}]
    )


def list_sessions_since(client, session_type: str, since: str | None) -> list:
    """Return the sessions of one type that started at or after ``since`` (all when None).

    The server filters by type first, and the check here keeps the list exact
    if a server ignores the filter.
    """
    params = {"filter": session_type_filter(session_type)}
    if since:
        params["from"] = since
    rows = client.get_all("/sessions", params=params)
    return [row for row in rows if row.get("sessionType") == session_type]


def find_session_match(rows: list, fingerprint: str) -> tuple:
    """Return ``(match, session)`` for the sessions whose reason carries the fingerprint.

    An active session wins (``MATCH_RUNNING``), then one that finished with
    Success or Warning (``MATCH_FINISHED``), newest first in each case.
    Sessions that failed or were cancelled do not match, so the restore is
    tried again. Returns ``(None, None)`` when nothing matches.
    """
    carrying = [row for row in rows if fingerprint in reason_fingerprints(row.get("reason"))]
    carrying.sort(key=lambda row: row.get("startTimeUtc") or "", reverse=True)
    for row in carrying:
        if row.get("state") in ACTIVE_STATES:
            return MATCH_RUNNING, row
    for row in carrying:
        if row.get("state") == "Finished" and row.get("result") in SUCCESS_RESULTS:
            return MATCH_FINISHED, row
    return None, None


# --- Following a session --------------------------------------------------------------------------


def wait_for_session(
    client, session_id: str, timeout: float, poll_interval: float, activity: str, **clock
):
    """Return the final state of one session, or fail with its id as ``session_id`` on timeout.

    ``clock`` may hold the ``clock`` and ``sleep`` functions of ``SessionWaiter``.
    """
    waiter = SessionWaiter(client, poll_interval=poll_interval, **clock)
    try:
        return waiter.wait([session_id], timeout, activity)[session_id]
    except SessionTimeout as error:
        result = error.to_result()
        sessions = result.pop("sessions", [])
        result.pop("session_ids", None)
        raise ModuleFailure(
            str(error),
            session_id=session_id,
            session=sessions[0] if sessions else None,
            **result,
        ) from None


def check_session_outcome(module, session: dict, activity: str) -> dict:
    """Return the summary of a finished session, or fail when it ended in Error or was cancelled.

    Warning events become Ansible warnings and stay in the summary's ``warnings``.
    """
    summary = summarize_session(session)
    failure = session_failure(summary)
    if failure:
        raise ModuleFailure(
            f"{activity} failed: session {summary['id']} {failure}",
            session_id=summary["id"],
            session=summary,
        )
    for warning in summary["warnings"]:
        module.warn(f"{activity}: {warning}")
    return summary


def restore_result(client, match, row, fingerprint: str, body: dict) -> dict:
    """Return the result keys that every restore module shares, before anything is started.

    ``match`` and ``row`` come from ``find_session_match`` or a target check.
    A matched session is read in full, so that its summary has its events.
    """
    result = {
        "changed": match in (None, MATCH_RUNNING),
        "attached": match == MATCH_RUNNING,
        "match": match,
        "fingerprint": fingerprint,
        "request": body,
    }
    if row is not None:
        result["session_id"] = row.get("id")
        result["session"] = summarize_session(get_session(client, row["id"]))
    return result


def start_restore(client, path: str, body: dict) -> str:
    """Send a restore request and return the id of the session it started."""
    response = client.post(path, body=body)
    session_id = (response or {}).get("sessionId")
    if not session_id:
        raise ModuleFailure(
            f"POST {path} returned no sessionId, so the progress of the restore cannot be "
            "followed. Look for the restore session with veeam_ahv.backup.session_info.",
            response=response,
        )
    return session_id


def run_restore(module, client, path: str, result: dict, activity: str) -> dict:
    """Start the restore in ``result["request"]`` or attach to a match, then wait as asked.

    ``result`` has ``match`` and, for a matched session, ``session_id``. Check
    mode and a finished match return ``result`` without sending anything.
    """
    params = module.params
    match = result["match"]
    if module.check_mode or match in (MATCH_FINISHED, MATCH_TARGET_VM):
        return result
    if match is None:
        result["session_id"] = send_restore(client, path, result["request"])
    if not params["wait"]:
        return result
    try:
        session = wait_for_session(
            client, result["session_id"], params["wait_timeout"], params["poll_interval"], activity
        )
        result["session"] = check_session_outcome(
            module, session, activity[:1].upper() + activity[1:]
        )
    except VeeamAhvError as error:
        raise annotate_wait_failure(error, result) from None
    return result


def send_restore(client, path: str, body: dict) -> str:
    """Start the restore, saying in a failure whether it may have started anyway."""
    try:
        return start_restore(client, path, body)
    except ApiConnectionError as error:
        if error.request_sent:
            error.add_context(
                "Run the task again: it attaches to the restore if the appliance started it, "
                "and starts one otherwise."
            )
        raise


def annotate_wait_failure(error, result: dict):
    """Add the session id and the request to a failure after the restore started.

    A lost connection or an API error while polling does not stop the restore,
    so the message states where to follow it. The failed task still does not
    report ``changed``: a timeout or a failed restore must never read as done.
    """
    session_id = result.get("session_id")
    if not isinstance(error, ModuleFailure):
        error.add_context(
            f"The restore session {session_id} was started and may still be running: follow "
            "it with veeam_ahv.backup.session_info, or run the task again to attach to it."
        )
    return error.add_context(
        session_id=session_id,
        fingerprint=result.get("fingerprint"),
        request=result.get("request"),
    )


def warn_if_corrupted(module, point: dict) -> None:
    """Warn when the restore point failed its integrity check; the session decides the outcome."""
    if point.get("isCorrupted"):
        module.warn(
            f"Restore point {point['id']} is marked as corrupted, so the restore will "
            "probably fail."
        )


# --- Diff -----------------------------------------------------------------------------------------


def disk_state(disk: dict, storage_container: dict | None = None) -> dict:
    """Summarise a disk for a diff, with ``storage_container`` in place of the disk's own."""
    container = disk.get("storageContainerName") or disk.get("storageContainerId")
    if storage_container and not disk.get("isCdrom") and not disk.get("isVolumeGroup"):
        container = storage_container.get("name")
    return {
        "bus_type": disk.get("busType"),
        "index": disk.get("index"),
        "size_bytes": disk.get("size"),
        "is_cdrom": bool(disk.get("isCdrom")),
        "storage_container": container,
    }


def adapter_state(adapter: dict, remaps: list | None = None) -> dict:
    """Summarise a network adapter for a diff, with a network mapping applied."""
    network = adapter.get("networkName") or adapter.get("networkId")
    mac = normalize_mac(adapter.get("macAddress") or "")
    for remap in remaps or []:
        if normalize_mac(remap.get("macAddress") or "") == mac:
            network = remap["value"].get("networkName") or remap["value"].get("networkId")
    return {"mac_address": adapter.get("macAddress"), "network": network}


def vm_state(vm: dict | None) -> dict:
    """Summarise a VM from the plug-in's inventory for a diff, or an absent VM."""
    if vm is None:
        return {"state": "absent"}
    return {
        "state": "present",
        "name": vm.get("name"),
        "id": vm.get("id"),
        "cluster": vm.get("clusterName") or vm.get("clusterId"),
        "disks": [disk_state(disk) for disk in vm.get("disks") or []],
        "network_adapters": [adapter_state(nic) for nic in vm.get("networkAdapters") or []],
    }
