"""Fixtures for the inventory plugin tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig


def collections_path() -> str:
    """Return the folder that contains ``ansible_collections`` for this copy of the collection."""
    for parent in Path(__file__).resolve().parents:
        if parent.name == "ansible_collections":
            return str(parent.parent)
    raise RuntimeError("The tests must run from a copy under .../ansible_collections/veeam_ahv.")


# The collection loader must be in place before anything under ansible_collections is
# imported, or the plugin loader cannot read the collection's metadata. ansible-test
# units installs it itself, and plain pytest needs this call.
if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([collections_path()])

from ansible_collections.veeam_ahv.backup.tests.unit.plugins.inventory.inventory_fixtures import (
    PluginRun,
)


@pytest.fixture
def run_plugin(tmp_path, monkeypatch):
    return PluginRun(tmp_path, monkeypatch)
