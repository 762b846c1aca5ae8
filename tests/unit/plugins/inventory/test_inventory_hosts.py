"""Host facts, unique host names and default group names built from API records."""

from __future__ import annotations

import copy
import itertools

import pytest

from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_hosts import (
    default_group_names,
    describe_bad_record,
    describe_duplicates,
    ip_addresses,
    is_field_name,
    is_vm_record,
    protection_facts,
    snake_case,
    sort_key,
    unique_hostnames,
    vm_facts,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.inventory.inventory_fixtures import (
    CLUSTER_A,
    make_vm,
    protected_row,
)


@pytest.mark.parametrize(
    ("api_name", "expected"),
    [
        ("guestOsVersion", "guest_os_version"),
        ("isCdrom", "is_cdrom"),
        ("vmSize", "vm_size"),
        ("ipAddresses", "ip_addresses"),
        ("lastProtectionDateUtc", "last_protection_date_utc"),
        ("vmIds", "vm_ids"),
        ("id", "id"),
        ("HTTPProxy", "http_proxy"),
    ],
)
def test_snake_case(api_name, expected):
    assert snake_case(api_name) == expected


@pytest.mark.parametrize(
    ("entry", "expected"),
    [("name", True), ("first_ip", True), ("name + id", False), ("1abc", False), ("a.b", False)],
)
def test_is_field_name(entry, expected):
    assert is_field_name(entry) is expected


def test_ip_addresses_in_adapter_order_once():
    vm = make_vm(CLUSTER_A, "vm-1", "app", ["10.0.0.2", "fe80::1"])
    vm["networkAdapters"].append({"id": "nic1", "ipAddresses": ["10.0.0.3", "10.0.0.2", ""]})
    vm["networkAdapters"].append({"id": "nic2", "ipAddresses": None})

    assert ip_addresses(vm) == ["10.0.0.2", "fe80::1", "10.0.0.3"]


def test_vm_facts_fields():
    vm = make_vm(CLUSTER_A, "vm-1", "app", ["10.0.0.2"], protection_domain="pd-1")

    facts = vm_facts(vm, CLUSTER_A, protected_row(vm, 2, 1), True)

    assert facts["id"] == "vm-1"
    assert facts["cluster_name"] == "PROD-AHV-01"
    assert facts["guest_os_version"] == "Ubuntu 24.04 LTS (64-bit)"
    assert facts["protection_domain"] == "pd-1"
    assert facts["disks"][0]["is_volume_group"] is False
    assert facts["network_adapters"][0]["mac_address"] == "50:6b:8d:00:00:01"
    assert facts["first_ip"] == "10.0.0.2"
    assert facts["restore_point_count"] == 3


def test_vm_facts_cluster_from_cluster_record():
    vm = make_vm(CLUSTER_A, "vm-1", "app")
    del vm["clusterId"]
    del vm["clusterName"]

    facts = vm_facts(vm, CLUSTER_A, None, True)

    assert facts["cluster_id"] == CLUSTER_A["id"]
    assert facts["cluster_name"] == CLUSTER_A["name"]


def test_vm_facts_leave_input_unchanged():
    vm = make_vm(CLUSTER_A, "vm-1", "app", ["10.0.0.2"])
    row = protected_row(vm, 1, 0)
    before = copy.deepcopy((vm, row))

    facts = vm_facts(vm, CLUSTER_A, row, True)
    facts["disks"][0]["size"] = 0
    facts["network_adapters"][0]["ip_addresses"].append("1.2.3.4")

    assert (vm, row) == before


def test_protection_facts_unprotected():
    facts = protection_facts(None, True)

    assert facts["protected"] is False
    assert facts["protection_state"] == "unprotected"
    assert facts["restore_point_count"] == 0
    assert facts["last_restore_point_id"] is None


def test_protection_facts_unknown_list():
    facts = protection_facts(None, False)

    assert facts["protected"] is None
    assert facts["protection_state"] == "unknown"
    assert facts["restore_point_count"] is None


def test_protection_facts_missing_counts():
    facts = protection_facts({"id": "vm-1", "backups": 2, "snapshots": None}, True)

    assert facts["protected"] is True
    assert facts["backup_count"] == 2
    assert facts["snapshot_count"] is None
    assert facts["restore_point_count"] is None


def test_unique_hostnames_keep_single_names():
    names, duplicates = unique_hostnames([("id-1", "a"), ("id-2", "b")])

    assert names == ["a", "b"]
    assert duplicates == []


def test_unique_hostnames_suffix_shared_names():
    pairs = [
        ("aaaaaaaa-1111", "web"),
        ("bbbbbbbb-2222", "web"),
        ("cccccccc-3333", "db"),
    ]

    names, duplicates = unique_hostnames(pairs)

    assert names == ["web_aaaaaaaa", "web_bbbbbbbb", "db"]
    assert duplicates == [
        ("web", [("aaaaaaaa-1111", "web_aaaaaaaa"), ("bbbbbbbb-2222", "web_bbbbbbbb")])
    ]


def test_unique_hostnames_same_id_prefix():
    names, _duplicates = unique_hostnames([("12345678-aaaa", "x"), ("12345678-bbbb", "x")])

    assert names == ["x_12345678", "x_12345678-bbbb"]


def test_unique_hostnames_suffix_taken_by_real_name():
    # A VM really named "web_aaaaaaaa" keeps its name, so the duplicate takes the full id.
    pairs = [("aaaaaaaa-1111", "web"), ("bbbbbbbb-2222", "web"), ("cccc", "web_aaaaaaaa")]

    names, _duplicates = unique_hostnames(pairs)

    assert names[2] == "web_aaaaaaaa"
    assert names[0] == "web_aaaaaaaa-1111"
    assert names[1] == "web_bbbbbbbb"


def test_unique_hostnames_every_order_same():
    pairs = [
        ("aaaaaaaa-1", "web"),
        ("aaaaaaaa-2", "web"),
        ("bbbbbbbb-3", "web"),
        ("cccccccc-4", "web_aaaaaaaa"),
        ("dddddddd-5", "db"),
    ]
    names, duplicates = unique_hostnames(pairs)
    expected = dict(zip(pairs, names))

    for order in itertools.permutations(pairs):
        order_names, order_duplicates = unique_hostnames(list(order))
        assert dict(zip(order, order_names)) == expected
        assert order_duplicates == duplicates
    assert len(set(names)) == len(pairs)


def test_unique_hostnames_equal_ids_kept_apart():
    # Two records with one id are never merged into one host.
    pairs = [("same-id", "web"), ("same-id", "web"), ("same-id", "web"), ("same-id", "db")]

    names, _duplicates = unique_hostnames(pairs)

    assert names == ["web_same-id", "web_same-id_2", "web_same-id_3", "db"]


def test_describe_duplicates_limit():
    duplicates = [(f"n{i}", [(f"id{i}", f"n{i}_a"), (f"jd{i}", f"n{i}_b")]) for i in range(7)]

    text = describe_duplicates(duplicates, limit=2)

    assert text == "'n0' (2 VMs: 'n0_a', 'n0_b'); 'n1' (2 VMs: 'n1_a', 'n1_b'); and 5 more"


def test_describe_duplicates_escapes_control():
    name = "tab\tand\nnewline"
    duplicates = [(name, [("id1", name + "_id1"), ("id2", name + "_id2")])]

    text = describe_duplicates(duplicates)

    assert "\n" not in text
    assert "\t" not in text
    assert text == r"'tab\tand\nnewline' (2 VMs: 'tab\tand\nnewline_id1', 'tab\tand\nnewline_id2')"


@pytest.mark.parametrize(
    ("item", "valid"),
    [
        ({"id": "vm-1"}, True),
        ({"id": ""}, False),
        ({"id": "  "}, False),
        ({"id": None}, False),
        ({"id": 7}, False),
        ({"name": "no-id"}, False),
        (None, False),
        (1, False),
        ("vm-1", False),
    ],
)
def test_is_vm_record(item, valid):
    assert is_vm_record(item) is valid


@pytest.mark.parametrize(
    ("item", "text"),
    [
        (None, "null (null)"),
        (1, "1 (int)"),
        ("x" * 70, "'" + "x" * 59 + "... (str)"),
        ({"name": "a\nb"}, "an object without id, named 'a\\nb'"),
        ({"id": None, "name": "a"}, "an object with id None, named 'a'"),
    ],
)
def test_describe_bad_record(item, text):
    assert describe_bad_record(item) == text


def test_default_group_names():
    facts = {
        "cluster_name": "PROD-AHV-01",
        "cluster_id": "c1",
        "protection_state": "protected",
        "protection_domain": "pd-gold",
    }

    assert default_group_names(facts, "p_") == [
        "p_cluster_PROD-AHV-01",
        "p_protected",
        "p_pd_pd-gold",
    ]


def test_default_group_names_unknown_protection():
    facts = {"cluster_name": None, "cluster_id": "c1", "protection_state": "unknown"}

    assert default_group_names(facts, "") == ["cluster_c1"]


def test_sort_key_ignores_missing_fields():
    items = [{"name": "b", "id": "2"}, {"name": None, "id": "1"}, {"name": "a"}]

    ordered = sorted(items, key=sort_key)

    assert [item.get("name") for item in ordered] == [None, "a", "b"]
