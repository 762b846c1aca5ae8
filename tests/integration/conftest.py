"""Integration test harness: one emulator per test session, playbooks run by ansible-playbook.

Each test gets the emulator reset to its default dataset, with no faults and an
empty request log, and runs real playbooks against it over HTTPS with the
emulator's CA. Results come back through the ``task_results`` callback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from vbahv_emulator.testing import EmulatorProcess

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_COLLECTIONS_PATH = REPO / ".build"

# Sessions in the emulator finish after this many seconds unless a test sets
# another duration, which keeps waits short without skipping the Running state.
SESSION_DURATION = "1.5"


class PlaybookRun:
    """Outcome of one ansible-playbook run: exit code, output and task results."""

    def __init__(self, returncode: int, stdout: str, stderr: str, results: list):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.results = results

    def result(self, task: str) -> dict:
        """Return the result of the only run of the task named ``task``."""
        matches = [record for record in self.results if record["task"] == task]
        assert matches, f"task {task!r} did not run; tasks run: {[r['task'] for r in self.results]}"
        assert len(matches) == 1, f"task {task!r} ran {len(matches)} times"
        return matches[0]["result"]

    def status(self, task: str) -> str:
        """Return ok, failed or skipped for the task named ``task``."""
        matches = [record for record in self.results if record["task"] == task]
        assert len(matches) == 1, f"task {task!r} ran {len(matches)} times"
        return matches[0]["status"]


@pytest.fixture(scope="session")
def emulator_process(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("emulator")
    with EmulatorProcess(state_dir, args=["--session-duration", SESSION_DURATION]) as process:
        yield process


@pytest.fixture
def emulator(emulator_process):
    """The emulator, reset to the default dataset with no faults and an empty log."""
    emulator_process.control.reset("default")
    yield emulator_process


@pytest.fixture
def connection(emulator) -> dict:
    """Connection options for the emulator, as module parameters."""
    return {
        "url": emulator.url,
        "username": emulator.username,
        "password": emulator.password,
        "ca_path": emulator.ca_path,
    }


@pytest.fixture
def connection_env(emulator) -> dict:
    """The same connection options as VEEAM_AHV_* environment variables."""
    return {
        "VEEAM_AHV_URL": emulator.url,
        "VEEAM_AHV_USERNAME": emulator.username,
        "VEEAM_AHV_PASSWORD": emulator.password,
        "VEEAM_AHV_CA_PATH": emulator.ca_path,
    }


def ansible_environment(tmp_path: Path, extra: dict | None = None) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VEEAM_AHV_", "ANSIBLE_"))
    }
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.environ.get(
            "ANSIBLE_COLLECTIONS_PATH", str(DEFAULT_COLLECTIONS_PATH)
        ),
        ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="task_results",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        TASK_RESULTS_FILE=str(tmp_path / "task-results.jsonl"),
    )
    env.update(extra or {})
    return env


def read_results(path: Path) -> list:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
def run_playbook(tmp_path):
    """Run a playbook file, or a list of tasks on localhost, and return a PlaybookRun."""
    counter = {"runs": 0}

    def runner(
        tasks=None,
        playbook: Path | None = None,
        extra_vars: dict | None = None,
        check: bool = False,
        diff: bool = False,
        env: dict | None = None,
        verbosity: int = 0,
        inventory: str = "localhost,",
        timeout: float = 300,
    ) -> PlaybookRun:
        counter["runs"] += 1
        run_dir = tmp_path / f"run-{counter['runs']}"
        run_dir.mkdir()

        if playbook is None:
            playbook = run_dir / "playbook.yml"
            play = {
                "name": "integration test",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "tasks": tasks,
            }
            playbook.write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")

        command = [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            inventory,
            str(playbook),
        ]
        if extra_vars:
            vars_file = run_dir / "extra-vars.json"
            vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
            command += ["-e", f"@{vars_file}"]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)

        process_env = ansible_environment(run_dir, env)
        completed = subprocess.run(
            command,
            env=process_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=run_dir,
            check=False,
        )

        results = read_results(Path(process_env["TASK_RESULTS_FILE"]))
        return PlaybookRun(completed.returncode, completed.stdout, completed.stderr, results)

    return runner


def module_task(name: str, module: str, params: dict, **task_options) -> dict:
    """Build a task that calls a module of this collection and registers nothing."""
    task = {"name": name, f"veeam_ahv.backup.{module}": params}
    task.update(task_options)
    return task


def api_requests(emulator, method: str | None = None, path: str | None = None) -> list:
    """Return the emulator's log of /api requests, filtered by method and path regex."""
    entries = emulator.control.requests()
    return [
        entry
        for entry in entries
        if (method is None or entry["method"] == method)
        and (path is None or re.fullmatch(path, entry["path"]))
    ]


class DirectApi:
    """A plain requests session against the emulator, independent of the collection's client.

    Tests use it to read the truth they compare module results with.
    """

    def __init__(self, emulator):
        self.emulator = emulator
        self.session = requests.Session()
        self.session.verify = emulator.ca_path or True
        response = self.session.post(
            emulator.url + "/api/oauth2/token",
            data={
                "grantType": "Password",
                "userName": emulator.username,
                "password": emulator.password,
            },
            verify=self.session.verify,
            timeout=30,
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = "Bearer " + response.json()["accessToken"]

    def get(self, path: str, **params):
        response = self.session.get(
            self.emulator.url + "/api/v7" + path,
            params=params,
            verify=self.session.verify,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def get_all(self, path: str, **params) -> list:
        items = []
        while True:
            body = self.get(path, offset=len(items), limit=100, **params)
            if isinstance(body, list):
                return body
            items.extend(body["results"])
            if len(items) >= body["totalCount"] or not body["results"]:
                return items


@pytest.fixture
def direct_api(emulator):
    """A DirectApi logged in to the emulator; its requests are cleared from the log."""
    api = DirectApi(emulator)
    emulator.control.clear_requests()
    return api
