"""Fixtures for the inventory plugin tests."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_ahv.backup.tests.unit.plugins.inventory.inventory_fixtures import (
    PluginRun,
)


@pytest.fixture
def run_plugin(tmp_path, monkeypatch):
    return PluginRun(tmp_path, monkeypatch)
