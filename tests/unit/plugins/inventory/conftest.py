"""Fixtures for the inventory plugin tests."""

from __future__ import annotations

import pytest
from inventory_fixtures import PluginRun


@pytest.fixture
def run_plugin(tmp_path, monkeypatch):
    return PluginRun(tmp_path, monkeypatch)
