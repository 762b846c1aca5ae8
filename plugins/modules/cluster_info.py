#!/usr/bin/python
# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: List the Nutanix AHV clusters known to the Veeam plug-in
version_added: 0.1.0
description:
  - Lists the Nutanix AHV clusters registered with the Veeam Plug-in for Nutanix AHV, or
    one cluster chosen by name or id.
  - Can add each cluster's VMs, networks, storage containers, hosts, protection domains and
    volume groups, read in full however many pages the appliance returns.
  - The VM list is the plug-in's view of the cluster. Use M(veeam_ahv.backup.vm_rescan) to
    update it from Nutanix first.
author:
  - veeam_ahv.backup maintainers (!UNKNOWN)
extends_documentation_fragment:
  - veeam_ahv.backup.connection
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - Name of the one cluster to return.
      - Fails when no cluster has this name, or when several do; use O(id) then.
      - Mutually exclusive with O(id).
    type: str
  id:
    description:
      - Id of the one cluster to return, as the plug-in reports it.
      - Mutually exclusive with O(name).
    type: str
  include:
    description:
      - Sub-collections to add to each cluster, each under the key named in
        RV(clusters[].vms) and the other return values.
      - Each one costs at least one request per cluster.
    type: list
    elements: str
    choices: [vms, networks, storage_containers, hosts, protection_domains, volume_groups]
    default: []
  query:
    description:
      - A JMESPath expression applied to the list of clusters. The outcome is returned as
        RV(query_result), next to the unchanged RV(clusters).
      - 'For example V([].{name: name, vms: length(vms\)}) with O(include=[vms]).'
      - Needs the C(jmespath) Python library.
    type: str
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
    C(storageContainers) and C(prismCentralId).
requirements:
  - jmespath (only for O(query))
seealso:
  - module: veeam_ahv.backup.vm_rescan
"""

EXAMPLES = r"""
- name: List all clusters
  veeam_ahv.backup.cluster_info:
    url: https://vbahv.example.com
    username: administrator
    password: "{{ vbahv_password }}"
  register: all_clusters

- name: Show one cluster with its networks and storage containers
  veeam_ahv.backup.cluster_info:
    name: PROD-AHV-01
    include: [networks, storage_containers]
  register: prod

- name: Count the VMs on each cluster, with connection options set once for the play
  module_defaults:
    group/veeam_ahv.backup.veeam_ahv:
      url: https://vbahv.example.com
      username: administrator
      password: "{{ vbahv_password }}"
      ca_path: /etc/pki/vbahv-ca.pem
  veeam_ahv.backup.cluster_info:
    include: [vms]
    query: "[].{cluster: name, vm_count: length(vms)}"
  register: counts
"""

RETURN = r"""
clusters:
  description:
    - The clusters, sorted by name, with the fields the API returns.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Cluster id.
      type: str
      sample: 00061b3c-5d7e-2c41-0000-00000000a1b2
    name:
      description: Cluster name.
      type: str
      sample: PROD-AHV-01
    description:
      description: Cluster description.
      type: str
    address:
      description: IP address or host name of the cluster.
      type: str
      sample: 10.10.0.20
    port:
      description: Port the plug-in connects to.
      type: int
      sample: 9440
    state:
      description: Whether the plug-in can reach the cluster.
      type: str
      sample: Available
    version:
      description: AOS version of the cluster.
      type: str
    prismCentralId:
      description: Id of the Prism Central that manages the cluster, if any.
      type: str
    vms:
      description: VMs the plug-in knows on the cluster (C(VirtualMachine) objects).
      returned: when O(include) contains V(vms)
      type: list
      elements: dict
    networks:
      description: Networks of the cluster (C(NutanixNetwork) objects).
      returned: when O(include) contains V(networks)
      type: list
      elements: dict
    storageContainers:
      description: Storage containers of the cluster.
      returned: when O(include) contains V(storage_containers)
      type: list
      elements: dict
    hosts:
      description: Hosts of the cluster.
      returned: when O(include) contains V(hosts)
      type: list
      elements: dict
    protectionDomains:
      description: Protection domains of the cluster.
      returned: when O(include) contains V(protection_domains)
      type: list
      elements: dict
    volumeGroups:
      description: Volume groups of the cluster.
      returned: when O(include) contains V(volume_groups)
      type: list
      elements: dict
query_result:
  description: The outcome of O(query) applied to RV(clusters).
  returned: when O(query) is set
  type: raw
  sample: [{"cluster": "PROD-AHV-01", "vm_count": 18}]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ModuleFailure,
    argument_spec,
    run_module,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import (
    CLUSTER_SUBRESOURCES,
    find_cluster,
    list_clusters,
    list_subresource,
)

try:
    import jmespath

    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()


def apply_query(expression: str, data):
    """Return the JMESPath ``expression`` applied to ``data``."""
    try:
        return jmespath.search(expression, data)
    except jmespath.exceptions.JMESPathError as error:
        raise ModuleFailure(
            f"query '{expression}' is not a valid JMESPath expression: {error}"
        ) from None


def gather(module, client) -> dict:
    params = module.params
    if params["name"]:
        clusters = [find_cluster(client, params["name"], by_id=False)]
    elif params["id"]:
        clusters = [find_cluster(client, params["id"], by_name=False)]
    else:
        clusters = list_clusters(client)

    for cluster in clusters:
        for option in params["include"]:
            key = CLUSTER_SUBRESOURCES[option][0]
            cluster[key] = list_subresource(client, cluster["id"], option)

    result = {"changed": False, "clusters": clusters}
    if params["query"]:
        result["query_result"] = apply_query(params["query"], clusters)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            name={"type": "str"},
            id={"type": "str"},
            include={
                "type": "list",
                "elements": "str",
                "default": [],
                "choices": list(CLUSTER_SUBRESOURCES),
            },
            query={"type": "str"},
        ),
        mutually_exclusive=[("name", "id")],
        supports_check_mode=True,
    )
    if module.params["query"] and not HAS_JMESPATH:
        module.fail_json(msg=missing_required_lib("jmespath"), exception=JMESPATH_IMPORT_ERROR)
    run_module(module, gather)


if __name__ == "__main__":
    main()
