"""Cluster lookup by name or id."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure
from ansible_collections.veeam_ahv.backup.plugins.module_utils.resources import match_cluster

CLUSTERS = [
    {"id": "c-1", "name": "PROD"},
    {"id": "c-2", "name": "DR"},
    {"id": "c-3", "name": "DR"},
    {"id": "PROD-2", "name": "c-1"},
]


def test_id_wins_over_name():
    assert match_cluster(CLUSTERS, "c-1")["id"] == "c-1"


def test_unique_name():
    assert match_cluster(CLUSTERS, "PROD")["id"] == "c-1"


def test_name_only_lookup_skips_ids():
    assert match_cluster(CLUSTERS, "c-1", by_id=False)["id"] == "PROD-2"


def test_shared_name_asks_for_id():
    with pytest.raises(ModuleFailure) as caught:
        match_cluster(CLUSTERS, "DR")

    assert str(caught.value) == (
        "2 clusters are named 'DR': DR (c-2), DR (c-3). Use the cluster id instead."
    )


def test_unknown_lists_known():
    with pytest.raises(ModuleFailure) as caught:
        match_cluster(CLUSTERS[:2], "QA")

    assert str(caught.value) == (
        "Cluster 'QA' was not found by name or id. "
        "Clusters known to the plug-in: PROD (c-1), DR (c-2)."
    )


def test_unknown_id_only():
    with pytest.raises(ModuleFailure) as caught:
        match_cluster([], "x", by_name=False)

    assert str(caught.value) == (
        "Cluster 'x' was not found by id. Clusters known to the plug-in: none."
    )
