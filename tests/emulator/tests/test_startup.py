"""Start-up line, state directory files, TLS, plain HTTP, signals and start-up failures."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from vbahv_emulator.testing import EmulatorError, EmulatorProcess


def test_start_up_info(emulator):
    info = emulator.info
    assert set(info) == {"url", "ca_path", "control_url", "username", "password"}
    assert info["url"].startswith("https://127.0.0.1:")
    assert info["control_url"] == info["url"] + "/_emulator"
    assert info["username"] == "administrator"
    assert info["password"] == "Emulator-Passw0rd"
    assert Path(info["ca_path"]).name == "ca.pem"
    state_dir = Path(info["ca_path"]).parent
    assert json.loads((state_dir / "emulator.json").read_text()) == info


def test_certificate_needs_the_ca(emulator):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emulator.url + "/api/v7/clusters", timeout=5)
    response = requests.get(emulator.url + "/api/v7/clusters", verify=emulator.ca_path, timeout=5)
    assert response.status_code == 401


def test_localhost_name_is_in_certificate(emulator):
    url = emulator.url.replace("127.0.0.1", "localhost")
    response = requests.get(url + "/api/v7/clusters", verify=emulator.ca_path, timeout=5)
    assert response.status_code == 401


def test_plain_http_and_options(tmp_path):
    args = ["--username", "ops", "--password", "Other-Passw0rd", "--max-page-size", "7"]
    with EmulatorProcess(tmp_path, http=True, args=args) as process:
        assert process.url.startswith("http://127.0.0.1:")
        assert process.ca_path is None
        assert process.username == "ops"
        form = {"grantType": "Password", "userName": "ops", "password": "Other-Passw0rd"}
        token = requests.post(process.url + "/api/oauth2/token", data=form, timeout=5).json()[
            "accessToken"
        ]
        page = requests.get(
            process.url + "/api/v7/virtualMachines",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        assert page["limit"] == 7
        assert process.control.config()["maxPageSize"] == 7


def test_token_lifetime_options(tmp_path):
    args = [
        "--access-token-lifetime",
        "60",
        "--refresh-token-lifetime",
        "120",
        "--session-duration",
        "9",
    ]
    with EmulatorProcess(tmp_path, http=True, args=args) as process:
        config = process.control.config()
    assert config["accessTokenLifetime"] == 60
    assert config["refreshTokenLifetime"] == 120
    assert config["sessionDuration"] == 9


def test_sigterm_stops_cleanly(tmp_path):
    command = [
        sys.executable,
        "-m",
        "vbahv_emulator",
        "serve",
        "--http",
        "--state-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = process.stdout.readline()
        info = json.loads(line)
        assert requests.get(info["control_url"] + "/config", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert b"emulator stopped" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_bad_dataset_file_fails_with_stderr(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(EmulatorError) as failure:
        EmulatorProcess(tmp_path / "state", args=["--dataset", str(missing)]).start()
    message = str(failure.value)
    assert "cannot read dataset file" in message
    assert "exited with code" in message


def test_invalid_dataset_content_fails(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"clusters": [{"name": "no id"}]}))
    with pytest.raises(EmulatorError, match="invalid dataset"):
        EmulatorProcess(tmp_path / "state", args=["--dataset", str(path)]).start()


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "vbahv-emulator"
    assert script.exists()
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0
    assert "vbahv-emulator" in result.stdout
    assert os.access(script, os.X_OK)
