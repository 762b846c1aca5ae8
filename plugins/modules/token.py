#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: token
short_description: Log in to the Veeam plug-in once and share the access token
version_added: 0.1.0
description:
  - With O(state=present), logs in with O(username) and O(password) and returns the access
    token, so that later tasks pass it as O(access_token) instead of logging in each time.
  - With O(state=absent), logs out the token given in O(access_token), for example in the
    C(always) section of a block.
  - The result contains a secret, so the task must set C(no_log=true). The module fails
    without it, before it logs in.
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  state:
    description:
      - V(present) logs in and returns a new token.
      - V(absent) logs out the token in O(access_token). A token that has already expired
        or been logged out is not an error.
    type: str
    choices: [present, absent]
    default: present
  long_lived_refresh_token:
    description:
      - Ask for a refresh token that lasts 14 days instead of 24 hours.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details:
      - In check mode, V(present) still logs in, because later tasks in check mode need the
        token too, and V(absent) sends no logout.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: all
    details: The module talks to the appliance over HTTPS from any host with Python.
notes:
  - The access token lasts 30 minutes. Modules that get only O(access_token) fail once it
    has expired; give them O(username) and O(password) as well to let them log in again.
  - Set C(no_log=true) on the task. The registered variable still holds the token for later
    tasks, but Ansible keeps it out of the output and logs.
"""

EXAMPLES = r"""
- name: Restore runbook that logs in once
  hosts: localhost
  gather_facts: false
  vars:
    vbahv_url: https://vbahv.example.com
  tasks:
    - name: Log in
      veeam_ahv.backup.token:
        url: "{{ vbahv_url }}"
        username: administrator
        password: "{{ vbahv_password }}"
      register: vbahv_login
      no_log: true

    - name: Work with the shared token
      module_defaults:
        group/veeam_ahv.backup.veeam_ahv:
          url: "{{ vbahv_url }}"
          access_token: "{{ vbahv_login.access_token }}"
      block:
        - name: List clusters
          veeam_ahv.backup.cluster_info:
          register: clusters

        - name: Rescan them
          veeam_ahv.backup.vm_rescan:
      always:
        - name: Log out
          veeam_ahv.backup.token:
            state: absent
          no_log: true
"""

RETURN = r"""
access_token:
  description: The access token, to pass as O(access_token) to later tasks.
  returned: when O(state=present)
  type: str
refresh_token:
  description: The refresh token issued with it.
  returned: when O(state=present)
  type: str
access_token_expires_at:
  description: When the access token expires, as ISO 8601 UTC.
  returned: when O(state=present)
  type: str
  sample: "2026-12-04T17:05:00Z"
refresh_token_expires_at:
  description: When the refresh token expires, as ISO 8601 UTC.
  returned: when O(state=present)
  type: str
  sample: "2026-12-05T16:35:00Z"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import AuthenticationError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    run_module,
)

NO_LOG_REQUIRED = (
    "The token module returns an access token, so the task must set no_log: true. Add "
    "'no_log: true' to the task and run it again; no login was attempted."
)


def log_in(module, client) -> dict:
    if not client.tokens.can_login:
        raise ModuleFailure("state=present needs username and password to log in.")
    client.tokens.login()
    # The token now belongs to the task result, so the client must not log it
    # out when the module ends.
    token = client.tokens.release()
    return {
        "changed": True,
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "access_token_expires_at": token.raw_access_expiry,
        "refresh_token_expires_at": token.raw_refresh_expiry,
    }


def log_out(module, client) -> dict:
    if not module.params["access_token"]:
        raise ModuleFailure("state=absent needs access_token: the token to log out.")
    if module.check_mode:
        return {"changed": True}
    try:
        client.tokens.logout(include_given=True)
    except AuthenticationError as error:
        if error.status != 401:
            raise
        # The server no longer accepts the token: it has expired or was revoked.
        return {"changed": False, "msg": "The token had already expired or been logged out."}
    return {"changed": True}


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            state={"type": "str", "default": "present", "choices": ["present", "absent"]},
            long_lived_refresh_token={"type": "bool", "default": False, "no_log": False},
        ),
        supports_check_mode=True,
    )
    if module.params["state"] == "present" and not module.no_log:
        module.fail_json(msg=NO_LOG_REQUIRED)
    action = log_in if module.params["state"] == "present" else log_out
    run_module(module, action, long_lived_refresh_token=module.params["long_lived_refresh_token"])


if __name__ == "__main__":
    main()
