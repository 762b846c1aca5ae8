"""Connection options end to end: credentials, env vars, TLS, faults, token expiry, secrets."""

from __future__ import annotations

from conftest import api_requests, module_task

TOKEN_PATH = r"/api/oauth2/token"


def clusters_task(params: dict, **task_options) -> dict:
    return module_task("clusters", "cluster_info", params, register="clusters", **task_options)


def token_grants(emulator) -> list:
    return [entry["body"]["grantType"] for entry in api_requests(emulator, "POST", TOKEN_PATH)]


def test_login_logout_once_per_task(run_playbook, connection, emulator):
    run = run_playbook([clusters_task(connection)])

    assert run.returncode == 0, run.stdout
    paths = [(entry["method"], entry["path"]) for entry in api_requests(emulator)]
    assert paths == [
        ("POST", "/api/oauth2/token"),
        ("GET", "/api/v7/clusters"),
        ("POST", "/api/oauth2/logout"),
    ]


def test_wrong_password(run_playbook, connection, emulator):
    params = dict(connection, password="Not-The-Password-42")

    run = run_playbook([clusters_task(params, ignore_errors=True)], verbosity=4)

    result = run.result("clusters")
    assert run.status("clusters") == "failed"
    assert "HTTP 401" in result["msg"]
    assert f"The server rejected the login of user '{connection['username']}'" in result["msg"]
    assert "check username and password" in result["msg"]
    assert result["status_code"] == 401
    assert "Not-The-Password-42" not in run.stdout + run.stderr
    assert "Traceback" not in run.stdout
    assert len(api_requests(emulator, "POST", TOKEN_PATH)) == 1


def test_environment_variables_only(run_playbook, connection_env, emulator):
    run = run_playbook([clusters_task({})], env=connection_env)

    assert run.returncode == 0, run.stdout
    assert len(run.result("clusters")["clusters"]) > 0


def test_module_defaults_group(run_playbook, connection):
    play_tasks = [
        {
            "name": "with defaults",
            "module_defaults": {"group/veeam_ahv.backup.veeam_ahv": connection},
            "block": [clusters_task({}), module_task("rescan", "vm_rescan", {}, check_mode=True)],
        }
    ]

    run = run_playbook(play_tasks)

    assert run.returncode == 0, run.stdout
    assert run.status("clusters") == "ok"
    assert run.status("rescan") == "ok"


def test_missing_credentials_message(run_playbook, emulator):
    run = run_playbook([clusters_task({"url": emulator.url}, ignore_errors=True)])

    message = run.result("clusters")["msg"]
    assert message.startswith("No credentials: set username and password")
    assert "VEEAM_AHV_PASSWORD" in message
    assert api_requests(emulator) == []


def test_url_with_path_message(run_playbook, connection, emulator):
    params = dict(connection, url=connection["url"] + "/api/v7")

    run = run_playbook([clusters_task(params, ignore_errors=True)])

    message = run.result("clusters")["msg"]
    assert "contains the path '/api/v7'" in message
    assert api_requests(emulator) == []


def test_untrusted_certificate_message(run_playbook, connection):
    params = {key: value for key, value in connection.items() if key != "ca_path"}

    run = run_playbook([clusters_task(params, ignore_errors=True)])

    message = run.result("clusters")["msg"]
    assert "TLS certificate verification failed" in message
    assert "Set ca_path" in message


def test_ca_path_wins_over_requests_ca_bundle(run_playbook, connection):
    env = {
        "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
        "CURL_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
    }

    run = run_playbook([clusters_task(connection)], env=env)

    assert run.returncode == 0, run.stdout


def test_ca_path_from_environment(run_playbook, connection, connection_env):
    env = dict(connection_env, REQUESTS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt")

    run = run_playbook([clusters_task({})], env=env)

    assert run.returncode == 0, run.stdout


def test_validate_certs_false(run_playbook, connection):
    params = {key: value for key, value in connection.items() if key != "ca_path"}
    params["validate_certs"] = False

    run = run_playbook([clusters_task(params)])

    assert run.returncode == 0, run.stdout


def test_missing_ca_path_message(run_playbook, connection, tmp_path):
    params = dict(connection, ca_path=str(tmp_path / "missing.pem"))

    run = run_playbook([clusters_task(params, ignore_errors=True)])

    assert "missing.pem' does not exist" in run.result("clusters")["msg"]


def test_refused_connection_message(run_playbook, connection):
    params = dict(connection, url="https://127.0.0.1:9", timeout=5)

    run = run_playbook([clusters_task(params, ignore_errors=True)])

    message = run.result("clusters")["msg"]
    assert "connection refused" in message
    assert "reachable from this host" in message


def test_retries_429_and_503(run_playbook, connection, emulator):
    emulator.control.add_fault(method="GET", path="/api/v7/clusters", status=429, retryAfter=1)
    emulator.control.add_fault(method="GET", path="/api/v7/clusters", status=503)

    run = run_playbook([clusters_task(connection)])

    assert run.returncode == 0, run.stdout
    statuses = [entry["status"] for entry in api_requests(emulator, "GET", "/api/v7/clusters")]
    assert statuses == [429, 503, 200]
    warnings = run.result("clusters").get("warnings", [])
    assert any("2 request(s) were retried" in warning for warning in warnings)


def test_html_error_page_message(run_playbook, connection, emulator):
    emulator.control.add_fault(path="/api/v7/clusters", status=502, body="html", count=-1)

    run = run_playbook([clusters_task(connection, ignore_errors=True)])

    message = run.result("clusters")["msg"]
    assert "HTTP 502" in message
    assert "not to a proxy or login page" in message
    assert "<html" not in message.lower()


def test_dropped_connection_retried_for_get(run_playbook, connection, emulator):
    emulator.control.add_fault(method="GET", path="/api/v7/clusters", drop=True)

    run = run_playbook([clusters_task(connection)])

    assert run.returncode == 0, run.stdout
    assert len(api_requests(emulator, "GET", "/api/v7/clusters")) == 2


def test_token_expired_mid_task_is_refreshed(run_playbook, connection, direct_api, emulator):
    cluster = direct_api.get("/clusters")[0]
    emulator.control.set_config(accessTokenLifetime=2, sessionDuration=6)
    emulator.control.clear_requests()
    rescan = module_task(
        "rescan",
        "vm_rescan",
        dict(connection, clusters=[cluster["id"]], poll_interval=1),
        register="rescan",
    )

    run = run_playbook([rescan])

    assert run.returncode == 0, run.stdout
    grants = token_grants(emulator)
    assert grants[0] == "Password"
    assert "RefreshToken" in grants
    rejected = [entry for entry in api_requests(emulator) if entry["status"] == 401]
    assert rejected == []


def test_revoked_token_renewed_once_for_post(run_playbook, connection, direct_api, emulator):
    cluster = direct_api.get("/clusters")[0]
    refresh_path = f"/api/v7/clusters/{cluster['id']}/vms/refreshAsync"
    emulator.control.add_fault(method="POST", path=refresh_path, expireToken=True)
    emulator.control.clear_requests()
    rescan = module_task(
        "rescan", "vm_rescan", dict(connection, clusters=[cluster["id"]]), register="rescan"
    )

    run = run_playbook([rescan])

    assert run.returncode == 0, run.stdout
    statuses = [entry["status"] for entry in api_requests(emulator, "POST", refresh_path)]
    assert statuses == [401, 202]
    started = [
        s
        for s in emulator.control.state()["sessions"]
        if s["id"] in run.result("rescan")["session_ids"]
    ]
    assert len(started) == 1


def test_secrets_never_in_output(run_playbook, connection, emulator, tmp_path):
    token_file = tmp_path / "token.txt"
    tasks = [
        module_task("login", "token", connection, register="login", no_log=True),
        {
            "name": "keep token for the test",
            "ansible.builtin.copy": {
                "content": "{{ login.access_token }}",
                "dest": str(token_file),
            },
            "no_log": True,
        },
        clusters_task(
            {
                "url": connection["url"],
                "ca_path": connection["ca_path"],
                "access_token": "{{ login.access_token }}",
                "username": connection["username"],
                "password": connection["password"],
            }
        ),
        module_task("rescan", "vm_rescan", dict(connection, wait=False)),
        module_task(
            "logout",
            "token",
            {
                "url": connection["url"],
                "ca_path": connection["ca_path"],
                "access_token": "{{ login.access_token }}",
                "state": "absent",
            },
            no_log=True,
        ),
    ]

    run = run_playbook(tasks, verbosity=4)

    assert run.returncode == 0, run.stdout
    token = token_file.read_text()
    assert len(token) > 20
    output = run.stdout + run.stderr
    assert connection["password"] not in output
    assert token not in output
    assert "Bearer " not in output
    for entry in api_requests(emulator, "POST", TOKEN_PATH):
        assert connection["password"] not in str(entry["body"])


def test_http_url_rejected(run_playbook, connection, emulator):
    params = dict(connection, url=connection["url"].replace("https://", "http://"))

    run = run_playbook([clusters_task(params, ignore_errors=True)])

    assert "served over HTTPS only" in run.result("clusters")["msg"]
    assert api_requests(emulator) == []


def test_non_finite_timeout_rejected(run_playbook, connection, emulator):
    run = run_playbook([clusters_task(dict(connection, timeout="nan"), ignore_errors=True)])

    message = run.result("clusters")["msg"]
    assert message.startswith("timeout must be a number of seconds greater than 0")
    assert "Traceback" not in run.stdout + run.stderr
    assert api_requests(emulator) == []


def test_wait_interrupted_keeps_session_id(run_playbook, connection, emulator):
    emulator.control.set_config(sessionDuration=30)
    emulator.control.add_fault(method="GET", path=r"/api/v7/sessions/[^/]+", status=500, count=-1)
    task = module_task(
        "restore",
        "vm_restore",
        dict(connection, vm_name="app-db-01", target_name="app-db-01-interrupted"),
        register="restore",
        ignore_errors=True,
    )

    run = run_playbook([task])

    result = run.result("restore")
    assert run.status("restore") == "failed"
    session_id = result["session_id"]
    assert session_id
    assert (
        f"The restore session {session_id} was started and may still be running" in (result["msg"])
    )
    assert len(api_requests(emulator, "POST", r"/api/v7/restorePoints/restore")) == 1
