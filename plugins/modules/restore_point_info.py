#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: restore_point_info
short_description: List the Veeam restore points of a Nutanix AHV VM
version_added: 0.1.0
description:
  - Lists the restore points of one VM, newest first, or returns one restore point by id.
  - The VM may no longer exist in Nutanix. It is looked up among the protected VMs (the VMs
    that have restore points) as well as in the plug-in's inventory of each cluster.
  - Selectors narrow the list to the restore points a restore would use, for example the
    newest backup created before a date.
  - Can add each restore point's typed detail, its disks and its network adapters.
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  vm_name:
    description:
      - Name of the VM whose restore points to list, compared case-sensitively.
      - Fails when several VMs have this name, listing them; set O(cluster) or O(vm_id) then.
      - Mutually exclusive with O(vm_id) and O(id).
    type: str
  vm_id:
    description:
      - Nutanix id of the VM whose restore points to list.
      - Mutually exclusive with O(vm_name) and O(id).
    type: str
  cluster:
    description:
      - Name or id of the VM's cluster, to tell apart VMs that share O(vm_name).
    type: str
  id:
    description:
      - Id of the one restore point to return. Fails when it does not exist.
      - Mutually exclusive with O(vm_name), O(vm_id), O(cluster), O(latest), O(before) and
        O(types).
    type: str
  latest:
    description:
      - Whether to return only the newest of the restore points that match the other selectors.
    type: bool
    default: false
  before:
    description:
      - Return only the newest restore point created strictly before this ISO 8601 date-time,
        such as V(2026-10-30T18:00:00Z). A value without an offset is UTC, and a date alone
        means midnight UTC.
    type: str
  types:
    description:
      - Return only restore points of these types.
    type: list
    elements: str
    choices: [Unknown, Backup, BackupSnapshot, UserSnapshot, PdSnapshot, VolumeGroupSnapshot]
  details:
    description:
      - Whether to add the fields of each restore point's typed detail, read from the
        endpoint for its type, such as C(isCorrupted), C(backupType) and C(vmId) for a
        C(Backup).
      - Costs one request per restore point. C(VolumeGroupSnapshot) points have no detail
        endpoint and are returned as they are.
    type: bool
    default: false
  include:
    description:
      - Lists to add to each restore point, each costing one request per restore point.
      - V(disks) adds RV(restore_points[].disks).
      - V(network_adapters) adds RV(restore_points[].networkAdapters), which the API provides
        for C(Backup) and C(BackupSnapshot) restore points only.
    type: list
    elements: str
    choices: [disks, network_adapters]
    default: []
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: all
    details: The module talks to the appliance over HTTPS from any host with Python.
notes:
  - Result keys that come from the API keep the API's camelCase names, for example
    C(creationTimeUtc) and C(networkAdapters).
  - The API documentation does not say whether restore point disk and network adapter lists
    are bare arrays or pages, so both are accepted.
seealso:
  - module: veeam_ahv.backup.vm_restore
  - module: veeam_ahv.backup.restore_point
"""

EXAMPLES = r"""
- name: List the restore points of app-db-01
  veeam_ahv.backup.restore_point_info:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
    vm_name: app-db-01
  register: points

- name: Find the newest backup of a deleted VM before the incident, with its disks
  veeam_ahv.backup.restore_point_info:
    vm_name: legacy-erp
    cluster: PROD-AHV-01
    types: [Backup]
    before: "2026-10-30T12:00:00Z"
    details: true
    include: [disks, network_adapters]
  register: before_incident

- name: Show one restore point
  veeam_ahv.backup.restore_point_info:
    id: "{{ before_incident.restore_points[0].id }}"
    details: true
"""

RETURN = r"""
restore_points:
  description: The restore points, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Restore point id.
      type: str
    type:
      description:
        - Restore point type, C(Backup), C(BackupSnapshot), C(UserSnapshot), C(PdSnapshot) or
          C(VolumeGroupSnapshot).
      type: str
      sample: Backup
    creationTimeUtc:
      description: When the restore point was created, in ISO 8601 UTC.
      type: str
      sample: "2026-10-31T22:10:00Z"
    jobId:
      description: Id of the job that created the restore point, if any.
      type: str
    jobName:
      description: Name of the job that created the restore point, if any.
      type: str
    isCorrupted:
      description: Whether the backup failed its integrity check.
      returned: when O(details=true) and the type is C(Backup)
      type: bool
    vmId:
      description: Id of the VM in the restore point.
      returned: when O(details=true), for every type except C(PdSnapshot)
      type: str
    vmIds:
      description: Ids of the VMs in a protection domain snapshot.
      returned: when O(details=true) and the type is C(PdSnapshot)
      type: list
      elements: str
    disks:
      description: Disks stored in the restore point (C(Disk) objects).
      returned: when O(include) contains V(disks)
      type: list
      elements: dict
    networkAdapters:
      description: Network adapters of the VM in the restore point (C(NetworkAdapter) objects).
      returned: >-
        when O(include) contains V(network_adapters) and the type is C(Backup) or
        C(BackupSnapshot)
      type: list
      elements: dict
vm:
  description: The VM whose restore points were listed.
  returned: when O(vm_name) or O(vm_id) is set
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
      description:
        - Whether the plug-in's inventory of the cluster still lists the VM. V(false) for a VM
          deleted in Nutanix since the last rescan.
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    argument_spec,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore_points import (
    RESTORE_POINT_TYPES,
    find_vm,
    get_restore_point_details,
    list_point_disks,
    list_point_network_adapters,
    list_vm_restore_points,
    parse_option_timestamp,
    require_restore_point,
    select_restore_points,
)


def add_lists(client, point: dict, include: list) -> dict:
    if "disks" in include:
        point["disks"] = list_point_disks(client, point["id"])
    if "network_adapters" in include:
        adapters = list_point_network_adapters(client, point)
        if adapters is not None:
            point["networkAdapters"] = adapters
    return point


def gather(module, client) -> dict:
    params = module.params
    result = {"changed": False}
    if params["id"]:
        points = [require_restore_point(client, params["id"])]
    else:
        before = params["before"] and parse_option_timestamp(params["before"], "before")
        vm = find_vm(client, params["vm_name"], params["vm_id"], params["cluster"])
        result["vm"] = vm
        points = select_restore_points(
            list_vm_restore_points(client, vm["id"]),
            types=params["types"],
            before=before or None,
            latest=params["latest"],
        )

    if params["details"]:
        points = [get_restore_point_details(client, point) for point in points]
    result["restore_points"] = [add_lists(client, point, params["include"]) for point in points]
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            vm_name={"type": "str"},
            vm_id={"type": "str"},
            cluster={"type": "str"},
            id={"type": "str"},
            latest={"type": "bool", "default": False},
            before={"type": "str"},
            types={"type": "list", "elements": "str", "choices": list(RESTORE_POINT_TYPES)},
            details={"type": "bool", "default": False},
            include={
                "type": "list",
                "elements": "str",
                "default": [],
                "choices": ["disks", "network_adapters"],
            },
        ),
        mutually_exclusive=[
            ("vm_name", "vm_id", "id"),
            ("id", "cluster"),
            ("id", "latest"),
            ("id", "before"),
            ("id", "types"),
        ],
        required_one_of=[("vm_name", "vm_id", "id")],
        supports_check_mode=True,
    )
    run_module(module, gather)


if __name__ == "__main__":
    main()
