"""The built collection artifact: contents and metadata."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", REPO / ".build"))
COLLECTION = COLLECTIONS_PATH / "ansible_collections" / "veeam_ahv" / "backup"


@pytest.fixture(scope="module")
def artifact_members(tmp_path_factory) -> list:
    output = tmp_path_factory.mktemp("artifact")
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    subprocess.run(
        [str(galaxy), "collection", "build", "--output-path", str(output), str(COLLECTION)],
        check=True,
        capture_output=True,
        text=True,
    )
    archives = list(output.glob("veeam_ahv-backup-*.tar.gz"))
    assert len(archives) == 1
    with tarfile.open(archives[0]) as archive:
        return archive.getnames()


@pytest.mark.parametrize(
    "excluded",
    [
        "tests",
        ".ci",
        "bench",
        ".venv",
        ".build",
        ".git",
        "Makefile",
        "pyproject.toml",
        "execution-environment",
    ],
)
def test_artifact_leaves_out(artifact_members, excluded):
    leaked = [name for name in artifact_members if name.split("/")[0] == excluded]
    assert leaked == []


def test_artifact_has_no_caches(artifact_members):
    caches = [
        name
        for name in artifact_members
        if "__pycache__" in name or name.endswith(".pyc") or ".pytest_cache" in name
    ]
    assert caches == []


@pytest.mark.parametrize(
    "expected",
    [
        "MANIFEST.json",
        "FILES.json",
        "README.md",
        "COPYING",
        "requirements.txt",
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "plugins/module_utils/client.py",
        "plugins/doc_fragments/connection.py",
        "plugins/modules/cluster_info.py",
        "plugins/modules/vm_rescan.py",
        "plugins/modules/token.py",
    ],
)
def test_artifact_contains(artifact_members, expected):
    assert expected in artifact_members


def test_every_module_in_action_group():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    modules = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))

    assert sorted(runtime["action_groups"]["veeam_ahv"]) == modules
    assert runtime["requires_ansible"] == ">=2.16.0"


def test_version_matches_galaxy():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    version_file = (REPO / "plugins" / "module_utils" / "version.py").read_text()

    assert f'COLLECTION_VERSION = "{galaxy["version"]}"' in version_file


MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_complete(module):
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH))
    completed = subprocess.run(
        [str(ansible_doc), "-j", f"veeam_ahv.backup.{module}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    entry = json.loads(completed.stdout)[f"veeam_ahv.backup.{module}"]

    doc = entry["doc"]
    assert doc["short_description"]
    assert doc["description"]
    for name in ("url", "username", "password", "access_token", "ca_path", "validate_certs"):
        assert name in doc["options"], f"{module} lacks the connection option {name}"
    for name, option in doc["options"].items():
        assert option.get("description"), f"{module} option {name} has no description"
    assert f"veeam_ahv.backup.{module}" in entry["examples"]
    assert entry["return"], f"{module} documents no return values"


def test_execution_environment_definition(tmp_path):
    """ansible-builder accepts the EE definition and puts the collection in the context."""
    for name in ("execution-environment.yml", "requirements.yml"):
        shutil.copy(REPO / "execution-environment" / name, tmp_path / name)
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    subprocess.run(
        [str(galaxy), "collection", "build", "--output-path", str(tmp_path), str(COLLECTION)],
        check=True,
        capture_output=True,
    )
    builder = Path(sys.executable).with_name("ansible-builder")

    subprocess.run(
        [str(builder), "create", "-f", "execution-environment.yml", "--context", "context"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    context = tmp_path / "context"
    build_file = next(context.glob("*file"))
    assert (context / "_build" / "collections" / "veeam_ahv-backup-0.1.0.tar.gz").exists()
    assert "ansible-galaxy collection install" in build_file.read_text()
    requirements = (context / "_build" / "requirements.yml").read_text()
    assert "/build/collections/veeam_ahv-backup-0.1.0.tar.gz" in requirements
