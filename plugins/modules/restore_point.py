#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: restore_point
short_description: Delete a Veeam restore point of a Nutanix AHV VM
version_added: 0.1.0
description:
  - Deletes a restore point by id (C(DELETE /restorePoints/{id}/delete)).
  - A restore point that does not exist, or that disappears while the module deletes it,
    is reported as V(ok) rather than as an error, so the task can run again safely.
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  id:
    description:
      - Id of the restore point, as returned by M(veeam_ahv.backup.restore_point_info).
    type: str
    required: true
  state:
    description:
      - V(absent) deletes the restore point. It is the only state, because restore points are
        created by backup jobs, not by this module.
    type: str
    choices: [absent]
    default: absent
  delete_from_server:
    description:
      - Whether to delete the backup files from the backup repositories too
        (query parameter C(deleteFromServer)).
      - With V(false), the plug-in removes the restore point and leaves the files.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the restore point, sends no DELETE request, and reports
        V(changed=true) only when the restore point exists.
  diff_mode:
    support: full
    details:
      - The diff shows the restore point before (C(state=present) with its type, creation
        time and job) and after the deletion (C(state=absent)).
  platform:
    support: full
    platforms: all
    details: The module talks to the appliance over HTTPS from any host with Python.
notes:
  - The API documentation describes an empty response to the deletion. A response with a
    C(sessionId) is accepted too, and its id is returned in RV(session_id) without waiting
    for the session.
seealso:
  - module: veeam_ahv.backup.restore_point_info
"""

EXAMPLES = r"""
- name: Delete a restore point and its backup files
  veeam_ahv.backup.restore_point:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
    id: 5f0c6f0e-8a51-4d3c-9a43-6f2d0b1f7c11
    delete_from_server: true

- name: Find the user snapshots of app-db-01
  veeam_ahv.backup.restore_point_info:
    vm_name: app-db-01
    types: [UserSnapshot]
  register: user_snapshots

- name: Delete them, keeping nothing in the repositories
  veeam_ahv.backup.restore_point:
    id: "{{ item.id }}"
    delete_from_server: true
  loop: "{{ user_snapshots.restore_points }}"
"""

RETURN = r"""
restore_point:
  description: The restore point as it was before the deletion, or null when it did not exist.
  returned: always
  type: dict
  contains:
    id:
      description: Restore point id.
      type: str
    type:
      description: Restore point type.
      type: str
    creationTimeUtc:
      description: When the restore point was created, in ISO 8601 UTC.
      type: str
    jobId:
      description: Id of the job that created the restore point, if any.
      type: str
    jobName:
      description: Name of the job that created the restore point, if any.
      type: str
session_id:
  description: Id of the session the deletion started, when the server returns one.
  returned: when the server returns a session id
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import api_path
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import ApiError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore_points import (
    get_restore_point,
)


def point_state(point: dict | None, point_id: str) -> dict:
    if point is None:
        return {"id": point_id, "state": "absent"}
    return {
        "id": point.get("id"),
        "state": "present",
        "type": point.get("type"),
        "creationTimeUtc": point.get("creationTimeUtc"),
        "jobName": point.get("jobName"),
    }


def delete_point(client, point_id: str, delete_from_server: bool):
    """Send the DELETE and return its body, or False when the point was already gone (404)."""
    params = {"deleteFromServer": "true" if delete_from_server else "false"}
    try:
        return client.delete(api_path("restorePoints", point_id, "delete"), params=params)
    except ApiError as error:
        if error.status == 404:
            return False
        raise


def ensure_absent(module, client) -> dict:
    point_id = module.params["id"].strip()
    if not point_id:
        raise ModuleFailure("id is empty: set it to the id of the restore point to delete.")
    point = get_restore_point(client, point_id)
    result = {"changed": point is not None, "restore_point": point}
    if module._diff:
        result["diff"] = {
            "before": point_state(point, point_id),
            "after": point_state(None, point_id),
        }
    if point is None or module.check_mode:
        return result

    response = delete_point(client, point_id, module.params["delete_from_server"])
    if response is False:
        # Deleted by someone else between the GET and the DELETE.
        result["changed"] = False
        if module._diff:
            result["diff"]["before"] = point_state(None, point_id)
        return result
    if isinstance(response, dict) and response.get("sessionId"):
        result["session_id"] = response["sessionId"]
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            id={"type": "str", "required": True},
            state={"type": "str", "default": "absent", "choices": ["absent"]},
            delete_from_server={"type": "bool", "default": False},
        ),
        supports_check_mode=True,
    )
    run_module(module, ensure_absent)


if __name__ == "__main__":
    main()
