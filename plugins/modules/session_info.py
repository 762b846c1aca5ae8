#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: session_info
short_description: Show Veeam plug-in sessions such as restores, backups and rescans
version_added: 0.1.0
description:
  - Returns one session by id, with its state, result, percent complete and events, and
    whether it has finished. Use it in an C(until) loop to follow a restore or a job started
    with O(veeam_ahv.backup.vm_restore#module:wait=false).
  - Without O(id), lists the most recent sessions, newest first, optionally only those of
    some types or states.
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  id:
    description:
      - Id of the one session to return. Fails when it does not exist.
      - Mutually exclusive with O(types), O(states) and O(since).
    type: str
  types:
    description:
      - List only sessions of these types (C(SessionType) values), such as C(RestoreVm),
        C(RestoreVmDisks), C(BackupVmJob), C(SnapshotVmJob), C(SnapshotPdJob),
        C(RescanBackups) or C(Internal).
      - The values are not checked against a fixed list, because plug-in versions add types.
    type: list
    elements: str
  states:
    description:
      - List only sessions in these states.
    type: list
    elements: str
    choices: [Unknown, Starting, Running, Finished, Cancelling, Cancelled]
  since:
    description:
      - List only sessions that started at or after this ISO 8601 date-time
        (query parameter C(from)).
    type: str
  max_results:
    description:
      - Maximum number of sessions to list.
    type: int
    default: 50
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
  - A session has finished when its state is C(Finished) or C(Cancelled), and its result is
    then C(Success), C(Warning) or C(Error). While it runs, the result is C(None).
  - The list relies on the server sorting sessions by start time, newest first, and stops
    reading pages once it has O(max_results) sessions.
seealso:
  - module: veeam_ahv.backup.vm_restore
"""

EXAMPLES = r"""
- name: Start a restore without waiting
  veeam_ahv.backup.vm_restore:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
    vm_name: app-db-01
    target_name: app-db-01-test
    wait: false
  register: started

- name: Wait for the restore session to end
  veeam_ahv.backup.session_info:
    id: "{{ started.session_id }}"
  register: restore_session
  until: restore_session.finished
  retries: 120
  delay: 30

- name: Fail unless the restore succeeded
  ansible.builtin.assert:
    that: restore_session.session.result in ['Success', 'Warning']
    fail_msg: "{{ restore_session.session.errors | join('; ') }}"

- name: List the restores that are still running
  veeam_ahv.backup.session_info:
    types: [RestoreVm, RestoreVmDisks]
    states: [Starting, Running]
  register: running
"""

RETURN = r"""
finished:
  description:
    - Whether the session named by O(id) has ended (state C(Finished) or C(Cancelled)).
    - The same value as RV(session.finished), at the top level for C(until) conditions.
  returned: when O(id) is set
  type: bool
session:
  description: The session named by O(id).
  returned: when O(id) is set
  type: dict
  contains:
    id:
      description: Session id.
      type: str
    name:
      description: Session name.
      type: str
    type:
      description: Session type, such as C(RestoreVm).
      type: str
    state:
      description:
        - Session state, C(Starting), C(Running), C(Finished), C(Cancelling) or C(Cancelled).
      type: str
    result:
      description: Session result, C(Success), C(Warning) or C(Error), or C(None) while running.
      type: str
    finished:
      description: Whether the session has ended.
      type: bool
    progress_percent:
      description: Percent complete.
      type: int
    start_time:
      description: Start time, in ISO 8601 UTC.
      type: str
    finish_time:
      description: Finish time, in ISO 8601 UTC, or null while running.
      type: str
    duration:
      description: Duration as the server formats it, such as C(00:07:12).
      type: str
    reason:
      description: Reason given when the session was started.
      type: str
    object_id:
      description: Id of the object the session works on, such as the restored VM.
      type: str
    object_name:
      description: Name of the object the session works on.
      type: str
    job_id:
      description: Id of the job, for a job session.
      type: str
    job_name:
      description: Name of the job, for a job session.
      type: str
    parent_session_id:
      description: Id of the parent session, if any.
      type: str
    events:
      description: The session log, oldest first.
      type: list
      elements: dict
      contains:
        severity:
          description: C(Information), C(Warning), C(Error) or C(Unknown).
          type: str
        message:
          description: Event text.
          type: str
        start_time:
          description: When the event started, in ISO 8601 UTC.
          type: str
        end_time:
          description: When the event ended, in ISO 8601 UTC, or null.
          type: str
    warnings:
      description: Messages of the warning events.
      type: list
      elements: str
    errors:
      description: Messages of the error events.
      type: list
      elements: str
sessions:
  description: The most recent sessions, newest first.
  returned: when O(id) is not set
  type: list
  elements: dict
  contains:
    id:
      description: Session id.
      type: str
    name:
      description: Session name.
      type: str
    type:
      description: Session type.
      type: str
    state:
      description: Session state.
      type: str
    result:
      description: Session result.
      type: str
    finished:
      description: Whether the session has ended.
      type: bool
    job_name:
      description: Name of the job, for a job session.
      type: str
    objects_count:
      description: Number of objects the session processes.
      type: int
    start_time:
      description: Start time, in ISO 8601 UTC.
      type: str
    finish_time:
      description: Finish time, in ISO 8601 UTC, or null while running.
      type: str
    reason:
      description: Reason given when the session was started.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import (
    api_path,
    encode_json_parameter,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import ApiError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.paging import read_envelope
from ansible_collections.veeam_ahv.backup.plugins.module_utils.restore_points import (
    parse_option_timestamp,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.sessions import (
    session_is_final,
    summarize_session,
)

SESSION_STATES = ["Unknown", "Starting", "Running", "Finished", "Cancelling", "Cancelled"]
NEWEST_FIRST = [{"property": "startTimeUtc", "direction": "Descending"}]


def describe_event(event: dict) -> dict:
    return {
        "severity": event.get("severity"),
        "message": event.get("message"),
        "start_time": event.get("startTimeUtc"),
        "end_time": event.get("endTimeUtc"),
    }


def session_detail(session: dict) -> dict:
    """Return the module's view of a full ``Session`` object."""
    context = session.get("context") or {}
    events = (session.get("progressState") or {}).get("events") or []
    detail = summarize_session(session)
    detail.update(
        finished=session_is_final(session),
        duration=session.get("duration"),
        reason=context.get("reason"),
        object_id=context.get("objectId"),
        object_name=context.get("objectName"),
        job_id=context.get("jobId"),
        job_name=context.get("jobName"),
        parent_session_id=session.get("parentSessionId"),
        events=[describe_event(event) for event in events if isinstance(event, dict)],
    )
    return detail


def list_item(row: dict) -> dict:
    """Return the module's view of a ``SessionBaseInfo`` list item."""
    return {
        "id": row.get("id"),
        "name": row.get("name"),
        "type": row.get("sessionType"),
        "state": row.get("state"),
        "result": row.get("result"),
        "finished": session_is_final(row),
        "job_name": row.get("jobName"),
        "objects_count": row.get("objectsCount"),
        "start_time": row.get("startTimeUtc"),
        "finish_time": row.get("finishTimeUtc"),
        "reason": row.get("reason"),
    }


def list_filter(types: list | None, states: list | None) -> list:
    expressions = []
    if types:
        expressions.append({"property": "sessionType", "operation": "In", "value": list(types)})
    if states:
        expressions.append({"property": "state", "operation": "In", "value": list(states)})
    return expressions


def row_matches(row: dict, types: list | None, states: list | None) -> bool:
    """Check a row against the filters, in case a server ignores the ``filter`` parameter."""
    if types and row.get("sessionType") not in types:
        return False
    return not states or row.get("state") in states


def list_recent_sessions(client, params: dict) -> list:
    """Read pages of sessions, newest first, until ``max_results`` of them match."""
    query = {"sort": encode_json_parameter(NEWEST_FIRST)}
    expressions = list_filter(params["types"], params["states"])
    if expressions:
        query["filter"] = encode_json_parameter(expressions)
    if params["since"]:
        query["from"] = params["since"]
    max_rows = params["max_results"]
    rows = []
    offset = 0
    while len(rows) < max_rows:
        body = client.get("/sessions", params=dict(query, offset=offset, limit=client.page_size))
        if isinstance(body, list):
            page, total = body, len(body)
        else:
            page, total = read_envelope(body, "/sessions")
        rows.extend(row for row in page if row_matches(row, params["types"], params["states"]))
        offset += len(page)
        if not page or isinstance(body, list) or (total is not None and offset >= total):
            break
    return rows[:max_rows]


def gather(module, client) -> dict:
    params = module.params
    if params["max_results"] < 1:
        raise ModuleFailure(f"max_results must be at least 1, got {params['max_results']}.")
    if params["id"] is not None and not params["id"].strip():
        raise ModuleFailure(
            "id is empty: set it to a session id, or leave it out to list recent sessions."
        )
    if params["id"]:
        try:
            session = client.get(api_path("sessions", params["id"]))
        except ApiError as error:
            if error.status != 404:
                raise
            raise ModuleFailure(
                f"Session '{params['id']}' was not found. List recent sessions with this "
                "module without id."
            ) from None
        detail = session_detail(session)
        return {"changed": False, "finished": detail["finished"], "session": detail}

    if params["since"]:
        parse_option_timestamp(params["since"], "since")
    return {
        "changed": False,
        "sessions": [list_item(row) for row in list_recent_sessions(client, params)],
    }


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            id={"type": "str"},
            types={"type": "list", "elements": "str"},
            states={"type": "list", "elements": "str", "choices": SESSION_STATES},
            since={"type": "str"},
            max_results={"type": "int", "default": 50},
        ),
        mutually_exclusive=[("id", "types"), ("id", "states"), ("id", "since")],
        supports_check_mode=True,
    )
    run_module(module, gather)


if __name__ == "__main__":
    main()
