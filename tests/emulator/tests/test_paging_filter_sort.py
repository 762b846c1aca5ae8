"""The paging envelope, the page-size cap, and the filter and sort query parameters."""

import json

import pytest
from emu_helpers import assert_problem


def vms_page(api, **params):
    encoded = {k: json.dumps(v) if k in ("filter", "sort") else v for k, v in params.items()}
    return api.get("/virtualMachines", params=encoded)


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["results"]]


def test_default_envelope(api):
    page = api.ok("GET", "/virtualMachines")
    assert page["offset"] == 0
    assert page["limit"] == 100
    assert page["totalCount"] == 39
    assert len(page["results"]) == 39


def test_offset_and_limit_slice(api):
    everything = api.ok("GET", "/virtualMachines")["results"]
    page = api.ok("GET", "/virtualMachines", params={"offset": 5, "limit": 7})
    assert page["offset"] == 5
    assert page["limit"] == 7
    assert page["totalCount"] == 39
    assert page["results"] == everything[5:12]


def test_offset_past_end_is_empty(api):
    page = api.ok("GET", "/virtualMachines", params={"offset": 100})
    assert page["results"] == []
    assert page["totalCount"] == 39


def test_limit_zero_returns_count_only(api):
    page = api.ok("GET", "/virtualMachines", params={"limit": 0})
    assert page["results"] == []
    assert page["limit"] == 0
    assert page["totalCount"] == 39


def test_page_size_cap_applies(api, control):
    control.set_config(maxPageSize=10)
    page = api.ok("GET", "/virtualMachines", params={"limit": 1000})
    assert page["limit"] == 10
    assert len(page["results"]) == 10
    assert page["totalCount"] == 39
    # A client that follows totalCount still gets every item.
    collected = api.get_all("/virtualMachines", limit=1000)
    assert len(collected) == 39
    assert len({vm["id"] for vm in collected}) == 39


def test_limit_minus_one_means_cap(api, control):
    control.set_config(maxPageSize=25)
    page = api.ok("GET", "/virtualMachines", params={"limit": -1})
    assert page["limit"] == 25
    assert len(page["results"]) == 25


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": -1}, "offset"),
        ({"limit": -2}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "1.5"}, "offset"),
        ({"limit": "99999999999"}, "limit"),
        ({"filter": "{not json"}, "filter"),
        ({"sort": "[{"}, "sort"),
        ({"Limit": 5}, "Limit"),
        ({"page": 2}, "page"),
    ],
)
def test_invalid_paging_parameters(api, params, field):
    body = assert_problem(api.get("/virtualMachines", params=params), 400)
    assert field in body["errors"]


def test_repeated_parameter_is_400(api):
    response = api.get("/virtualMachines?limit=1&limit=2")
    body = assert_problem(response, 400)
    assert "limit" in body["errors"]


def test_bare_array_endpoints_take_no_paging(api):
    cluster = api.cluster("PROD-AHV-01")
    for suffix in ("networks", "hosts", "volumeGroups"):
        response = api.get(f"/clusters/{cluster['id']}/{suffix}", params={"limit": 1})
        assert_problem(response, 400)
    assert_problem(api.get("/clusters", params={"offset": 0}), 400)


# --- Filter -----------------------------------------------------------------------------------


def test_filter_equals_single_object(api):
    expr = {"property": "name", "operation": "Equals", "value": "app-db-01"}
    assert names(vms_page(api, filter=expr)) == ["app-db-01"]


def test_filter_array_is_and(api):
    exprs = [
        {"property": "name", "operation": "Equals", "value": "ops-jumpbox"},
        {"property": "clusterName", "operation": "Equals", "value": "PROD-AHV-02"},
    ]
    response = vms_page(api, filter=exprs)
    assert names(response) == ["ops-jumpbox"]
    assert response.json()["results"][0]["clusterName"] == "PROD-AHV-02"


def test_filter_operation_is_case_insensitive(api):
    expr = {"property": "name", "operation": "equals", "value": "dc-01"}
    assert names(vms_page(api, filter=expr)) == ["dc-01"]


@pytest.mark.parametrize(
    ("collation", "expected"),
    [("Ordinal", []), ("IgnoreCase", ["app-db-01"]), ("ignorecase", ["app-db-01"])],
)
def test_filter_collation(api, collation, expected):
    expr = {"property": "name", "operation": "Equals", "collation": collation, "value": "APP-DB-01"}
    assert names(vms_page(api, filter=expr)) == expected


def test_filter_lexicographic_orders_numbers(api, control):
    control.generate(clusters=1, vmsPerCluster=12, restorePointsPerVm=0, seed=3)
    api.login()
    expr = {
        "property": "name",
        "operation": "LessThan",
        "collation": "Lexicographic",
        "value": "vm-01-00010",
    }
    result = names(vms_page(api, filter=expr))
    assert result == [f"vm-01-{i:05d}" for i in range(10)]


def test_filter_not_equals(api):
    expr = {"property": "clusterName", "operation": "NotEquals", "value": "PROD-AHV-01"}
    result = vms_page(api, filter=expr).json()
    assert result["totalCount"] == 23
    assert all(vm["clusterName"] != "PROD-AHV-01" for vm in result["results"])


def test_filter_contains(api):
    expr = {"property": "name", "operation": "Contains", "value": "k8s-worker"}
    assert names(vms_page(api, filter=expr)) == ["k8s-worker-01", "k8s-worker-02", "k8s-worker-03"]


def test_filter_contains_ignore_case(api):
    expr = {
        "property": "name",
        "operation": "Contains",
        "collation": "IgnoreCase",
        "value": "SQL-NODE",
    }
    assert names(vms_page(api, filter=expr)) == ["sql-node-01", "sql-node-02"]


def test_filter_in(api):
    expr = {"property": "name", "operation": "In", "value": ["dc-01", "mail-01", "missing"]}
    assert sorted(names(vms_page(api, filter=expr))) == ["dc-01", "mail-01"]


def test_filter_in_needs_array(api):
    expr = {"property": "name", "operation": "In", "value": "dc-01"}
    assert_problem(vms_page(api, filter=expr), 400)


@pytest.mark.parametrize(
    ("operation", "value", "count"),
    [
        ("GreaterThan", 1024**4, 2),
        ("GreaterThanOrEqual", 1024**4, 3),
        ("LessThan", 30 * 1024**3, 4),
        ("LessThanOrEqual", 30 * 1024**3, 7),
    ],
)
def test_filter_numeric_ordering(api, operation, value, count):
    expr = {"property": "vmSize", "operation": operation, "value": value}
    assert vms_page(api, filter=expr).json()["totalCount"] == count


def test_filter_nested_property(api):
    expr = {"property": "disks.busType", "operation": "Contains", "value": "Pci"}
    assert names(vms_page(api, filter=expr)) == ["legacy-erp"]


def test_filter_nested_superset_and_subset(api):
    superset = {
        "property": "networkAdapters.networkName",
        "operation": "Superset",
        "value": ["VM-Network", "DMZ-VLAN30"],
    }
    result = sorted(names(vms_page(api, filter=superset)))
    assert result == ["app-web-01", "app-web-02", "crm-db-01", "mail-01"]
    subset = {
        "property": "networkAdapters.networkName",
        "operation": "Subset",
        "value": ["Isolated-Restore"],
    }
    assert sorted(names(vms_page(api, filter=subset))) == [
        "dr-sandbox",
        "restore-test-01",
        "test-sandbox-01",
    ]


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("2026-10-31T12:00:00Z", 2),
        # Compared as instants, not text: 16:00 UTC written with an offset.
        ("2026-10-31T17:00:00+01:00", 2),
        # As text "16:11:00Z" sorts after "16:11:00.500Z"; as instants it is earlier.
        ("2026-10-31T16:11:00.500Z", 0),
    ],
)
def test_filter_datetime_property(api, value, count):
    expr = {"property": "creationTimeUtc", "operation": "GreaterThan", "value": value}
    response = api.get("/restorePoints", params={"filter": json.dumps(expr)})
    points = response.json()["results"]
    assert len(points) == count
    assert all(p["creationTimeUtc"] == "2026-10-31T16:11:00Z" for p in points)


def test_filter_invalid_datetime_is_400(api):
    expr = {"property": "creationTimeUtc", "operation": "GreaterThan", "value": "yesterday"}
    assert_problem(api.get("/restorePoints", params={"filter": json.dumps(expr)}), 400)


def test_filter_or_and_not(api):
    either = {
        "operation": "Or",
        "items": [
            {"property": "name", "operation": "Equals", "value": "dc-01"},
            {"property": "name", "operation": "Equals", "value": "git-01"},
        ],
    }
    assert sorted(names(vms_page(api, filter=either))) == ["dc-01", "git-01"]
    negated = {
        "operation": "Not",
        "items": [{"property": "clusterName", "operation": "Equals", "value": "PROD-AHV-01"}],
    }
    assert vms_page(api, filter=negated).json()["totalCount"] == 23
    both = {
        "operation": "And",
        "items": [
            {"property": "name", "operation": "Contains", "value": "dr-"},
            {"property": "name", "operation": "Contains", "value": "web"},
        ],
    }
    assert names(vms_page(api, filter=both)) == ["dr-web-01"]


def test_filter_exclusive_or(api):
    expr = {
        "operation": "ExclusiveOr",
        "items": [
            {"property": "name", "operation": "Contains", "value": "app"},
            {"property": "name", "operation": "Contains", "value": "db"},
        ],
    }
    result = names(vms_page(api, filter=expr))
    assert "app-web-01" in result
    assert "crm-db-01" in result
    assert "app-db-01" not in result


@pytest.mark.parametrize(
    "expr",
    [
        {"property": "name", "operation": "Like", "value": "x"},
        {"property": "nome", "operation": "Equals", "value": "x"},
        {"property": "disks.colour", "operation": "Equals", "value": "x"},
        {"property": "name", "operation": "Equals", "collation": "Binary", "value": "x"},
        {"property": "vmSize", "operation": "GreaterThan", "value": "big"},
        {"operation": "And", "items": []},
        {
            "operation": "Not",
            "items": [{"property": "name", "operation": "Equals", "value": "a"}] * 2,
        },
        {"property": "name", "operation": "Equals", "value": "x", "extra": 1},
        {"operation": "Equals", "value": "x"},
        "name eq x",
    ],
)
def test_invalid_filters_are_400(api, expr):
    body = assert_problem(vms_page(api, filter=expr), 400)
    assert "filter" in body["errors"]


def test_filter_then_page(api):
    expr = {"property": "clusterName", "operation": "Equals", "value": "PROD-AHV-02"}
    page = vms_page(api, filter=expr, offset=10, limit=2).json()
    assert page["totalCount"] == 13
    assert len(page["results"]) == 2


# --- Sort -------------------------------------------------------------------------------------


def test_sort_ascending_and_descending(api):
    ascending = names(vms_page(api, sort=[{"property": "name", "direction": "Ascending"}]))
    assert ascending == sorted(ascending)
    descending = names(vms_page(api, sort=[{"property": "name", "direction": "descending"}]))
    assert descending == sorted(descending, reverse=True)


def test_sort_multiple_keys(api):
    order = [
        {"property": "clusterName", "direction": "Descending"},
        {"property": "vmSize", "direction": "Ascending"},
    ]
    vms = vms_page(api, sort=order).json()["results"]
    keys = [(vm["clusterName"], -vm["vmSize"]) for vm in vms]
    assert keys == sorted(keys, reverse=True)


def test_sort_ignore_case_collation(api, control):
    control.generate(clusters=1, vmsPerCluster=0, seed=1)
    cluster = api.ok("GET", "/clusters", token=api.login()["accessToken"])[0]
    for name in ("beta", "Alpha", "gamma"):
        control.add_nutanix_vm(cluster["id"], name=name)
    session = api.ok("POST", f"/clusters/{cluster['id']}/vms/refreshAsync", status=202)
    api.wait_session(session["sessionId"])
    ordinal = names(vms_page(api, sort=[{"property": "name"}]))
    assert ordinal == ["Alpha", "beta", "gamma"]
    control.add_nutanix_vm(cluster["id"], name="Beta-2")
    session = api.ok("POST", f"/clusters/{cluster['id']}/vms/refreshAsync", status=202)
    api.wait_session(session["sessionId"])
    ordinal = names(vms_page(api, sort=[{"property": "name"}]))
    assert ordinal == ["Alpha", "Beta-2", "beta", "gamma"]
    folded = names(vms_page(api, sort=[{"property": "name", "collation": "IgnoreCase"}]))
    assert folded == ["Alpha", "beta", "Beta-2", "gamma"]


def test_sort_nested_property_of_object(api):
    order = [{"property": "settings.name", "direction": "Ascending"}]
    response = api.get("/jobs", params={"sort": json.dumps(order)})
    job_names = [job["name"] for job in response.json()["results"]]
    assert job_names == sorted(job_names)


def test_sort_sessions_by_start_time(api):
    order = [{"property": "startTimeUtc", "direction": "Ascending"}]
    response = api.get("/sessions", params={"sort": json.dumps(order), "limit": -1})
    starts = [s["startTimeUtc"] for s in response.json()["results"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    "order",
    [
        [{"property": "unknown"}],
        [{"property": "name", "direction": "Up"}],
        [{"property": "disks"}],
        [{"direction": "Ascending"}],
        {"property": "name"},
        [{"property": "name", "collation": "Nope"}],
    ],
)
def test_invalid_sorts_are_400(api, order):
    body = assert_problem(vms_page(api, sort=order), 400)
    assert "sort" in body["errors"]


def test_filter_sort_then_page_order(api):
    expr = {"property": "clusterName", "operation": "Equals", "value": "DR-AHV-01"}
    order = [{"property": "name", "direction": "Descending"}]
    page = vms_page(api, filter=expr, sort=order, offset=1, limit=3).json()
    all_names = sorted(
        (vm["name"] for vm in api.get_all("/virtualMachines") if vm["clusterName"] == "DR-AHV-01"),
        reverse=True,
    )
    assert [vm["name"] for vm in page["results"]] == all_names[1:4]
    assert page["totalCount"] == 10
