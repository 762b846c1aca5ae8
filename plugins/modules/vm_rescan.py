#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_rescan
short_description: Rescan the VM inventory of Nutanix AHV clusters in the Veeam plug-in
version_added: 0.1.0
description:
  - Starts an infrastructure rescan of the VMs of one, several or all clusters
    (C(POST /clusters/{id}/vms/refreshAsync)), so that the plug-in sees VMs created or
    deleted in Nutanix since its last rescan.
  - Waits for the rescan sessions to finish and reports the VMs that appeared and
    disappeared, by comparing the cluster's VM list before and after.
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  clusters:
    description:
      - Names or ids of the clusters to rescan. A value that equals a cluster id selects that
        cluster; otherwise it must be the name of exactly one cluster.
      - All clusters when omitted or empty.
    type: list
    elements: str
    default: []
  wait:
    description:
      - Whether to wait for the rescan sessions to finish.
      - With V(false), the module returns the session ids at once and cannot report which
        VMs appeared or disappeared.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for all rescan sessions to finish.
      - When they have not finished by then, the task fails and returns the session ids; the
        rescans go on running on the appliance.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between the first status checks of the sessions. The interval grows by half
        after each check, up to 30 seconds.
    type: float
    default: 2
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the clusters and their VMs, sends no rescan request, and reports
        V(changed=true) because a rescan would be started.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: all
    details: The module talks to the appliance over HTTPS from any host with Python.
notes:
  - The task reports C(changed) when a VM appeared or disappeared. With O(wait=false) it reports
    C(changed) whenever a rescan was started, because the outcome is not known yet.
  - A session that ends with result C(Error) fails the task with the session's error
    events; C(Warning) succeeds and returns the warnings.
seealso:
  - module: veeam_ahv.backup.cluster_info
"""

EXAMPLES = r"""
- name: Rescan every cluster and show what changed
  veeam_ahv.backup.vm_rescan:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
  register: rescan

- name: Report new VMs
  ansible.builtin.debug:
    msg: "New in the plug-in: {{ rescan.appeared | map(attribute='name') | list }}"

- name: Rescan two clusters, one by name and one by id, and give up after five minutes
  veeam_ahv.backup.vm_rescan:
    clusters:
      - PROD-AHV-01
      - 00061b3c-5d7e-2c41-0000-00000000c3d4
    wait_timeout: 300

- name: Start a rescan without waiting
  veeam_ahv.backup.vm_rescan:
    clusters: [DR-AHV-02]
    wait: false
  register: started
"""

RETURN = r"""
appeared:
  description: VMs that the plug-in lists after the rescan but did not list before.
  returned: always
  type: list
  elements: dict
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
disappeared:
  description: VMs that the plug-in listed before the rescan but no longer lists.
  returned: always
  type: list
  elements: dict
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
clusters:
  description: One entry per rescanned cluster.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Cluster id.
      type: str
    name:
      description: Cluster name.
      type: str
    session_id:
      description: Id of the rescan session; absent in check mode.
      type: str
    vm_count_before:
      description: VMs known before the rescan.
      type: int
    vm_count_after:
      description: VMs known after the rescan; absent when the module did not wait.
      type: int
session_ids:
  description: Ids of the rescan sessions started, also returned when the wait times out.
  returned: always
  type: list
  elements: str
sessions:
  description: Final state of each rescan session.
  returned: when O(wait=true) and not in check mode
  type: list
  elements: dict
  contains:
    id:
      description: Session id.
      type: str
    state:
      description: Session state, C(Finished) or C(Cancelled).
      type: str
    result:
      description: Session result, C(Success), C(Warning) or C(Error).
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

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import api_path
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import VeeamAhvError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    check_wait_options,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    find_clusters,
    list_cluster_vms,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.sessions import (
    SessionWaiter,
    session_failure,
    summarize_session,
)


def vm_summary(vm: dict, cluster: dict) -> dict:
    return {
        "id": vm.get("id"),
        "name": vm.get("name"),
        "cluster_id": cluster.get("id"),
        "cluster_name": cluster.get("name"),
    }


def compare_vms(before: list, after: list, cluster: dict) -> tuple[list, list]:
    """Return the VMs only in ``after`` and the VMs only in ``before``, by id."""
    before_ids = {vm.get("id") for vm in before}
    after_ids = {vm.get("id") for vm in after}
    appeared = [vm_summary(vm, cluster) for vm in after if vm.get("id") not in before_ids]
    disappeared = [vm_summary(vm, cluster) for vm in before if vm.get("id") not in after_ids]
    return appeared, disappeared


def start_rescan(client, cluster: dict) -> str:
    body = client.post(api_path("clusters", cluster["id"], "vms", "refreshAsync"))
    session_id = (body or {}).get("sessionId")
    if not session_id:
        raise ModuleFailure(
            f"The rescan request for cluster '{cluster['name']}' returned no sessionId, so its "
            "progress cannot be followed.",
            response=body,
        )
    return session_id


def check_results(sessions: dict, entries: list, module) -> None:
    """Fail on sessions that ended in Error or were cancelled; warn on warnings."""
    for entry in entries:
        session = sessions[entry["session_id"]]
        summary = summarize_session(session)
        failure = session_failure(summary)
        if failure:
            raise ModuleFailure(
                f"The rescan of cluster '{entry['name']}' {failure}.",
                session_ids=[e["session_id"] for e in entries],
                sessions=[summarize_session(s) for s in sessions.values()],
            )
        for warning in summary["warnings"]:
            module.warn(f"Rescan of cluster '{entry['name']}': {warning}")


def annotate_started_rescans(error, session_ids: list):
    """Name the rescan sessions that started before a failure, in the message and result."""
    if not session_ids:
        return error
    if not isinstance(error, ModuleFailure):
        error.add_context(
            f"Rescan session(s) {', '.join(session_ids)} were started before the failure and "
            "may still be running."
        )
    return error.add_context(session_ids=session_ids)


def rescan(module, client) -> dict:
    params = module.params
    check_wait_options(params)

    clusters = find_clusters(client, params["clusters"])
    entries = []
    before = {}
    for cluster in clusters:
        before[cluster["id"]] = list_cluster_vms(client, cluster["id"])
        entries.append(
            {
                "id": cluster["id"],
                "name": cluster.get("name"),
                "vm_count_before": len(before[cluster["id"]]),
            }
        )

    result = {"appeared": [], "disappeared": [], "clusters": entries, "session_ids": []}
    if module.check_mode:
        result["changed"] = bool(clusters)
        return result

    try:
        for cluster, entry in zip(clusters, entries):
            entry["session_id"] = start_rescan(client, cluster)
            result["session_ids"].append(entry["session_id"])

        if not params["wait"]:
            result["changed"] = bool(clusters)
            return result

        names = ", ".join(entry["name"] for entry in entries)
        waiter = SessionWaiter(client, poll_interval=params["poll_interval"])
        sessions = waiter.wait(
            result["session_ids"], params["wait_timeout"], f"the VM rescan of {names}"
        )
        result["sessions"] = [summarize_session(sessions[sid]) for sid in result["session_ids"]]
        check_results(sessions, entries, module)
    except VeeamAhvError as error:
        raise annotate_started_rescans(error, result["session_ids"]) from None

    for cluster, entry in zip(clusters, entries):
        after = list_cluster_vms(client, cluster["id"])
        entry["vm_count_after"] = len(after)
        appeared, disappeared = compare_vms(before[cluster["id"]], after, cluster)
        result["appeared"].extend(appeared)
        result["disappeared"].extend(disappeared)

    result["changed"] = bool(result["appeared"] or result["disappeared"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            clusters={"type": "list", "elements": "str", "default": []},
            wait={"type": "bool", "default": True},
            wait_timeout={"type": "int", "default": 900},
            poll_interval={"type": "float", "default": 2},
        ),
        supports_check_mode=True,
    )
    run_module(module, rescan)


if __name__ == "__main__":
    main()
