"""The token module: log in once, share the token, log it out."""

from __future__ import annotations

from conftest import api_requests, module_task

TOKEN_PATH = r"/api/oauth2/token"
LOGOUT_PATH = r"/api/oauth2/logout"


def login_task(connection: dict, **task_options) -> dict:
    task_options.setdefault("no_log", True)
    return module_task("login", "token", connection, register="login", **task_options)


def token_only(connection: dict) -> dict:
    return {
        "url": connection["url"],
        "ca_path": connection["ca_path"],
        "access_token": "{{ login.access_token }}",
    }


def test_requires_no_log(run_playbook, connection, emulator):
    run = run_playbook([login_task(connection, no_log=False, ignore_errors=True)])

    result = run.result("login")
    assert run.status("login") == "failed"
    assert "the task must set no_log: true" in result["msg"]
    assert "access_token" not in result
    assert api_requests(emulator) == []


def test_shared_token_used_by_later_tasks(run_playbook, connection, emulator):
    tasks = [
        login_task(connection),
        {
            "name": "with the shared token",
            "module_defaults": {"group/veeam_ahv.backup.veeam_ahv": token_only(connection)},
            "block": [
                module_task("first", "cluster_info", {}),
                module_task("second", "cluster_info", {"include": ["networks"]}),
                module_task("third", "vm_rescan", {}, check_mode=True),
            ],
        },
    ]

    run = run_playbook(tasks)

    assert run.returncode == 0, run.stdout
    assert run.status("login") == "ok"
    logins = api_requests(emulator, "POST", TOKEN_PATH)
    assert len(logins) == 1
    assert api_requests(emulator, "POST", LOGOUT_PATH) == []
    unauthenticated = [
        e for e in api_requests(emulator, path=r"/api/v7/.*") if not e["authenticated"]
    ]
    assert unauthenticated == []


def test_logout_revokes_token(run_playbook, connection, emulator):
    tasks = [
        login_task(connection),
        module_task("logout", "token", dict(token_only(connection), state="absent"), no_log=True),
        module_task(
            "logout again", "token", dict(token_only(connection), state="absent"), no_log=True
        ),
        module_task(
            "after logout",
            "cluster_info",
            token_only(connection),
            ignore_errors=True,
        ),
    ]

    run = run_playbook(tasks)

    assert run.status("logout") == "ok"
    assert run.status("logout again") == "ok"
    after = run.result("after logout")
    assert run.status("after logout") == "failed"
    assert "HTTP 401" in after["msg"]
    assert "pass username and password" in after["msg"]
    assert len(api_requests(emulator, "POST", TOKEN_PATH)) == 1


def test_expired_shared_token_relogin_with_password(run_playbook, connection, emulator):
    tasks = [
        login_task(connection),
        {
            "name": "expire tokens",
            "ansible.builtin.uri": {
                "url": emulator.control_url + "/tokens/expire",
                "method": "POST",
                "ca_path": emulator.ca_path,
                "status_code": [200, 204],
            },
        },
        module_task(
            "with password fallback",
            "cluster_info",
            dict(
                token_only(connection),
                username=connection["username"],
                password=connection["password"],
            ),
        ),
        module_task("token only", "cluster_info", token_only(connection), ignore_errors=True),
    ]

    run = run_playbook(tasks)

    assert run.status("with password fallback") == "ok"
    assert run.status("token only") == "failed"
    assert "The access token was rejected or has expired" in run.result("token only")["msg"]
    grants = [e["body"]["grantType"] for e in api_requests(emulator, "POST", TOKEN_PATH)]
    assert grants == ["Password", "Password"]


def test_check_mode_logs_in(run_playbook, connection):
    tasks = [
        login_task(connection),
        module_task("use it", "cluster_info", token_only(connection)),
    ]

    run = run_playbook(tasks, check=True)

    assert run.returncode == 0, run.stdout
    assert run.status("use it") == "ok"
