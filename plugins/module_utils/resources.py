# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Look up clusters and their sub-collections by name or id."""

from __future__ import annotations

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import api_path
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure

# Sub-collections of a cluster: option value -> (result key, path, paged).
# The v4 OpenAPI spec pages VMs, storage containers and protection domains,
# and returns networks and volume groups as bare arrays. The hosts shape is
# not documented, so both shapes are accepted there.
CLUSTER_SUBRESOURCES = {
    "vms": ("vms", "vms", True),
    "networks": ("networks", "networks", False),
    "storage_containers": ("storageContainers", "storageContainers", True),
    "hosts": ("hosts", "hosts", False),
    "protection_domains": ("protectionDomains", "protectionDomains", True),
    "volume_groups": ("volumeGroups", "volumeGroups", False),
}


def list_clusters(client) -> list:
    """Return every cluster the plug-in lists, sorted by name and id."""
    clusters = client.get_list("/clusters")
    return sorted(clusters, key=lambda cluster: (cluster.get("name") or "", cluster.get("id")))


def describe_items(items: list) -> str:
    """Format named API objects, such as clusters or networks, as ``name (id)`` for messages."""
    if not items:
        return "none"
    return ", ".join(f"{item.get('name')} ({item.get('id')})" for item in items)


def candidates_for(items: list, reference: str, by_id: bool = True, by_name: bool = True) -> list:
    """Return the item whose id equals ``reference``, or else every item with that name.

    The caller decides what an empty list or several items mean.
    """
    if by_id:
        for item in items:
            if item.get("id") == reference:
                return [item]
    if not by_name:
        return []
    return [item for item in items if item.get("name") == reference]


def match_cluster(clusters: list, reference: str, by_id: bool = True, by_name: bool = True) -> dict:
    """Return the cluster whose id, or else whose name, equals ``reference``.

    Raises ``ModuleFailure`` when nothing matches or when several clusters
    share the name.
    """
    candidates = candidates_for(clusters, reference, by_id=by_id, by_name=by_name)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise ModuleFailure(
            f"{len(candidates)} clusters are named '{reference}': "
            f"{describe_items(candidates)}. Use the cluster id instead."
        )
    looked_up = " or ".join(kind for kind, used in (("name", by_name), ("id", by_id)) if used)
    raise ModuleFailure(
        f"Cluster '{reference}' was not found by {looked_up}. "
        f"Clusters known to the plug-in: {describe_items(clusters)}."
    )


def find_cluster(client, reference: str, by_id: bool = True, by_name: bool = True) -> dict:
    """Return one cluster by name or id."""
    return match_cluster(list_clusters(client), reference, by_id=by_id, by_name=by_name)


def find_clusters(client, references: list | None) -> list:
    """Return the clusters named by name or id, or all clusters when none are named.

    Each cluster appears once, in the order of ``references``.
    """
    clusters = list_clusters(client)
    if not references:
        return clusters
    chosen = []
    for reference in references:
        cluster = match_cluster(clusters, reference)
        if cluster not in chosen:
            chosen.append(cluster)
    return chosen


def list_subresource(client, cluster_id: str, option: str) -> list:
    """Return one sub-collection of a cluster, such as its VMs or networks."""
    _key, segment, paged = CLUSTER_SUBRESOURCES[option]
    path = api_path("clusters", cluster_id, segment)
    if paged:
        return client.get_all(path)
    return client.get_list(path)


def list_cluster_vms(client, cluster_id: str) -> list:
    """Return every VM the plug-in lists on one cluster."""
    return list_subresource(client, cluster_id, "vms")
