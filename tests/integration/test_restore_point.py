"""restore_point (state absent) against the emulator: deletion, repeat runs, check and diff."""

from __future__ import annotations

import requests
from conftest import api_requests, module_task

DELETE_PATH = r"/api/v7/restorePoints/[^/]+/delete"


def delete(params: dict, name: str = "delete", **task_options) -> dict:
    return module_task(name, "restore_point", params, **task_options)


def some_point(direct_api, vm_name: str = "app-db-02") -> dict:
    vm = next(v for v in direct_api.get_all("/protectedVms") if v["name"] == vm_name)
    points = direct_api.get_all("/restorePoints", vmId=vm["id"])
    return min(points, key=lambda p: p["creationTimeUtc"])


def point_exists(direct_api, point_id: str) -> bool:
    try:
        direct_api.get(f"/restorePoints/{point_id}")
    except requests.HTTPError as error:
        assert error.response.status_code == 404
        return False
    return True


def test_delete_twice_is_ok_second_time(run_playbook, connection, direct_api, emulator):
    point = some_point(direct_api)
    task = dict(connection, id=point["id"])

    run = run_playbook([delete(task, "first"), delete(task, "second")])

    assert run.returncode == 0, run.stdout
    first = run.result("first")
    assert first["changed"] is True
    assert first["restore_point"] == point
    second = run.result("second")
    assert second["changed"] is False
    assert second["restore_point"] is None
    deletes = api_requests(emulator, "DELETE", DELETE_PATH)
    assert len(deletes) == 1
    assert deletes[0]["path"] == f"/api/v7/restorePoints/{point['id']}/delete"
    assert deletes[0]["query"] == {"deleteFromServer": ["false"]}
    assert point_exists(direct_api, point["id"]) is False


def test_delete_from_server_flag(run_playbook, connection, direct_api, emulator):
    point = some_point(direct_api)

    run = run_playbook([delete(dict(connection, id=point["id"], delete_from_server=True))])

    assert run.returncode == 0, run.stdout
    deletes = api_requests(emulator, "DELETE", DELETE_PATH)
    assert [entry["query"] for entry in deletes] == [{"deleteFromServer": ["true"]}]


def test_check_mode_sends_no_delete(run_playbook, connection, direct_api, emulator):
    point = some_point(direct_api)
    missing = "00000000-0000-4000-8000-000000000000"

    run = run_playbook(
        [
            delete(dict(connection, id=point["id"]), "present"),
            delete(dict(connection, id=missing), "missing"),
        ],
        check=True,
    )

    assert run.returncode == 0, run.stdout
    assert run.result("present")["changed"] is True
    assert run.result("missing")["changed"] is False
    assert api_requests(emulator, "DELETE") == []
    assert point_exists(direct_api, point["id"]) is True


def test_diff_shows_point_removed(run_playbook, connection, direct_api):
    point = some_point(direct_api)

    run = run_playbook([delete(dict(connection, id=point["id"]))], diff=True)

    assert run.returncode == 0, run.stdout
    diff = run.result("delete")["diff"]
    assert diff["before"] == {
        "id": point["id"],
        "state": "present",
        "type": point["type"],
        "creationTimeUtc": point["creationTimeUtc"],
        "jobName": point["jobName"],
    }
    assert diff["after"] == {"id": point["id"], "state": "absent"}


def test_deleted_point_leaves_listing(run_playbook, connection, direct_api):
    point = some_point(direct_api)
    listing = module_task(
        "list", "restore_point_info", dict(connection, vm_name="app-db-02"), register="listed"
    )

    run = run_playbook([delete(dict(connection, id=point["id"])), listing])

    assert run.returncode == 0, run.stdout
    listed = [p["id"] for p in run.result("list")["restore_points"]]
    assert point["id"] not in listed
    assert listed
