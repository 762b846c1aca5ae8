"""The veeam_ahv.backup.vms plugin on fixed source data: hosts, names, groups, filters, cache."""

from __future__ import annotations

import copy
import sys

import pytest
from ansible.errors import AnsibleError
from ansible.template import Templar

from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_fetch import (
    ClusterFailure,
)
from ansible_collections.veeam_ahv.backup.tests.unit.plugins.inventory.inventory_fixtures import (
    CLUSTER_A,
    CLUSTER_B,
    URL,
    group_hosts,
    host_vars,
)

WEB_A = "web_a1111111"
WEB_B = "web_b2222222"
HOSTILE = "{{ 7 * 7 }}"


def hostnames(inventory) -> list:
    return sorted(inventory.hosts)


def dump(inventory) -> dict:
    """Return hosts with their variables and groups with their hosts, in inventory order."""
    return {
        "hosts": {name: host.get_vars() for name, host in inventory.hosts.items()},
        "groups": {
            name: [host.name for host in group.get_hosts()]
            for name, group in inventory.groups.items()
        },
    }


# --- Hosts and variables ----------------------------------------------------------------------


def test_hosts_one_per_vm(run_plugin):
    inventory = run_plugin()

    assert hostnames(inventory) == sorted(["db", HOSTILE, WEB_A, WEB_B])


def test_host_variables_carry_vm_fields(run_plugin):
    inventory = run_plugin()

    db = host_vars(inventory, "db")
    assert db["veeam_ahv_id"] == "a3333333-0000-4000-8000-000000000003"
    assert db["veeam_ahv_cluster_id"] == CLUSTER_A["id"]
    assert db["veeam_ahv_cluster_name"] == "PROD-AHV-01"
    assert db["veeam_ahv_guest_os_version"] == "Ubuntu 24.04 LTS (64-bit)"
    assert db["veeam_ahv_protection_domain"] == "pd-gold"
    assert db["veeam_ahv_disks"][0]["bus_type"] == "Scsi"
    assert db["veeam_ahv_disks"][0]["storage_container_name"] == "default-container"
    assert db["veeam_ahv_network_adapters"][0]["network_name"] == "VM-Network"
    assert db["veeam_ahv_ip_addresses"] == []
    assert db["veeam_ahv_first_ip"] is None


def test_protection_variables(run_plugin):
    inventory = run_plugin()

    web = host_vars(inventory, WEB_A)
    assert web["veeam_ahv_protected"] is True
    assert web["veeam_ahv_protection_state"] == "protected"
    assert web["veeam_ahv_restore_point_count"] == 4
    assert web["veeam_ahv_backup_count"] == 3
    assert web["veeam_ahv_snapshot_count"] == 1
    assert web["veeam_ahv_last_restore_point_id"] == "rp-0001"
    assert web["veeam_ahv_last_restore_point_time"] == "2025-01-02T03:04:05Z"
    other = host_vars(inventory, WEB_B)
    assert other["veeam_ahv_protected"] is False
    assert other["veeam_ahv_protection_state"] == "unprotected"
    assert other["veeam_ahv_restore_point_count"] == 0
    assert other["veeam_ahv_last_restore_point_id"] is None


def test_vars_prefix_option(run_plugin):
    inventory = run_plugin({"vars_prefix": "vbahv_"})

    variables = host_vars(inventory, "db")
    assert variables["vbahv_name"] == "db"
    assert "veeam_ahv_name" not in variables


def test_ansible_host_default_preference(run_plugin):
    inventory = run_plugin()

    assert host_vars(inventory, WEB_A)["ansible_host"] == "10.0.0.11"
    # db has no IP address, so the next preference, its VM name, is used.
    assert host_vars(inventory, "db")["ansible_host"] == "db"


def test_ansible_host_unset_without_match(run_plugin):
    inventory = run_plugin({"ansible_host_preference": ["first_ip"]})

    assert "ansible_host" not in host_vars(inventory, "db")
    assert host_vars(inventory, WEB_B)["ansible_host"] == "10.0.1.12"


def test_source_data_unchanged_by_run(run_plugin):
    before = copy.deepcopy(run_plugin.data)
    seen = []
    original = run_plugin.fake_fetch

    def keep_result(*args, **kwargs):
        result = original(*args, **kwargs)
        seen.append(result.data)
        return result

    run_plugin.fake_fetch = keep_result
    run_plugin({"compose": {"extra": "veeam_ahv_name"}, "keyed_groups": [{"key": "veeam_ahv_id"}]})

    assert seen[0] == before


# --- Host names -------------------------------------------------------------------------------


def test_hostnames_field_preference(run_plugin):
    inventory = run_plugin({"hostnames": ["first_ip", "name"]})

    assert hostnames(inventory) == ["10.0.0.11", "10.0.1.12", "10.0.1.14", "db"]


def test_hostnames_jinja_expression(run_plugin):
    inventory = run_plugin({"hostnames": ["name + '.' + (cluster_name | lower)"]})

    assert "db.prod-ahv-01" in inventory.hosts
    assert "web.prod-ahv-01" in inventory.hosts
    assert "web.dr ahv/02" in inventory.hosts
    assert not run_plugin.warnings.messages


def test_hostnames_prefixed_names_in_expression(run_plugin):
    inventory = run_plugin({"hostnames": ["veeam_ahv_name + '-' + veeam_ahv_id[:4]"]})

    assert "db-a333" in inventory.hosts


def test_hostnames_fall_back_to_id(run_plugin):
    inventory = run_plugin({"hostnames": ["protection_domain", "undefined_name + 'x'"]})

    assert "db" not in inventory.hosts
    assert "pd-gold" in inventory.hosts
    assert "a1111111-0000-4000-8000-000000000001" in inventory.hosts


def test_hostnames_unknown_field_warns(run_plugin):
    inventory = run_plugin({"hostnames": ["nosuchfield"]})

    assert "a1111111-0000-4000-8000-000000000001" in inventory.hosts
    messages = run_plugin.warnings.messages
    assert len(messages) == 1
    assert "The hostnames entry 'nosuchfield' is not a field of any VM" in messages[0]


def test_hostnames_unknown_field_strict(run_plugin):
    with pytest.raises(AnsibleError, match="'nosuchfield' is not a field of any VM"):
        run_plugin({"hostnames": ["nosuchfield"], "strict": True})


def test_hostnames_field_of_some_vms(run_plugin):
    run_plugin.data["vms"][CLUSTER_A["id"]][1]["owner"] = "team-db"

    inventory = run_plugin({"hostnames": ["owner", "name + '_' + id"]})

    assert "team-db" in inventory.hosts
    assert not run_plugin.warnings.messages


def test_hostnames_syntax_error_warns_once(run_plugin):
    inventory = run_plugin({"hostnames": ["name +"]})

    assert len(inventory.hosts) == 4
    messages = run_plugin.warnings.messages
    assert len(messages) == 1
    assert "The hostnames entry 'name +' failed for 4 VM(s)" in messages[0]
    assert "the VM id instead" in messages[0]


def test_hostnames_syntax_error_strict(run_plugin):
    with pytest.raises(AnsibleError, match="The hostnames entry 'name \\+' failed for VM"):
        run_plugin({"hostnames": ["name +"], "strict": True})


def test_ansible_host_entry_errors_warn(run_plugin):
    run_plugin({"ansible_host_preference": ["nosuchfield", "first_ip +", "first_ip"]})

    messages = run_plugin.warnings.messages
    assert any("ansible_host_preference entry 'nosuchfield' is not" in m for m in messages)
    assert any("ansible_host_preference entry 'first_ip +' failed for 4" in m for m in messages)


def test_duplicate_names_get_id_suffix(run_plugin):
    inventory = run_plugin()

    assert host_vars(inventory, WEB_A)["veeam_ahv_cluster_id"] == CLUSTER_A["id"]
    assert host_vars(inventory, WEB_B)["veeam_ahv_cluster_id"] == CLUSTER_B["id"]
    assert "web" not in inventory.hosts


def test_duplicate_names_warning(run_plugin):
    run_plugin()

    assert len(run_plugin.warnings.messages) == 1
    message = run_plugin.warnings.messages[0]
    assert "'web' (2 VMs: 'web_a1111111', 'web_b2222222')" in message


def test_duplicate_names_strict_error(run_plugin):
    with pytest.raises(AnsibleError, match="shared by several VMs: 'web'"):
        run_plugin({"strict": True})


def test_duplicate_names_independent_of_order(run_plugin):
    first = dump(run_plugin())
    for cluster_vms in run_plugin.data["vms"].values():
        cluster_vms.reverse()
    run_plugin.data["clusters"].reverse()
    run_plugin.data["protected_vms"].reverse()

    second = dump(run_plugin())

    assert second == first
    assert list(second["hosts"]) == list(first["hosts"])


# --- Malformed VM records ---------------------------------------------------------------------


BAD_RECORDS = [1, "x", None, {"name": "no-id"}, {"id": None, "name": "null-id"}, {"id": ""}]


def test_malformed_records_skipped(run_plugin):
    run_plugin.data["vms"][CLUSTER_A["id"]] += copy.deepcopy(BAD_RECORDS)

    inventory = run_plugin({"hostnames": ["name + '_' + id"]})

    assert len(inventory.hosts) == 4
    messages = run_plugin.warnings.messages
    assert len(messages) == 1
    assert f"6 item(s) of the VM list of cluster 'PROD-AHV-01' ({CLUSTER_A['id']})" in messages[0]
    assert "for example 1 (int)" in messages[0]
    assert "These items were skipped" in messages[0]


def test_malformed_records_strict_error(run_plugin):
    run_plugin.data["vms"][CLUSTER_B["id"]].append({"id": None, "name": "null-id"})

    with pytest.raises(AnsibleError, match="1 item\\(s\\) of the VM list of cluster 'DR AHV/02'"):
        run_plugin({"strict": True, "hostnames": ["name + '_' + id"]})


def test_null_ids_not_merged(run_plugin):
    # Before records were checked, two VMs with "id": null became one host.
    run_plugin.data["vms"][CLUSTER_A["id"]] += [
        {"id": None, "name": "a"},
        {"id": None, "name": "b"},
    ]

    inventory = run_plugin({"hostnames": ["name + '_' + id"]})

    assert len(inventory.hosts) == 4


def test_equal_ids_not_merged(run_plugin):
    twin = copy.deepcopy(run_plugin.data["vms"][CLUSTER_A["id"]][0])
    twin["name"] = "web-twin"
    run_plugin.data["vms"][CLUSTER_B["id"]].append(twin)

    inventory = run_plugin()

    assert len(inventory.hosts) == 5
    assert host_vars(inventory, "web-twin")["veeam_ahv_id"] == twin["id"]
    assert host_vars(inventory, WEB_A)["veeam_ahv_id"] == twin["id"]


# --- Groups -----------------------------------------------------------------------------------


def test_default_groups(run_plugin):
    inventory = run_plugin()

    assert group_hosts(inventory, "veeam_ahv_cluster_PROD_AHV_01") == ["db", WEB_A]
    assert group_hosts(inventory, "veeam_ahv_cluster_DR_AHV_02") == sorted([HOSTILE, WEB_B])
    assert group_hosts(inventory, "veeam_ahv_protected") == ["db", WEB_A]
    assert group_hosts(inventory, "veeam_ahv_unprotected") == sorted([HOSTILE, WEB_B])
    assert group_hosts(inventory, "veeam_ahv_pd_pd_gold") == ["db"]


def rename_clusters(run_plugin, names: list) -> None:
    """Give the sample clusters (and their VMs) the given names."""
    clusters = run_plugin.data["clusters"]
    for position, name in enumerate(names):
        # A copy, because the sample data shares CLUSTER_A and CLUSTER_B with other tests.
        clusters[position] = dict(clusters[position], name=name)
        for vm in run_plugin.data["vms"][clusters[position]["id"]]:
            vm["clusterName"] = name


@pytest.mark.parametrize("names", [["PROD-AHV-01", "PROD AHV 01"], ["SAME", "SAME"]])
def test_clusters_sharing_group_warn(run_plugin, names):
    rename_clusters(run_plugin, names)

    inventory = run_plugin({"hostnames": ["name + '_' + id"]})

    group = "veeam_ahv_cluster_" + names[0].replace("-", "_")
    assert len(group_hosts(inventory, group)) == 4
    messages = run_plugin.warnings.messages
    assert len(messages) == 1
    assert f"The default group '{group}' contains the VMs of 2 clusters" in messages[0]
    assert f"{names[0]!r} ({CLUSTER_A['id']})" in messages[0]
    assert f"{names[1]!r} ({CLUSTER_B['id']})" in messages[0]


def test_clusters_sharing_group_without_default_groups(run_plugin):
    rename_clusters(run_plugin, ["SAME", "SAME"])

    run_plugin({"hostnames": ["name + '_' + id"], "default_groups": False})

    assert not run_plugin.warnings.messages


def test_group_prefix_option(run_plugin):
    inventory = run_plugin({"group_prefix": "ahv_"})

    assert group_hosts(inventory, "ahv_protected") == ["db", WEB_A]
    assert "veeam_ahv_protected" not in inventory.groups


def test_default_groups_off(run_plugin):
    inventory = run_plugin({"default_groups": False})

    assert sorted(inventory.groups) == ["all", "ungrouped"]


def test_keyed_groups_sanitized_not_rendered(run_plugin):
    inventory = run_plugin({"keyed_groups": [{"key": "veeam_ahv_name", "prefix": "vm"}]})

    assert group_hosts(inventory, "vm_web") == [WEB_A, WEB_B]
    # "{{ 7 * 7 }}" becomes underscores and digits, never "vm_49".
    assert group_hosts(inventory, "vm____7___7___") == [HOSTILE]
    assert "vm_49" not in inventory.groups


def test_composed_groups(run_plugin):
    inventory = run_plugin({"groups": {"has_backups": "veeam_ahv_backup_count > 0"}})

    assert group_hosts(inventory, "has_backups") == [WEB_A]


# --- Filters ----------------------------------------------------------------------------------


def test_filters_all_must_hold(run_plugin):
    inventory = run_plugin({"filters": ["name == 'web'", "cluster_name == 'PROD-AHV-01'"]})

    # Only one "web" is left, so it keeps its name and no warning is given.
    assert hostnames(inventory) == ["web"]
    assert not run_plugin.warnings.messages


def test_filters_prefixed_variables(run_plugin):
    inventory = run_plugin({"filters": ["veeam_ahv_protected"]})

    assert hostnames(inventory) == ["db", "web"]


def test_filters_non_boolean_drops_vm(run_plugin):
    inventory = run_plugin({"filters": ["name"]})

    assert hostnames(inventory) == []
    assert len(run_plugin.warnings.messages) == 1
    assert "4 VM(s) were left out because a filter failed" in run_plugin.warnings.messages[0]
    assert "is not a boolean" in run_plugin.warnings.messages[0]


def test_filters_error_strict(run_plugin):
    with pytest.raises(AnsibleError, match="Filter 'undefined_name == 1' failed for VM"):
        run_plugin({"filters": ["undefined_name == 1"], "strict": True})


# --- Unsafe API data --------------------------------------------------------------------------


def test_hostile_name_not_rendered(run_plugin):
    inventory = run_plugin({"compose": {"copied_name": "veeam_ahv_name"}})

    assert HOSTILE in inventory.hosts
    variables = host_vars(inventory, HOSTILE)
    assert variables["veeam_ahv_name"] == HOSTILE
    assert variables["copied_name"] == HOSTILE


def trust_as_template(value: str):
    """Mark ``value`` as a trusted template (ansible-core 2.19 and later), as a playbook is.

    Before 2.19 every plain string is a template, so the value is returned as it is.
    """
    import ansible.template

    if hasattr(ansible.template, "trust_as_template"):
        return ansible.template.trust_as_template(value)
    return value


def test_host_variables_unsafe_when_templated(run_plugin):
    # Even API text that arrives marked as a trusted template must come out unsafe.
    for vm in run_plugin.data["vms"][CLUSTER_B["id"]]:
        vm["name"] = trust_as_template(vm["name"])
        vm["networkAdapters"][0]["ipAddresses"] = [trust_as_template("{{ '10.0.1.' ~ (7 * 2) }}")]
    inventory = run_plugin({"hostnames": ["name + '_' + id"]})
    hostname = HOSTILE + "_b4444444-0000-4000-8000-000000000004"
    variables = host_vars(inventory, hostname)
    templar = Templar(loader=None, variables=variables)

    assert templar.template(variables["veeam_ahv_name"]) == HOSTILE
    assert templar.template(variables["ansible_host"]) == "{{ '10.0.1.' ~ (7 * 2) }}"
    assert templar.template(variables["veeam_ahv_disks"])[0]["id"].endswith("-disk0")


def test_hostname_expression_keeps_hostile_text(run_plugin):
    inventory = run_plugin({"hostnames": ["'vm-' + name"]})

    assert "vm-" + HOSTILE in inventory.hosts
    assert "vm-49" not in inventory.hosts


# --- Fetch problems ---------------------------------------------------------------------------


def test_cluster_failure_warns(run_plugin):
    run_plugin.data["vms"].pop(CLUSTER_B["id"])
    run_plugin.cluster_failures = [ClusterFailure(CLUSTER_B, "GET /x failed with HTTP 500.")]

    inventory = run_plugin()

    assert hostnames(inventory) == ["db", "web"]
    messages = run_plugin.warnings.messages
    assert len(messages) == 1
    assert f"cluster 'DR AHV/02' ({CLUSTER_B['id']}) failed: GET /x failed" in messages[0]


def test_cluster_failure_text_escaped(run_plugin):
    cluster = dict(CLUSTER_B, name="DR\n[WARNING]: fake")
    run_plugin.data["clusters"][1] = cluster
    run_plugin.cluster_failures = [ClusterFailure(cluster, "GET /x failed: bad\r\nline.")]

    run_plugin({"hostnames": ["name + '_' + id"]})

    message = run_plugin.warnings.messages[0]
    assert "\n" not in message
    assert "\r" not in message
    assert "cluster 'DR\\n[WARNING]: fake'" in message
    assert "bad\\r\\nline" in message


def test_duplicate_names_escaped(run_plugin):
    for vm in run_plugin.data["vms"][CLUSTER_B["id"]]:
        vm["name"] = "tab\tand\nnewline"

    run_plugin()

    message = run_plugin.warnings.messages[0]
    assert "\n" not in message
    assert "\t" not in message
    assert "'tab\\tand\\nnewline' (2 VMs:" in message


def test_duplicate_names_strict_escaped(run_plugin):
    for vm in run_plugin.data["vms"][CLUSTER_B["id"]]:
        vm["name"] = "two\nlines"

    with pytest.raises(AnsibleError, match="shared by several VMs") as error:
        run_plugin({"strict": True})

    assert "\n" not in str(error.value)
    assert "'two\\nlines'" in str(error.value)


def test_filter_failure_escaped(run_plugin):
    run_plugin.data["vms"][CLUSTER_A["id"]][0]["name"] = "line\nbreak"

    # The mandatory filter's error is its msg argument, here the VM name.
    run_plugin({"filters": ["undefined_name | mandatory(msg=name)"]})

    message = run_plugin.warnings.messages[-1]
    assert "line\\nbreak" in message
    assert "\n" not in message


def test_cluster_failure_strict_error(run_plugin):
    run_plugin.cluster_failures = [ClusterFailure(CLUSTER_B, "GET /x failed with HTTP 500.")]

    with pytest.raises(AnsibleError, match=r"Reading the VMs of cluster 'DR AHV/02'"):
        run_plugin({"strict": True, "hostnames": ["name + '_' + id"]})


def test_every_cluster_failing_is_error(run_plugin):
    run_plugin.data["vms"] = {}
    run_plugin.cluster_failures = [
        ClusterFailure(CLUSTER_A, "GET /a failed with HTTP 503."),
        ClusterFailure(CLUSTER_B, "GET /b failed with HTTP 401."),
    ]
    run_plugin.protection_error = "GET /protectedVms failed with HTTP 503."

    with pytest.raises(AnsibleError, match="the VM lists of all 2 selected cluster") as error:
        run_plugin()

    message = str(error.value)
    assert f"Reading the inventory from {URL} failed" in message
    assert f"cluster 'PROD-AHV-01' ({CLUSTER_A['id']}): GET /a failed with HTTP 503." in message
    assert "cluster 'DR AHV/02'" in message
    assert "Reading the protected VM list failed too: GET /protectedVms" in message


def test_every_cluster_failing_lists_three(run_plugin):
    clusters = [{"id": f"c-{number}", "name": f"C{number}"} for number in range(5)]
    run_plugin.data.update(clusters=clusters, vms={})
    run_plugin.cluster_failures = [ClusterFailure(cluster, "failed.") for cluster in clusters]

    with pytest.raises(AnsibleError, match="all 5 selected cluster") as error:
        run_plugin()

    assert "cluster 'C2'" in str(error.value)
    assert "cluster 'C3'" not in str(error.value)
    assert "; and 2 more" in str(error.value)


def test_no_clusters_empty_inventory(run_plugin):
    run_plugin.data.update(clusters=[], vms={}, protected_vms=[])

    inventory = run_plugin()

    assert hostnames(inventory) == []
    assert not run_plugin.warnings.messages


def test_protection_failure_unknown_state(run_plugin):
    run_plugin.protection_error = "GET /protectedVms failed with HTTP 503."

    inventory = run_plugin({"hostnames": ["name + '_' + id"]})

    for host in inventory.hosts.values():
        assert host.get_vars()["veeam_ahv_protection_state"] == "unknown"
        assert host.get_vars()["veeam_ahv_protected"] is None
    assert "veeam_ahv_protected" not in inventory.groups
    assert "veeam_ahv_unprotected" not in inventory.groups
    assert "protected VM list failed" in run_plugin.warnings.messages[0]


def test_protection_failure_strict_error(run_plugin):
    run_plugin.protection_error = "GET /protectedVms failed with HTTP 503."

    with pytest.raises(AnsibleError, match="Reading the protected VM list failed"):
        run_plugin({"strict": True})


# --- Options ----------------------------------------------------------------------------------


class RecordingClient:
    """Stands in for ApiClient and records its arguments."""

    created: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        RecordingClient.created.append(kwargs)


@pytest.fixture
def recorded_clients(run_plugin, monkeypatch):
    RecordingClient.created = []

    def fetch_creating_client(create_client, cluster_references, max_workers, log=None):
        create_client()
        create_client()
        return run_plugin.fake_fetch(create_client, cluster_references, max_workers, log)

    original_plugin = run_plugin.plugin

    def plugin():
        plugin = original_plugin()
        module = sys.modules[type(plugin).__module__]
        monkeypatch.setattr(module, "ApiClient", RecordingClient)
        monkeypatch.setattr(module, "fetch_source_data", fetch_creating_client)
        return plugin

    run_plugin.plugin = plugin
    return RecordingClient.created


def test_options_from_environment_only(run_plugin, recorded_clients, monkeypatch, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("-", encoding="utf-8")
    monkeypatch.setenv("VEEAM_AHV_URL", "https://env.example.test")
    monkeypatch.setenv("VEEAM_AHV_USERNAME", "env-user")
    monkeypatch.setenv("VEEAM_AHV_PASSWORD", "env-password")
    monkeypatch.setenv("VEEAM_AHV_VALIDATE_CERTS", "false")
    monkeypatch.setenv("VEEAM_AHV_CA_PATH", str(ca_file))
    monkeypatch.setenv("VEEAM_AHV_TIMEOUT", "12.5")
    monkeypatch.setenv("VEEAM_AHV_API_VERSION", "v7")

    run_plugin.parse_text("plugin: veeam_ahv.backup.vms\n")

    first = recorded_clients[0]
    assert first["url"] == "https://env.example.test"
    assert first["username"] == "env-user"
    assert first["password"] == "env-password"
    assert first["validate_certs"] is False
    assert first["ca_path"] == str(ca_file)
    assert first["timeout"] == 12.5
    assert first["api_version"] == "v7"
    assert first["access_token"] is None


def test_empty_environment_variables_unset(run_plugin, recorded_clients, monkeypatch):
    # An AWX credential without a CA certificate or TLS choice injects empty values.
    monkeypatch.setenv("VEEAM_AHV_CA_PATH", "")
    monkeypatch.setenv("VEEAM_AHV_VALIDATE_CERTS", "")
    monkeypatch.setenv("VEEAM_AHV_ACCESS_TOKEN", "")

    run_plugin()

    first = recorded_clients[0]
    assert first["ca_path"] is None
    assert first["validate_certs"] is True
    assert first["access_token"] is None


@pytest.mark.parametrize("value", ["", " "])
def test_empty_environment_defaults(run_plugin, recorded_clients, monkeypatch, value):
    monkeypatch.setenv("VEEAM_AHV_API_VERSION", value)
    monkeypatch.setenv("VEEAM_AHV_TIMEOUT", value)
    monkeypatch.setenv("VEEAM_AHV_VALIDATE_CERTS", value)

    run_plugin()

    first = recorded_clients[0]
    assert first["api_version"] == "v7"
    assert first["timeout"] == 60
    assert first["validate_certs"] is True


def test_source_option_wins_over_environment(run_plugin, recorded_clients, monkeypatch):
    monkeypatch.setenv("VEEAM_AHV_VALIDATE_CERTS", "")

    run_plugin({"validate_certs": False})

    assert recorded_clients[0]["validate_certs"] is False


def test_access_token_from_environment(run_plugin, recorded_clients, monkeypatch):
    monkeypatch.setenv("VEEAM_AHV_ACCESS_TOKEN", "env-token")

    run_plugin({"username": None, "password": None})

    assert recorded_clients[0]["access_token"] == "env-token"


def test_clients_get_same_options(run_plugin, recorded_clients):
    run_plugin({"page_size": 50})

    assert recorded_clients[1] == recorded_clients[0]
    assert recorded_clients[0]["access_token"] is None
    assert recorded_clients[0]["password"] == "secret"
    assert recorded_clients[0]["page_size"] == 50


def test_templated_connection_options(run_plugin, recorded_clients, monkeypatch):
    monkeypatch.setenv("TEST_VBAHV_PASSWORD", "from-lookup")

    run_plugin(
        {
            "password": "{{ lookup('env', 'TEST_VBAHV_PASSWORD') }}",
            "url": "{{ 'https://templated.example.test' }}",
        }
    )

    assert recorded_clients[0]["password"] == "from-lookup"
    assert recorded_clients[0]["url"] == "https://templated.example.test"


def test_environment_lookup_not_run(run_plugin, recorded_clients, monkeypatch, tmp_path):
    marker = tmp_path / "lookup-ran"
    password = "{{ lookup('pipe', 'touch " + str(marker) + "; echo secret') }}"
    monkeypatch.setenv("VEEAM_AHV_PASSWORD", password)

    run_plugin.parse_text(f"plugin: veeam_ahv.backup.vms\nurl: {URL}\nusername: admin\n")

    assert not marker.exists()
    assert recorded_clients[0]["password"] == password


@pytest.mark.parametrize("password", ["Se{%cret99", "Se{{cret99", "Se{#cret99", "Se{{ 1 }}cret99"])
def test_environment_password_used_literally(run_plugin, recorded_clients, monkeypatch, password):
    monkeypatch.setenv("VEEAM_AHV_PASSWORD", password)

    run_plugin.parse_text(f"plugin: veeam_ahv.backup.vms\nurl: {URL}\nusername: admin\n")

    assert recorded_clients[0]["password"] == password


def test_source_password_marked_unsafe(run_plugin, recorded_clients):
    run_plugin.parse_text(
        f"plugin: veeam_ahv.backup.vms\nurl: {URL}\nusername: admin\n"
        "password: !unsafe 'Se{%cret99'\n"
    )

    assert recorded_clients[0]["password"] == "Se{%cret99"


def test_source_password_template_error_hidden(run_plugin):
    with pytest.raises(AnsibleError, match="could not be templated") as error:
        run_plugin({"password": "Se{%cret99"})

    assert "cret99" not in str(error.value)
    assert "VEEAM_AHV_PASSWORD" in str(error.value)


def test_environment_url_not_templated(run_plugin, recorded_clients, monkeypatch):
    monkeypatch.setenv("VEEAM_AHV_URL", "{{ 'https://templated.example.test' }}")

    with pytest.raises(AnsibleError, match="does not start with https://"):
        run_plugin.parse_text("plugin: veeam_ahv.backup.vms\nusername: a\npassword: b\n")


def test_url_credentials_not_shown(run_plugin):
    with pytest.raises(AnsibleError, match="must not contain a user name or password") as error:
        run_plugin({"url": "https://admin:secretpw@vbahv.example.test"})

    assert "secretpw" not in str(error.value)
    assert run_plugin.fetches == []


def test_url_normalized_before_use(run_plugin, recorded_clients):
    run_plugin({"url": " https://vbahv.example.test/ "})

    assert recorded_clients[0]["url"] == "https://vbahv.example.test"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("validate_certs", "maybe"),
        ("validate_certs", ""),
        ("validate_certs", 2),
        ("strict", "maybe"),
        ("default_groups", "ture"),
        ("cache", "yes please"),
    ],
)
def test_invalid_boolean_in_source(run_plugin, name, value):
    with pytest.raises(AnsibleError, match=f"{name} must be a boolean") as error:
        run_plugin({name: value})

    assert f"got {value!r} from the inventory source" in str(error.value)
    assert run_plugin.fetches == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [("VEEAM_AHV_VALIDATE_CERTS", "ture"), ("ANSIBLE_INVENTORY_CACHE", "maybe")],
)
def test_invalid_boolean_in_environment(run_plugin, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)

    with pytest.raises(AnsibleError, match="must be a boolean") as error:
        run_plugin()

    assert f"got {value!r} from {variable}" in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", True), ("OFF", False), (" True ", True), ("0", False), (1, True), (False, False)],
)
def test_boolean_spellings_accepted(run_plugin, recorded_clients, value, expected):
    run_plugin({"validate_certs": value})

    assert recorded_clients[0]["validate_certs"] is expected


def test_missing_url_error(run_plugin):
    with pytest.raises(AnsibleError, match="VEEAM_AHV_URL"):
        run_plugin.parse_text("plugin: veeam_ahv.backup.vms\nusername: a\npassword: b\n")


def test_clusters_option_passed(run_plugin):
    run_plugin({"clusters": ["PROD-AHV-01", CLUSTER_B["id"]], "max_workers": 2})

    assert run_plugin.fetches == [{"clusters": ["PROD-AHV-01", CLUSTER_B["id"]], "max_workers": 2}]


@pytest.mark.parametrize("name", ["max_workers", "page_size"])
def test_numbers_below_one_rejected(run_plugin, name):
    with pytest.raises(AnsibleError, match=f"{name} must be 1 or greater, got 0"):
        run_plugin({name: 0})


def test_missing_credentials_error(run_plugin):
    with pytest.raises(AnsibleError, match="No credentials: set username and password"):
        run_plugin({"username": None, "password": None})


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("prod.veeam_ahv.yml", True),
        ("veeam_ahv.yaml", True),
        ("prod.veeam_ahv.json", False),
        ("prod.vms.yml", False),
    ],
)
def test_verify_file_names(run_plugin, tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: veeam_ahv.backup.vms\n", encoding="utf-8")

    assert run_plugin.plugin().verify_file(str(path)) is accepted


# --- Cache ------------------------------------------------------------------------------------


@pytest.fixture
def cache_options(tmp_path) -> dict:
    return {
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }


def run_and_store(run_plugin, options, cache=True):
    plugin = run_plugin.plugin()
    inventory = run_plugin(options, cache=cache, plugin=plugin)
    # ansible-inventory and ansible-playbook write the cache this way after parse().
    plugin.update_cache_if_changed()
    return inventory


def test_cache_second_run_reads_no_api(run_plugin, cache_options):
    fresh = dump(run_and_store(run_plugin, cache_options))
    cached = dump(run_and_store(run_plugin, cache_options))

    assert len(run_plugin.fetches) == 1
    assert cached == fresh
    assert list(cached["hosts"]) == list(fresh["hosts"])


def test_cache_ignored_after_clusters_change(run_plugin, cache_options):
    run_and_store(run_plugin, cache_options)
    run_and_store(run_plugin, dict(cache_options, clusters=["PROD-AHV-01"]))

    assert len(run_plugin.fetches) == 2


def test_cache_refreshed_when_flushed(run_plugin, cache_options):
    run_and_store(run_plugin, cache_options)
    run_and_store(run_plugin, cache_options, cache=False)
    run_and_store(run_plugin, cache_options)

    assert len(run_plugin.fetches) == 2


def test_cache_skips_incomplete_data(run_plugin, cache_options):
    run_plugin.cluster_failures = [ClusterFailure(CLUSTER_B, "failed")]
    run_and_store(run_plugin, cache_options)
    run_plugin.cluster_failures = []
    run_and_store(run_plugin, cache_options)

    assert len(run_plugin.fetches) == 2


def test_cache_stores_api_data_not_hosts(run_plugin, cache_options):
    plugin = run_plugin.plugin()
    run_plugin(dict(cache_options, compose={"extra": "veeam_ahv_name"}), plugin=plugin)
    key = plugin.get_cache_key(str(run_plugin.tmp_path / "t.veeam_ahv.yml"))

    entry = plugin._cache[key]

    assert entry["source"] == {"url": URL, "api_version": "v7", "clusters": []}
    assert entry["data"] == run_plugin.data
