"""The vm_restore role and the playbooks shipped in playbooks/, run against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, api_requests

RESTORE_PATH = r"/api/v7/restorePoints/restore"
HERE = Path(__file__).resolve().parent


def role_results(run, task: str) -> list:
    """Return the results of a role task, whatever role prefix the callback adds."""
    return [r for r in run.results if r["task"].endswith(task)]


def runbook_vars(connection: dict, **extra) -> dict:
    variables = {
        "veeam_ahv_url": connection["url"],
        "veeam_ahv_username": connection["username"],
        "veeam_ahv_password": connection["password"],
        "veeam_ahv_ca_path": connection["ca_path"],
        "vm_restore_poll_interval": 1,
    }
    variables.update(extra)
    return variables


def playbook(name: str) -> Path:
    return REPO / "playbooks" / f"{name}.yml"


def restore_bodies(emulator) -> list:
    return [entry["body"] for entry in api_requests(emulator, "POST", RESTORE_PATH)]


def summary_of(run) -> list:
    builds = role_results(run, "Build the summary")
    assert builds, "the summary was not built"
    return builds[-1]["result"]["results"][-1]["ansible_facts"]["vm_restore_summary"]


TWO_VMS = [
    {"name": "app-db-01", "target_name": "app-db-01-copy", "power_on": True},
    {"name": "dc-01", "restore_to_original": True},
]


def test_runbook_restores_and_is_idempotent(run_playbook, connection, emulator, direct_api):
    variables = runbook_vars(connection, vm_restore_vms=TWO_VMS)

    first = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)
    second = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)

    assert first.returncode == 0, first.stdout
    assert second.returncode == 0, second.stdout
    assert len(restore_bodies(emulator)) == 2
    outcomes = {entry["vm"]: entry["outcome"] for entry in summary_of(first)}
    assert outcomes == {"app-db-01": "restored", "dc-01": "restored"}
    again = {entry["vm"]: entry["outcome"] for entry in summary_of(second)}
    assert again["app-db-01"].startswith("already restored")
    assert again["dc-01"].startswith("already restored")
    assert "app-db-01: Finished 100%" in first.stdout
    assert "changed=0" in second.stdout
    prod = next(c for c in direct_api.get("/clusters") if c["name"] == "PROD-AHV-01")
    names = [vm["name"] for vm in direct_api.get_all(f"/clusters/{prod['id']}/vms")]
    assert names.count("app-db-01-copy") == 1


def test_runbook_check_mode_sends_no_post(run_playbook, connection, emulator):
    variables = runbook_vars(connection, vm_restore_vms=TWO_VMS[:1])

    run = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables, check=True)

    assert run.returncode == 0, run.stdout
    assert restore_bodies(emulator) == []
    assert [entry["outcome"] for entry in summary_of(run)] == ["would restore"]


def test_runbook_failed_session_fails_play(run_playbook, connection, emulator):
    emulator.control.set_config(
        sessionOutcomes={"RestoreVm": {"result": "Error", "message": "Datastore is full"}}
    )
    variables = runbook_vars(connection, vm_restore_vms=TWO_VMS[:1])

    run = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)

    assert run.returncode != 0
    checks = role_results(run, "Check that every restore session succeeded")
    assert len(checks) == 1
    assert checks[0]["status"] == "failed"
    message = json.dumps(checks[0]["result"])
    assert "The restore of app-db-01 did not succeed" in message
    assert "result Error" in message
    assert "Datastore is full" in message


def test_runbook_wait_timeout_fails_play(run_playbook, connection, emulator):
    emulator.control.set_config(sessionDuration=120)
    variables = runbook_vars(connection, vm_restore_vms=TWO_VMS[:1], vm_restore_wait_timeout=3)

    run = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)

    assert run.returncode != 0
    message = json.dumps(role_results(run, "Check that every restore session succeeded")[0])
    assert "after the 3 s wait timeout" in message
    assert "is Running" in message or "is Starting" in message


def test_restore_drill_restores_isolated_and_cleans_up(
    run_playbook, connection, emulator, direct_api
):
    variables = runbook_vars(
        connection,
        drill_vms=["app-db-01"],
        drill_suffix="-drill",
        drill_cleanup_tasks=str(HERE / "playbooks" / "drill_cleanup_emulator.yml"),
        emulator_control_url=emulator.control_url,
        emulator_ca_path=emulator.ca_path,
    )

    run = run_playbook(playbook=playbook("restore_drill"), extra_vars=variables)

    assert run.returncode == 0, run.stdout
    bodies = restore_bodies(emulator)
    assert len(bodies) == 1
    assert bodies[0]["targetVmName"] == "app-db-01-drill"
    assert bodies[0]["powerOnVmAfterRestore"] is True
    adapters = bodies[0]["networkAdapters"]
    assert len(adapters) >= 1
    assert {adapter["value"]["networkName"] for adapter in adapters} == {"Isolated-Restore"}
    prod = next(c for c in direct_api.get("/clusters") if c["name"] == "PROD-AHV-01")
    names = [vm["name"] for vm in direct_api.get_all(f"/clusters/{prod['id']}/vms")]
    assert "app-db-01-drill" not in names
    rescans = api_requests(emulator, "POST", r"/api/v7/clusters/[^/]+/vms/refreshAsync")
    assert [entry["path"] for entry in rescans] == [
        f"/api/v7/clusters/{prod['id']}/vms/refreshAsync"
    ]


def test_restore_drill_needs_vms(run_playbook, connection):
    run = run_playbook(playbook=playbook("restore_drill"), extra_vars=runbook_vars(connection))

    assert run.returncode != 0
    assert "drill_vms is empty" in json.dumps(run.results)


def test_rescan_report_writes_json(run_playbook, connection, emulator, direct_api, tmp_path):
    prod = next(c for c in direct_api.get("/clusters") if c["name"] == "PROD-AHV-01")
    emulator.control.add_nutanix_vm(prod["id"], name="reported-vm")
    report = tmp_path / "report.json"
    variables = runbook_vars(connection, rescan_report_path=str(report))

    run = run_playbook(playbook=playbook("rescan_report"), extra_vars=variables)

    assert run.returncode == 0, run.stdout
    content = json.loads(report.read_text())
    assert [vm["name"] for vm in content["appeared"]] == ["reported-vm"]
    assert content["disappeared"] == []
    assert len(content["clusters"]) == 3


def test_demo_command(emulator_process):
    """The README's demo runs end to end and shows the restored VM."""
    venv = Path(sys.executable).parent.parent
    completed = subprocess.run(
        [str(REPO / "tests" / "tools" / "demo"), str(venv)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    output = completed.stdout
    assert "app-db-01: Finished 100%" in output
    assert '"name": "app-db-01-restored"' in output
    recaps = [line for line in output.splitlines() if line.startswith("localhost")]
    assert len(recaps) == 3
    assert "changed=1" in recaps[0]
    assert "changed=0" in recaps[1]
    assert "failed=0" in recaps[2]


def test_runbook_rejects_target_name_with_original(run_playbook, connection, emulator):
    entry = {"name": "dc-01", "restore_to_original": True, "target_name": "dc-01-copy"}
    variables = runbook_vars(connection, vm_restore_vms=[entry])

    run = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)

    assert run.returncode != 0
    checks = role_results(run, "Check every restore request before starting any")
    assert checks[0]["status"] == "failed"
    assert "target_name" in json.dumps(checks[0]["result"])
    assert restore_bodies(emulator) == []


def test_runbook_bad_entry_stops_before_any_restore(run_playbook, connection, emulator):
    entries = [TWO_VMS[0], {"name": "no-such-vm"}, TWO_VMS[1]]
    variables = runbook_vars(connection, vm_restore_vms=entries)

    run = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)

    assert run.returncode != 0
    assert "no-such-vm" in json.dumps(role_results(run, "before starting any")[0]["result"])
    assert role_results(run, "Start the restores") == []
    assert restore_bodies(emulator) == []


def test_runbook_failed_start_still_waits_for_others(run_playbook, connection, emulator):
    emulator.control.add_fault(method="POST", path=RESTORE_PATH, status=500, skip=1)
    variables = runbook_vars(connection, vm_restore_vms=TWO_VMS)

    run = run_playbook(playbook=playbook("restore_runbook"), extra_vars=variables)

    assert run.returncode != 0
    outcomes = {entry["vm"]: entry["outcome"] for entry in summary_of(run)}
    assert outcomes == {"app-db-01": "restored", "dc-01": "failed to start"}
    started = role_results(run, "Check that every restore started")
    assert started[0]["status"] == "failed"
    assert "The restore of dc-01 did not start" in json.dumps(started[0]["result"])
    assert "app-db-01: Finished 100%" in run.stdout


def test_restore_drill_twice_restores_twice(run_playbook, connection, emulator):
    variables = runbook_vars(
        connection,
        drill_vms=["app-db-01"],
        drill_cleanup_tasks=str(HERE / "playbooks" / "drill_cleanup_emulator.yml"),
        emulator_control_url=emulator.control_url,
        emulator_ca_path=emulator.ca_path,
    )

    first = run_playbook(playbook=playbook("restore_drill"), extra_vars=variables)
    time.sleep(1.1)
    second = run_playbook(playbook=playbook("restore_drill"), extra_vars=variables)

    assert first.returncode == 0, first.stdout
    assert second.returncode == 0, second.stdout
    names = [body["targetVmName"] for body in restore_bodies(emulator)]
    assert len(names) == 2
    assert names[0] != names[1]
    assert all(name.startswith("app-db-01-drill-") for name in names)


def test_restore_drill_default_cleanup_needs_nutanix(run_playbook, connection, emulator):
    variables = runbook_vars(connection, drill_vms=["app-db-01"])

    run = run_playbook(playbook=playbook("restore_drill"), extra_vars=variables)

    assert run.returncode != 0
    assert "nutanix.ncp collection, which is not installed" in json.dumps(run.results)
    assert restore_bodies(emulator) == []


def test_restore_drill_hostile_names(run_playbook, connection, emulator, direct_api):
    emulator.control.generate(
        clusters=1,
        vmsPerCluster=30,
        restorePointsPerVm=1,
        protectedRatio=1.0,
        hostileNames=True,
        seed=11,
    )
    protected = direct_api.get_all("/protectedVms")
    quoted = [vm["name"] for vm in protected if "'" in vm["name"] and "{" not in vm["name"]]
    assert quoted, "the generated dataset has no VM name with a single quote"
    name = quoted[0]
    emulator.control.clear_requests()
    variables = runbook_vars(
        connection,
        drill_vms=[name],
        drill_suffix="-drill",
        drill_cleanup_tasks=str(HERE / "playbooks" / "drill_cleanup_emulator.yml"),
        emulator_control_url=emulator.control_url,
        emulator_ca_path=emulator.ca_path,
    )

    run = run_playbook(playbook=playbook("restore_drill"), extra_vars=variables)

    assert run.returncode == 0, run.stdout
    assert [body["targetVmName"] for body in restore_bodies(emulator)] == [name + "-drill"]
    cluster = direct_api.get("/clusters")[0]
    names = [vm["name"] for vm in direct_api.get_all(f"/clusters/{cluster['id']}/vms")]
    assert name + "-drill" not in names
