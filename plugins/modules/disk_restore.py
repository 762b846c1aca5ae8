#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_restore
short_description: Restore disks of a Nutanix AHV VM from a Veeam restore point
version_added: 0.1.0
description:
  - Restores chosen disks from a restore point and attaches them to a VM
    (C(POST /restorePoints/diskRestore)). The target VM is the VM of the restore point unless
    O(target_vm) names another one. A restored disk replaces the disk at the same bus and
    index of the target VM.
  - The restore point is chosen as by M(veeam_ahv.backup.vm_restore), by O(restore_point_id)
    or as the newest restore point of the VM that matches O(types) and O(before).
  - Waits for the restore session to finish, with the poll interval growing from
    O(poll_interval) up to 30 seconds.
  - "The module is idempotent in the same way as M(veeam_ahv.backup.vm_restore). It computes
    a fingerprint, the first 12 hex digits of a SHA-256 of the resolved restore point id,
    source VM id, target VM id and disk settings, and appends it to the reason it sends as
    C([ansible:<fingerprint>]). A C(RestoreVmDisks) session with that marker since the
    restore point was created is attached to while it runs, and makes the task V(ok) once it
    finished with result C(Success) or C(Warning). Sessions with the marker that failed or were
    cancelled do not count, so running the task again retries the restore."
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  vm_name:
    description:
      - Name of the VM whose restore point contains the disks, compared case-sensitively.
      - Fails when several VMs have this name; set O(cluster) or O(vm_id) then.
      - Mutually exclusive with O(vm_id).
    type: str
  vm_id:
    description:
      - Nutanix id of the VM whose restore point contains the disks.
      - Mutually exclusive with O(vm_name).
    type: str
  cluster:
    description:
      - Name or id of the cluster of the VM named by O(vm_name), to tell apart VMs that share
        the name.
    type: str
  restore_point_id:
    description:
      - Id of the restore point to restore the disks from.
      - Mutually exclusive with O(types) and O(before).
    type: str
  types:
    description:
      - Consider only restore points of these types when choosing the newest one.
    type: list
    elements: str
    choices: [Unknown, Backup, BackupSnapshot, UserSnapshot, PdSnapshot, VolumeGroupSnapshot]
  before:
    description:
      - Use the newest restore point created strictly before this ISO 8601 date-time. A value
        without an offset is UTC, and a date alone means midnight UTC.
    type: str
  target_vm:
    description:
      - Id or name of the VM to attach the restored disks to, as the plug-in's cluster
        inventory lists it.
      - Defaults to the VM of the restore point, which must still be in the inventory.
    type: str
  target_cluster:
    description:
      - Name or id of the cluster of O(target_vm), to tell apart VMs that share its name.
    type: str
  disks:
    description:
      - The disks to restore, at least one.
    type: list
    elements: dict
    required: true
    suboptions:
      disk:
        description:
          - Id or label (such as V(scsi.1)) of a disk in the restore point, as
            M(veeam_ahv.backup.restore_point_info) lists them with
            O(veeam_ahv.backup.restore_point_info#module:include=[disks]).
          - Labels are compared without case.
        type: str
        required: true
      bus_type:
        description:
          - Bus to attach the restored disk to on the target VM.
          - Defaults to the disk's bus in the restore point.
        type: str
        choices: [Scsi, Pci, Ide, Sata]
      index:
        description:
          - Index on the bus. Defaults to the disk's index in the restore point.
        type: int
      storage_container:
        description:
          - Name or id of the storage container on the target VM's cluster for the restored
            disk.
          - When not set, the plug-in chooses, normally the container the disk was on.
        type: str
  power_on:
    description:
      - Whether to power on the target VM after the restore.
    type: bool
    default: false
  reason:
    description:
      - Reason for the restore, shown in the restore session.
      - The module appends the fingerprint marker C([ansible:<fingerprint>]) to it.
    type: str
  force:
    description:
      - Whether to restore even when a matching session exists.
      - With V(true), the module skips the search for a previous restore and always starts
        one, so each run restores the disks again.
    type: bool
    default: false
  wait:
    description:
      - Whether to wait for the restore session to finish.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the restore session to finish.
      - When it has not finished by then, the task fails with the session id, state and
        percent complete. The restore goes on running on the appliance.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between the first status checks of the session. The interval grows by half
        after each check, up to 30 seconds.
    type: float
    default: 5
attributes:
  check_mode:
    support: full
    details:
      - Check mode resolves every name to an id, returns in RV(request) the exact body it
        would send, and sends no POST request.
  diff_mode:
    support: full
    details:
      - The diff shows the disks of the target VM before the restore and with the restored
        disks in their slots after it.
  platform:
    support: full
    platforms: all
    details: The module talks to the appliance over HTTPS from any host with Python.
notes:
  - The task reports C(changed) when it started a restore or attached to a running one, and
    V(ok) when a previous restore matched (see RV(match)).
  - Changing only O(reason) or O(power_on) keeps the fingerprint, so it does not start
    another restore.
  - A session that ends with result C(Error), or is cancelled, fails the task with its error
    events. C(Warning) succeeds and returns the warnings, which also appear as Ansible
    warnings.
seealso:
  - module: veeam_ahv.backup.vm_restore
  - module: veeam_ahv.backup.restore_point_info
"""

EXAMPLES = r"""
- name: Put back the data disk of app-db-01 from its newest backup
  veeam_ahv.backup.disk_restore:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
    vm_name: app-db-01
    types: [Backup]
    disks:
      - disk: scsi.1
    reason: Restore the corrupted data volume

- name: Attach a copy of file-srv-01's first data disk to a helper VM
  veeam_ahv.backup.disk_restore:
    vm_name: file-srv-01
    target_vm: ops-jumpbox
    target_cluster: PROD-AHV-01
    disks:
      - disk: sata.0
        bus_type: Scsi
        index: 5
        storage_container: default-container
"""

RETURN = r"""
attached:
  description: Whether the module attached to a restore already running instead of starting one.
  returned: always
  type: bool
match:
  description:
    - Why no new restore was started, or null when one was.
    - V(running_session) when a running restore session matched and was attached to,
      V(finished_session) when a successful one matched.
  returned: always
  type: str
fingerprint:
  description: Fingerprint of the request, as carried by the session reason.
  returned: always
  type: str
  sample: 8d41c0f2a9e3
request:
  description:
    - The C(DiskRestoreSettings) body sent, or that would be sent in check mode or when a
      previous restore matched.
  returned: always
  type: dict
  sample:
    sourceVmId: 0a6c4bd4-95b1-4f5e-a1a8-5d9e5c2a1f00
    targetVmId: 0a6c4bd4-95b1-4f5e-a1a8-5d9e5c2a1f00
    restorePointId: 5f0c6f0e-8a51-4d3c-9a43-6f2d0b1f7c11
    diskSettings:
      - diskId: 9b2f5c1e-7d4a-4e8b-a0c3-2f6e1d9b8a70
        busType: Scsi
        index: 1
    powerOnVmAfterRestore: false
    reason: Restore the corrupted data volume [ansible:8d41c0f2a9e3]
restore_point:
  description: The restore point used, with the fields of its typed detail.
  returned: always
  type: dict
source_vm:
  description: The VM whose restore point contains the disks.
  returned: always
  type: dict
  contains:
    id:
      description: VM id.
      type: str
    name:
      description: VM name.
      type: str
    cluster_id:
      description: Id of the VM's cluster.
      type: str
    cluster_name:
      description: Name of the VM's cluster.
      type: str
target_vm:
  description: The VM the disks are attached to.
  returned: always
  type: dict
  contains:
    id:
      description: VM id.
      type: str
    name:
      description: VM name.
      type: str
    cluster_id:
      description: Id of the VM's cluster.
      type: str
    cluster_name:
      description: Name of the VM's cluster.
      type: str
session_id:
  description:
    - Id of the restore session started, attached to or matched. Also returned when the wait
      times out or the session fails.
  returned: when a restore was started or a session matched
  type: str
session:
  description: Last known state of the restore session, with its warnings and errors.
  returned: when a session was waited for or matched
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    check_wait_options,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    describe_items,
    list_clusters,
    list_subresource,
    match_cluster,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore import (
    DISK_BUS_TYPES,
    build_disk_restore_request,
    disk_state,
    find_session_match,
    list_sessions_since,
    reason_with_marker,
    request_fingerprint,
    resolve_disk_settings,
    restore_result,
    run_restore,
    vm_state,
    warn_if_corrupted,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore_points import (
    RESTORE_POINT_TYPES,
    find_inventory_vms,
    list_point_disks,
    resolve_point,
)

SESSION_TYPE = "RestoreVmDisks"


def describe_vm_pairs(pairs: list) -> str:
    return "; ".join(
        f"{vm.get('name')} (id {vm.get('id')}, cluster {cluster.get('name')})"
        for vm, cluster in pairs
    )


def find_target_vm(client, params: dict, source_vm: dict) -> tuple:
    """Return ``(vm, cluster)`` for the VM that receives the disks, from the inventory."""
    clusters = list_clusters(client)
    if params["target_cluster"]:
        clusters = [match_cluster(clusters, params["target_cluster"])]
    reference = params["target_vm"] or source_vm["id"]
    pairs = find_inventory_vms(client, clusters, "id", reference)
    if not pairs and params["target_vm"]:
        pairs = find_inventory_vms(client, clusters, "name", reference)
    if len(pairs) == 1:
        return pairs[0]
    if pairs:
        raise ModuleFailure(
            f"{len(pairs)} VMs are named '{reference}': {describe_vm_pairs(pairs)}. Set "
            "target_vm to the VM id, or set target_cluster."
        )
    if params["target_vm"]:
        raise ModuleFailure(
            f"Target VM '{reference}' was not found by id or name in the plug-in's inventory "
            f"of {describe_items(clusters)}. Check target_vm, or run "
            "veeam_ahv.backup.vm_rescan if the VM was created recently."
        )
    raise ModuleFailure(
        f"VM '{source_vm['name']}' (id {source_vm['id']}) is no longer in the plug-in's "
        "inventory, so its disks cannot be restored to it. Set target_vm to the VM that "
        "receives the disks, or restore the whole VM with veeam_ahv.backup.vm_restore."
    )


def vm_summary(vm: dict, cluster: dict) -> dict:
    return {
        "id": vm.get("id"),
        "name": vm.get("name"),
        "cluster_id": cluster.get("id"),
        "cluster_name": cluster.get("name"),
    }


def planned_disks(target_vm: dict, point_disks: list, settings: list, containers: list) -> dict:
    """Describe the target VM with the restored disks in the slots they will take."""
    by_id = {disk.get("id"): disk for disk in point_disks}
    slots = {
        (disk.get("busType"), disk.get("index")): disk_state(disk)
        for disk in target_vm.get("disks") or []
    }
    for setting in settings:
        restored = dict(by_id[setting["diskId"]])
        restored.update(busType=setting["busType"], index=setting["index"])
        container = next(
            (c for c in containers if c.get("id") == setting.get("storageContainerId")), None
        )
        slots[(setting["busType"], setting["index"])] = disk_state(restored, container)
    after = vm_state(target_vm)
    after["disks"] = [slots[slot] for slot in sorted(slots, key=lambda s: (str(s[0]), s[1]))]
    return after


def restore_disks(module, client) -> dict:
    params = module.params
    check_wait_options(params)
    point, source_vm = resolve_point(client, params)
    warn_if_corrupted(module, point)
    target_vm, cluster = find_target_vm(client, params, source_vm)
    location = f"cluster {cluster.get('name')} ({cluster.get('id')})"

    containers = []
    if any(entry.get("storage_container") for entry in params["disks"]):
        containers = list_subresource(client, cluster["id"], "storage_containers")
    point_disks = list_point_disks(client, point["id"])
    settings = resolve_disk_settings(params["disks"], point_disks, containers, location, point)

    body = build_disk_restore_request(
        point["id"], source_vm["id"], target_vm["id"], settings, params["power_on"]
    )
    fingerprint = request_fingerprint(body, SESSION_TYPE)
    body["reason"] = reason_with_marker(params["reason"], fingerprint)

    match, row = None, None
    if not params["force"]:
        rows = list_sessions_since(client, SESSION_TYPE, point.get("creationTimeUtc"))
        match, row = find_session_match(rows, fingerprint)

    result = restore_result(client, match, row, fingerprint, body)
    result.update(
        restore_point=point,
        source_vm=source_vm,
        target_vm=vm_summary(target_vm, cluster),
    )
    if result["changed"] and module._diff:
        result["diff"] = {
            "before": vm_state(target_vm),
            "after": planned_disks(target_vm, point_disks, settings, containers),
        }
    activity = (
        f"the restore of {len(settings)} disk(s) of VM {source_vm['name']} to VM "
        f"{target_vm.get('name')} from restore point {point['id']}"
    )
    return run_restore(module, client, "/restorePoints/diskRestore", result, activity)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            vm_name={"type": "str"},
            vm_id={"type": "str"},
            cluster={"type": "str"},
            restore_point_id={"type": "str"},
            types={"type": "list", "elements": "str", "choices": list(RESTORE_POINT_TYPES)},
            before={"type": "str"},
            target_vm={"type": "str"},
            target_cluster={"type": "str"},
            disks={
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "disk": {"type": "str", "required": True},
                    "bus_type": {"type": "str", "choices": list(DISK_BUS_TYPES)},
                    "index": {"type": "int"},
                    "storage_container": {"type": "str"},
                },
            },
            power_on={"type": "bool", "default": False},
            reason={"type": "str"},
            force={"type": "bool", "default": False},
            wait={"type": "bool", "default": True},
            wait_timeout={"type": "int", "default": 3600},
            poll_interval={"type": "float", "default": 5},
        ),
        mutually_exclusive=[
            ("vm_name", "vm_id"),
            ("restore_point_id", "types"),
            ("restore_point_id", "before"),
        ],
        required_one_of=[("vm_name", "vm_id", "restore_point_id")],
        supports_check_mode=True,
    )
    if not module.params["disks"]:
        module.fail_json(msg="disks is empty: list at least one disk of the restore point.")
    run_module(module, restore_disks)


if __name__ == "__main__":
    main()
