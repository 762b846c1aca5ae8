"""cluster_info against the emulator: listing, selection, sub-resources, query."""

from __future__ import annotations

from conftest import api_requests, module_task


def cluster_info(params: dict, **task_options) -> dict:
    return module_task("clusters", "cluster_info", params, register="clusters", **task_options)


def test_lists_all_clusters(run_playbook, connection, direct_api, emulator):
    expected = sorted(direct_api.get("/clusters"), key=lambda c: (c["name"], c["id"]))
    emulator.control.clear_requests()

    run = run_playbook([cluster_info(connection)])

    assert run.returncode == 0, run.stdout
    result = run.result("clusters")
    assert result["changed"] is False
    assert result["clusters"] == expected
    assert len(expected) >= 2
    gets = api_requests(emulator, "GET", r"/api/v7/clusters")
    assert len(gets) == 1
    assert gets[0]["query"] == {}


def test_one_cluster_by_name_with_subresources(run_playbook, connection, direct_api):
    target = direct_api.get("/clusters")[0]
    cluster_id = target["id"]
    params = dict(
        connection,
        name=target["name"],
        include=[
            "vms",
            "networks",
            "storage_containers",
            "hosts",
            "protection_domains",
            "volume_groups",
        ],
    )

    run = run_playbook([cluster_info(params)])

    assert run.returncode == 0, run.stdout
    clusters = run.result("clusters")["clusters"]
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster["id"] == cluster_id
    assert cluster["vms"] == direct_api.get_all(f"/clusters/{cluster_id}/vms")
    assert cluster["networks"] == direct_api.get(f"/clusters/{cluster_id}/networks")
    assert cluster["storageContainers"] == direct_api.get_all(
        f"/clusters/{cluster_id}/storageContainers"
    )
    assert cluster["hosts"] == direct_api.get(f"/clusters/{cluster_id}/hosts")
    assert cluster["protectionDomains"] == direct_api.get_all(
        f"/clusters/{cluster_id}/protectionDomains"
    )
    assert cluster["volumeGroups"] == direct_api.get(f"/clusters/{cluster_id}/volumeGroups")
    assert len(cluster["vms"]) > 0


def test_one_cluster_by_id(run_playbook, connection, direct_api):
    target = direct_api.get("/clusters")[-1]

    run = run_playbook([cluster_info(dict(connection, id=target["id"]))])

    assert run.returncode == 0, run.stdout
    assert [c["id"] for c in run.result("clusters")["clusters"]] == [target["id"]]


def test_vms_read_past_page_cap(run_playbook, connection, emulator):
    emulator.control.generate(clusters=1, vmsPerCluster=1203, restorePointsPerVm=0, seed=7)
    emulator.control.set_config(maxPageSize=100)
    emulator.control.clear_requests()

    run = run_playbook([cluster_info(dict(connection, include=["vms"], query="[].length(vms)"))])

    assert run.returncode == 0, run.stdout
    assert run.result("clusters")["query_result"] == [1203]
    pages = api_requests(emulator, "GET", r"/api/v7/clusters/[^/]+/vms")
    assert len(pages) == 13
    assert [int(entry["query"]["offset"][0]) for entry in pages] == list(range(0, 1300, 100))


def test_query_shapes_result(run_playbook, connection, direct_api):
    names = sorted(c["name"] for c in direct_api.get("/clusters"))

    run = run_playbook([cluster_info(dict(connection, query="[].name"))])

    assert run.returncode == 0, run.stdout
    result = run.result("clusters")
    assert result["query_result"] == names
    assert len(result["clusters"]) == len(names)


def test_invalid_query_message(run_playbook, connection):
    run = run_playbook([cluster_info(dict(connection, query="[?name=="), ignore_errors=True)])

    result = run.result("clusters")
    assert run.status("clusters") == "failed"
    assert "query '[?name==' is not a valid JMESPath expression" in result["msg"]


def test_unknown_cluster_message(run_playbook, connection, direct_api):
    known = direct_api.get("/clusters")

    run = run_playbook([cluster_info(dict(connection, name="NO-SUCH-CLUSTER"), ignore_errors=True)])

    result = run.result("clusters")
    assert run.status("clusters") == "failed"
    assert result["msg"].startswith("Cluster 'NO-SUCH-CLUSTER' was not found by name.")
    for cluster in known:
        assert cluster["name"] in result["msg"]
    assert "Traceback" not in run.stdout


def test_unknown_cluster_id_message(run_playbook, connection):
    run = run_playbook([cluster_info(dict(connection, id="0000-none"), ignore_errors=True)])

    assert run.result("clusters")["msg"].startswith("Cluster '0000-none' was not found by id.")


def test_name_and_id_exclusive(run_playbook, connection):
    run = run_playbook([cluster_info(dict(connection, name="a", id="b"), ignore_errors=True)])

    assert "parameters are mutually exclusive: name|id" in run.result("clusters")["msg"]


def test_check_mode_same_result(run_playbook, connection, direct_api):
    expected = sorted(direct_api.get("/clusters"), key=lambda c: (c["name"], c["id"]))

    run = run_playbook([cluster_info(connection)], check=True)

    assert run.returncode == 0, run.stdout
    assert run.result("clusters")["clusters"] == expected
    assert run.result("clusters")["changed"] is False
