#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_restore
short_description: Restore a Nutanix AHV VM from a Veeam restore point
version_added: 0.1.0
description:
  - Restores a VM from a restore point (C(POST /restorePoints/restore)), to its original
    location or as a new VM with another name, cluster, storage container and networks.
  - The restore point is given by O(restore_point_id), or chosen among the restore points of
    the VM named by O(vm_name) or O(vm_id) with O(types) and O(before). Without them, the
    newest restore point of the VM is used.
  - The VM may no longer exist in Nutanix. It is looked up among the protected VMs (the VMs
    that have restore points) as well as in the plug-in's inventory of each cluster.
  - Waits for the restore session to finish, with the poll interval growing from
    O(poll_interval) up to 30 seconds.
  - "The module is idempotent: it does not start a second restore for the same request. It
    computes a fingerprint, the first 12 hex digits of a SHA-256 of the resolved restore point
    id, source VM id, O(restore_to_original), target VM name, target cluster id, storage
    container id and network mapping, and appends it to the reason it sends as
    C([ansible:<fingerprint>]). Before restoring, it lists the C(RestoreVm) sessions that
    started since the restore point was created and looks for that marker in their reason."
  - "A match is decided in this order. First, a session with the marker that is still running
    is attached to and waited for, and the task reports C(changed) with RV(attached=true).
    Next, a session with the marker that finished with result C(Success) or C(Warning) makes
    the task V(ok). Last, for a restore to a new location, a VM named O(target_name) already in
    the plug-in's inventory of the target cluster makes the task V(ok) as well. Sessions with
    the marker that failed or were cancelled do not count, so running the task again retries
    the restore."
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  vm_name:
    description:
      - Name of the VM to restore, compared case-sensitively.
      - Fails when several VMs have this name; set O(cluster) or O(vm_id) then.
      - Mutually exclusive with O(vm_id).
    type: str
  vm_id:
    description:
      - Nutanix id of the VM to restore.
      - Mutually exclusive with O(vm_name).
    type: str
  cluster:
    description:
      - Name or id of the cluster the VM to restore was on, to tell apart VMs that share
        O(vm_name).
    type: str
  restore_point_id:
    description:
      - Id of the restore point to restore from.
      - When set, O(vm_name) and O(vm_id) are needed only for a protection domain snapshot,
        which contains several VMs. When they are set anyway, the VM must be in the restore point.
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
      - Use the newest restore point created strictly before this ISO 8601 date-time, such as
        V(2026-10-30T18:00:00Z). A value without an offset is UTC, and a date alone means
        midnight UTC.
    type: str
  restore_to_original:
    description:
      - Whether to restore the VM to its original location, replacing the VM there, with its
        original name, cluster, storage and networks.
      - When V(true), O(target_name), O(target_cluster), O(storage_container) and
        O(network_mapping) must not be set.
    type: bool
    default: false
  target_name:
    description:
      - Name of the new VM. Required unless O(restore_to_original=true).
    type: str
  target_cluster:
    description:
      - Name or id of the cluster to restore the new VM to.
      - Defaults to the cluster of the restore point.
    type: str
  storage_container:
    description:
      - Name or id of the storage container on the target cluster for the new VM's disks.
      - When not set, the plug-in chooses, normally the containers the disks were on.
    type: str
  network_mapping:
    description:
      - Networks to connect the new VM's network adapters to, each entry naming the adapters
        of the VM in the restore point and a network of the target cluster.
      - Adapters not listed keep the network they had, as the plug-in decides.
    type: list
    elements: dict
    suboptions:
      source_mac:
        description:
          - MAC address of one network adapter of the VM in the restore point.
          - Mutually exclusive with O(network_mapping[].source_network).
        type: str
      source_network:
        description:
          - Name or id of the network that the adapters were connected to in the restore
            point. The entry applies to every adapter on that network.
          - Only for C(Backup) and C(BackupSnapshot) restore points, whose network adapters the
            API lists. Use O(network_mapping[].source_mac) for the other types.
          - Mutually exclusive with O(network_mapping[].source_mac).
        type: str
      target_network:
        description:
          - Name or id of the network on the target cluster.
        type: str
        required: true
  power_on:
    description:
      - Whether to power on the VM after the restore.
    type: bool
    default: false
  disconnect_networks:
    description:
      - Whether to disconnect the VM's network adapters after the restore, for example to
        test a restore next to the running original.
    type: bool
    default: false
  reason:
    description:
      - Reason for the restore, shown in the restore session.
      - The module appends the fingerprint marker C([ansible:<fingerprint>]) to it.
    type: str
  force:
    description:
      - Whether to restore even when a matching session or target VM exists.
      - With V(true), the module skips the search for a previous restore and the check for a
        VM named O(target_name), and always starts a restore. Each run then starts one.
    type: bool
    default: false
  wait:
    description:
      - Whether to wait for the restore session to finish.
      - With V(false), the module returns the session id as soon as the restore has started.
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
        would send, reports V(changed=true) when a restore would start or a running one would
        be attached to, and sends no POST request.
  diff_mode:
    support: full
    details:
      - The diff shows the target VM before the restore (C(state=absent) when it does not
        exist) and as the restore point describes it after the restore, with the name,
        cluster, disks and network adapters it will have.
  platform:
    support: full
    platforms: all
    details: The module talks to the appliance over HTTPS from any host with Python.
notes:
  - The task reports C(changed) when it started a restore or attached to a running one, and
    V(ok) when a previous restore matched (see RV(match)).
  - The fingerprint depends on the resolved restore point. When a newer restore point appears
    between runs and O(restore_point_id) is not set, the selectors choose the newer point,
    so the module restores again unless the target VM already exists. Set
    O(restore_point_id) to pin the point.
  - Changing only O(reason), O(power_on) or O(disconnect_networks) keeps the fingerprint, so
    it does not start another restore.
  - A restore started outside Ansible carries no marker and is not recognised.
  - After a restore to a new location, delete the restored VM and set O(force=true) to
    restore it again, because the finished session still matches.
  - The plug-in's cluster inventory can lag behind Nutanix until a rescan. Run
    M(veeam_ahv.backup.vm_rescan) first when VMs were created or deleted in Nutanix since.
  - A restore point marked as corrupted gives a warning. The restore is started anyway, and
    its session decides the outcome.
  - The API documentation does not state whether C(POST /restorePoints/restore) returns
    C(200) or C(202), so any 2xx response with a C(sessionId) is accepted.
  - A session that ends with result C(Error), or is cancelled, fails the task with its error
    events. C(Warning) succeeds and returns the warnings, which also appear as Ansible
    warnings.
seealso:
  - module: veeam_ahv.backup.restore_point_info
  - module: veeam_ahv.backup.session_info
  - module: veeam_ahv.backup.vm_rescan
"""

EXAMPLES = r"""
- name: Restore the newest restore point of app-db-01 as a new VM on the DR cluster
  veeam_ahv.backup.vm_restore:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
    vm_name: app-db-01
    target_name: app-db-01-restored
    target_cluster: DR-AHV-01
    storage_container: dr-capacity
    network_mapping:
      - source_network: VM-Network
        target_network: Isolated-Restore
    power_on: true
    reason: Quarterly restore test
  register: restored

- name: Roll app-web-01 back to its last backup before a date, in place
  veeam_ahv.backup.vm_restore:
    vm_name: app-web-01
    cluster: PROD-AHV-01
    types: [Backup]
    before: "2026-10-30T18:00:00Z"
    restore_to_original: true
    reason: Roll back failed patch

- name: Start a restore from a known restore point without waiting
  veeam_ahv.backup.vm_restore:
    restore_point_id: 5f0c6f0e-8a51-4d3c-9a43-6f2d0b1f7c11
    target_name: file-srv-01-copy
    disconnect_networks: true
    wait: false
  register: started

- name: Follow the restore until it ends
  veeam_ahv.backup.session_info:
    id: "{{ started.session_id }}"
  register: progress
  until: progress.finished
  retries: 120
  delay: 30
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
      V(finished_session) when a successful one matched, V(target_vm) when a VM named
      O(target_name) exists on the target cluster.
  returned: always
  type: str
  sample: finished_session
fingerprint:
  description: Fingerprint of the request, as carried by the session reason.
  returned: always
  type: str
  sample: 3f9c2a71b04e
request:
  description:
    - The C(RestoreSettings) body sent, or that would be sent in check mode or when a
      previous restore matched.
  returned: always
  type: dict
  sample:
    restorePointId: 5f0c6f0e-8a51-4d3c-9a43-6f2d0b1f7c11
    sourceVmId: 0a6c4bd4-95b1-4f5e-a1a8-5d9e5c2a1f00
    restoreToOriginal: false
    targetVmName: app-db-01-restored
    targetVmClusterId: 00061b3c-5d7e-2c41-0000-00000000c3d4
    storageContainerId: 2c9b5ad1-4e8f-4f0a-b3b2-8a1f6f3e9d10
    networkAdapters:
      - macAddress: "50:6b:8d:12:34:56"
        value:
          networkId: 7d2e1c4b-0f3a-4b6e-9c8d-1a2b3c4d5e6f
          networkName: Isolated-Restore
    powerOnVmAfterRestore: true
    disconnectNetworksAfterRestore: false
    reason: Quarterly restore test [ansible:3f9c2a71b04e]
restore_point:
  description:
    - The restore point used, with the fields of its typed detail, such as C(isCorrupted)
      and C(vmId) for a C(Backup).
  returned: always
  type: dict
source_vm:
  description: The VM restored from the restore point.
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
    protected:
      description: Whether the VM is among the protected VMs.
      type: bool
    in_inventory:
      description: Whether the plug-in's inventory of the cluster still lists the VM.
      type: bool
target:
  description: Where the VM is restored to.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the restored VM.
      type: str
    cluster_id:
      description: Id of the target cluster.
      type: str
    cluster_name:
      description: Name of the target cluster.
      type: str
    restore_to_original:
      description: Whether the restore replaces the VM in its original location.
      type: bool
session_id:
  description:
    - Id of the restore session started, attached to or matched. Also returned when the wait
      times out or the session fails.
  returned: when a restore was started or a session matched
  type: str
session:
  description: Last known state of the restore session.
  returned: when a session was waited for or matched
  type: dict
  contains:
    id:
      description: Session id.
      type: str
    state:
      description: Session state, such as C(Running) or C(Finished).
      type: str
    result:
      description: Session result, C(Success), C(Warning) or C(Error), or C(None) while running.
      type: str
    progress_percent:
      description: Percent complete.
      type: int
    warnings:
      description: Messages of the session's warning events.
      type: list
      elements: str
    errors:
      description: Messages of the session's error events.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    check_wait_options,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    find_cluster,
    list_clusters,
    list_subresource,
    match_cluster,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore import (
    MATCH_TARGET_VM,
    adapter_state,
    build_restore_request,
    disk_state,
    find_session_match,
    list_sessions_since,
    match_named,
    reason_with_marker,
    request_fingerprint,
    resolve_network_mapping,
    restore_result,
    run_restore,
    vm_state,
    warn_if_corrupted,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore_points import (
    RESTORE_POINT_TYPES,
    find_inventory_vms,
    list_point_disks,
    list_point_network_adapters,
    resolve_point,
    source_vm_ids,
)

NEW_LOCATION_OPTIONS = ("target_name", "target_cluster", "storage_container", "network_mapping")


def check_options(params: dict) -> None:
    check_wait_options(params)
    if params["restore_to_original"]:
        conflicting = [name for name in NEW_LOCATION_OPTIONS if params[name]]
        if conflicting:
            raise ModuleFailure(
                f"{', '.join(conflicting)} cannot be combined with restore_to_original=true, "
                "which restores the VM with its original name, cluster, storage and networks. "
                "Remove them, or set restore_to_original to false for a new VM."
            )
    elif not (params["target_name"] or "").strip():
        raise ModuleFailure(
            "target_name is empty: set it to the name of the new VM, or set "
            "restore_to_original to true."
        )


def resolve_target_cluster(client, params: dict, point: dict, vm: dict) -> dict:
    source_cluster_id = point.get("clusterId") or vm["cluster_id"]
    if params["target_cluster"]:
        return find_cluster(client, params["target_cluster"])
    clusters = list_clusters(client)
    try:
        return match_cluster(clusters, source_cluster_id, by_name=False)
    except ModuleFailure:
        if params["restore_to_original"]:
            raise ModuleFailure(
                f"The original cluster {vm['cluster_name'] or source_cluster_id} of VM "
                f"'{vm['name']}' is no longer registered with the plug-in, so the VM cannot be "
                "restored to its original location. Restore it to a new location with "
                "target_name and target_cluster."
            ) from None
        raise ModuleFailure(
            f"The cluster {source_cluster_id} of restore point {point['id']} is no longer "
            "registered with the plug-in: set target_cluster to one of "
            f"{', '.join(c.get('name') or c.get('id') for c in clusters) or 'none'}."
        ) from None


class RestorePlan:
    """Every resolved input of one restore: point, VMs, target and request body."""

    def __init__(self, point, vm, cluster, container, adapters, remaps, body, fingerprint):
        self.point = point
        self.vm = vm
        self.cluster = cluster
        self.container = container
        self.adapters = adapters
        self.remaps = remaps
        self.body = body
        self.fingerprint = fingerprint

    @property
    def target_name(self) -> str:
        return self.body.get("targetVmName") or self.vm["name"]

    @property
    def location(self) -> str:
        return f"cluster {self.cluster.get('name')} ({self.cluster.get('id')})"

    def target(self) -> dict:
        return {
            "name": self.target_name,
            "cluster_id": self.cluster.get("id"),
            "cluster_name": self.cluster.get("name"),
            "restore_to_original": self.body["restoreToOriginal"],
        }

    def activity(self) -> str:
        return f"the restore of VM {self.vm['name']} from restore point {self.point['id']}"


def plan_restore(module, client) -> RestorePlan:
    params = module.params
    point, vm = resolve_point(client, params)
    cluster = resolve_target_cluster(client, params, point, vm)
    location = f"cluster {cluster.get('name')} ({cluster.get('id')})"

    container = None
    if params["storage_container"]:
        containers = list_subresource(client, cluster["id"], "storage_containers")
        container = match_named(
            containers, params["storage_container"], "storage container", location
        )

    adapters = None
    remaps = []
    if params["network_mapping"] or module._diff:
        adapters = list_point_network_adapters(client, point)
    if params["network_mapping"]:
        networks = list_subresource(client, cluster["id"], "networks")
        remaps = resolve_network_mapping(
            params["network_mapping"], adapters, networks, location, point
        )

    body = build_restore_request(
        restore_point_id=point["id"],
        source_vm_id=vm["id"],
        restore_to_original=params["restore_to_original"],
        target_name=params["target_name"],
        target_cluster_id=cluster.get("id"),
        storage_container_id=container and container.get("id"),
        network_adapters=remaps,
        power_on=params["power_on"],
        disconnect_networks=params["disconnect_networks"],
    )
    fingerprint = request_fingerprint(body)
    body["reason"] = reason_with_marker(params["reason"], fingerprint)
    return RestorePlan(point, vm, cluster, container, adapters, remaps, body, fingerprint)


def find_target_vm(client, plan: RestorePlan) -> dict | None:
    """Return the VM that the restore would replace or create, as the inventory lists it."""
    if plan.body["restoreToOriginal"]:
        pairs = find_inventory_vms(client, [plan.cluster], "id", plan.vm["id"])
    else:
        pairs = find_inventory_vms(client, [plan.cluster], "name", plan.target_name)
    return pairs[0][0] if pairs else None


def find_previous_restore(client, plan: RestorePlan, target_vm: dict | None) -> tuple:
    """Return ``(match, session row)`` for an earlier restore of the same request."""
    rows = list_sessions_since(client, "RestoreVm", plan.point.get("creationTimeUtc"))
    match, row = find_session_match(rows, plan.fingerprint)
    if match is None and target_vm is not None and not plan.body["restoreToOriginal"]:
        return MATCH_TARGET_VM, None
    return match, row


def planned_vm_state(client, plan: RestorePlan) -> dict:
    """Describe the target VM as the restore point describes it after the restore."""
    state = {"state": "present", "name": plan.target_name, "cluster": plan.cluster.get("name")}
    # A protection domain snapshot lists the disks of all its VMs together, without a field
    # that identifies the VM of each disk, so its disks are left out.
    if len(source_vm_ids(plan.point)) <= 1:
        disks = list_point_disks(client, plan.point["id"])
        state["disks"] = [disk_state(disk, plan.container) for disk in disks]
    if plan.adapters is not None:
        state["network_adapters"] = [adapter_state(nic, plan.remaps) for nic in plan.adapters]
    return state


def restore(module, client) -> dict:
    params = module.params
    check_options(params)
    plan = plan_restore(module, client)
    warn_if_corrupted(module, plan.point)

    target_vm = None
    if module._diff or not params["force"]:
        target_vm = find_target_vm(client, plan)
    match, row = (None, None) if params["force"] else find_previous_restore(client, plan, target_vm)

    result = restore_result(client, match, row, plan.fingerprint, plan.body)
    result.update(restore_point=plan.point, source_vm=plan.vm, target=plan.target())
    if result["changed"] and module._diff:
        result["diff"] = {"before": vm_state(target_vm), "after": planned_vm_state(client, plan)}
    return run_restore(module, client, "/restorePoints/restore", result, plan.activity())


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            vm_name={"type": "str"},
            vm_id={"type": "str"},
            cluster={"type": "str"},
            restore_point_id={"type": "str"},
            types={"type": "list", "elements": "str", "choices": list(RESTORE_POINT_TYPES)},
            before={"type": "str"},
            restore_to_original={"type": "bool", "default": False},
            target_name={"type": "str"},
            target_cluster={"type": "str"},
            storage_container={"type": "str"},
            network_mapping={
                "type": "list",
                "elements": "dict",
                "options": {
                    "source_mac": {"type": "str"},
                    "source_network": {"type": "str"},
                    "target_network": {"type": "str", "required": True},
                },
                "mutually_exclusive": [("source_mac", "source_network")],
                "required_one_of": [("source_mac", "source_network")],
            },
            power_on={"type": "bool", "default": False},
            disconnect_networks={"type": "bool", "default": False},
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
    run_module(module, restore)


if __name__ == "__main__":
    main()
