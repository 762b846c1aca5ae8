"""Python API for test suites: start the emulator as a subprocess and drive its control API.

with EmulatorProcess(tmp_path) as emulator:
    emulator.control.set_config(sessionDuration=0.5)
    requests.get(emulator.url + "/api/v7/clusters", verify=emulator.ca_path, ...)
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
STDERR_TAIL_LINES = 40


class EmulatorError(RuntimeError):
    """The emulator failed to start, or its control API returned an error."""


class EmulatorControl:
    """A small client of the control API under /_emulator.

    Every method raises EmulatorError with the response text when the status is not 2xx.
    """

    def __init__(self, control_url: str, ca_path: str | None = None, timeout: float = 60.0) -> None:
        self.control_url = control_url.rstrip("/")
        self.verify: str | bool = ca_path if ca_path else True
        self.timeout = timeout
        self.session = requests.Session()

    def _call(
        self, method: str, path: str, *, json_body: Any = None, params: dict | None = None
    ) -> Any:
        response = self.session.request(
            method,
            f"{self.control_url}{path}",
            json=json_body,
            params=params,
            verify=self.verify,
            timeout=self.timeout,
        )
        if not 200 <= response.status_code < 300:
            raise EmulatorError(
                f"{method} {path} failed with HTTP {response.status_code}: {response.text}"
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def reset(self, dataset: str | dict = "default") -> dict:
        """Load "default", "empty" or a dataset dict, and restore start-up settings."""
        return self._call("POST", "/reset", json_body={"dataset": dataset})

    def generate(self, **spec: Any) -> dict:
        return self._call("POST", "/generate", json_body=spec)

    def config(self) -> dict:
        return self._call("GET", "/config")

    def set_config(self, **settings: Any) -> dict:
        return self._call("POST", "/config", json_body=settings)

    def add_fault(self, **rule: Any) -> dict:
        """Add a fault rule and return it with its `id`."""
        return self._call("POST", "/faults", json_body=rule)

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict]:
        """Return logged /api requests. `path` is a regular expression searched in the path."""
        params = {name: value for name, value in (("method", method), ("path", path)) if value}
        return self._call("GET", "/requests", params=params)

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def counters(self) -> dict:
        return self._call("GET", "/counters")

    def expire_tokens(self) -> dict:
        return self._call("POST", "/tokens/expire")

    def add_nutanix_vm(self, cluster_id: str, **fields: Any) -> dict:
        return self._call("POST", f"/nutanix/clusters/{cluster_id}/vms", json_body=fields)

    def remove_nutanix_vm(self, cluster_id: str, vm_id: str) -> None:
        self._call("DELETE", f"/nutanix/clusters/{cluster_id}/vms/{vm_id}")

    def state(self) -> dict:
        return self._call("GET", "/state")


class EmulatorProcess:
    """Context manager that runs `python -m vbahv_emulator serve` on a free port.

    On entry it waits up to 30 s for the start-up JSON line and raises EmulatorError with the
    tail of the emulator's stderr if none comes. On exit it sends SIGTERM, then SIGKILL after
    10 s. The emulator's stderr goes to `state_dir/emulator.log`.
    """

    def __init__(
        self, state_dir: str | os.PathLike, *, http: bool = False, args: Iterable[str] = ()
    ) -> None:
        self.state_dir = Path(state_dir)
        self.http = http
        self.args = list(args)
        self.process: subprocess.Popen | None = None
        self.info: dict = {}
        self.url = ""
        self.ca_path: str | None = None
        self.control_url = ""
        self.username = ""
        self.password = ""
        self.control: EmulatorControl | None = None
        self.log_path = self.state_dir / "emulator.log"

    def __enter__(self) -> "EmulatorProcess":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "vbahv_emulator",
            "serve",
            "--port",
            "0",
            "--state-dir",
            str(self.state_dir),
        ]
        if self.http:
            command.append("--http")
        command.extend(self.args)

        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._log_file, stdin=subprocess.DEVNULL
        )

        line = self._read_first_line(START_TIMEOUT_SECONDS)
        try:
            self.info = json.loads(line)
        except ValueError:
            self.stop()
            raise EmulatorError(
                f"The emulator printed {line!r} instead of its JSON start-up line.\n"
                + self.stderr_tail()
            ) from None

        self.url = self.info["url"]
        self.ca_path = self.info["ca_path"]
        self.control_url = self.info["control_url"]
        self.username = self.info["username"]
        self.password = self.info["password"]
        self.control = EmulatorControl(self.control_url, self.ca_path)

    def _read_first_line(self, timeout: float) -> str:
        result: list[str] = []

        def read() -> None:
            result.append(self.process.stdout.readline().decode("utf-8", errors="replace"))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive() or not result or not result[0].strip():
            exit_code = self.process.poll()
            if not reader.is_alive() and exit_code is None:
                # Standard output closed, so the process is exiting. Give it time to finish.
                try:
                    exit_code = self.process.wait(STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    exit_code = None
            self.stop()
            state = "timed out" if exit_code is None else f"exited with code {exit_code}"
            raise EmulatorError(
                f"The emulator {state} before printing its start-up line "
                f"(waited up to {timeout:.0f} s).\n{self.stderr_tail()}"
            )
        return result[0]

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no emulator log)"
        return "Emulator stderr (tail):\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        self.process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self._log_file.close()
        if self.control is not None:
            self.control.session.close()

    def wait_until(self, predicate, timeout: float = 10.0, interval: float = 0.05) -> Any:
        """Poll `predicate` until it returns a truthy value, or raise EmulatorError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise EmulatorError(f"Condition not met within {timeout} s.")
            time.sleep(interval)
