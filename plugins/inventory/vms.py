# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: vms
short_description: Nutanix AHV VMs listed by the Veeam plug-in, as inventory hosts
version_added: 0.1.0
description:
  - Adds one host for each VM that the Veeam Plug-in for Nutanix AHV lists on its Nutanix
    AHV clusters, with the VM's cluster, disks, network adapters, IP addresses, guest OS,
    protection domain and protection state as host variables.
  - Protection data comes from one paged read of the protected VM list, so a run costs one
    login, one request for the clusters, the pages of each cluster's VM list, the pages of
    the protected VM list and one logout, however many VMs there are.
  - Reads inventory sources whose file name ends in C(veeam_ahv.yml) or C(veeam_ahv.yaml).
  - The connection options are the same as the modules' options and read the same
    C(VEEAM_AHV_*) environment variables, so one AWX or AAP credential type serves both.
    Options in the source file may be templates, for example a lookup or a vaulted value.
    Values from the C(VEEAM_AHV_*) variables are used as they are and never templated.
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - veeam_ahv.backup.connection
options:
  plugin:
    description: The name of this plugin. Must be V(veeam_ahv.backup.vms).
    type: str
    required: true
    choices: [veeam_ahv.backup.vms]
  url:
    # Required, but checked by the plugin so that the error names VEEAM_AHV_URL too.
    required: false
    env:
      - name: VEEAM_AHV_URL
  username:
    env:
      - name: VEEAM_AHV_USERNAME
  password:
    # Replaces the connection fragment's description, which speaks of tasks.
    description:
      - Password of O(username). The plugin logs in with it once per inventory run,
        refreshes the token when it nears expiry, and logs the token out when the run ends.
      - If not set, the value of the E(VEEAM_AHV_PASSWORD) environment variable is used.
      - Either O(password) or O(access_token) is required.
    env:
      - name: VEEAM_AHV_PASSWORD
  access_token:
    env:
      - name: VEEAM_AHV_ACCESS_TOKEN
  validate_certs:
    env:
      - name: VEEAM_AHV_VALIDATE_CERTS
  ca_path:
    env:
      - name: VEEAM_AHV_CA_PATH
  timeout:
    env:
      - name: VEEAM_AHV_TIMEOUT
  api_version:
    env:
      - name: VEEAM_AHV_API_VERSION
  clusters:
    description:
      - Names or ids of the clusters whose VMs become hosts. All clusters when empty.
      - A name that no cluster has, or that several clusters share, is an error.
    type: list
    elements: str
    default: []
  max_workers:
    description:
      - Number of threads that send requests at the same time. They read the VM list of
        each cluster and the protected VM list, and the further pages of each list once
        its first page gives its length.
      - Each thread uses its own HTTP session. The threads share the token of the one
        login, and a token that nears expiry or is rejected is refreshed once for all.
    type: int
    default: 4
  page_size:
    description:
      - Number of items requested per page of a paged list.
      - An appliance that returns fewer items per page is read to the end all the same.
    type: int
    default: 500
  vars_prefix:
    description:
      - Prefix of the host variables that hold the VM fields, for example
        C(veeam_ahv_name) and C(veeam_ahv_cluster_name).
    type: str
    default: veeam_ahv_
  hostnames:
    description:
      - Ordered list of VM field names or Jinja2 expressions. The first one that gives a
        non-empty string becomes the host name, and the VM id is used when none does.
      - Field names are the host variable names without O(vars_prefix), such as V(name),
        V(id) and V(first_ip). Expressions see both the unprefixed and the prefixed names.
      - A field name that no VM has, and an expression that fails for a VM, give one warning
        per entry with the number of VMs it failed for, or fail the run when O(strict) is
        true. A field that only some VMs have counts as empty for the others. Use
        C(default) in an expression that reads such a field.
      - VMs that would share a host name are never merged. Each of them is named
        C(<name>_<first 8 characters of its id>) (C(<name>_<id>) if that is taken too)
        with a warning, or the run fails when O(strict) is true. These names depend only
        on the VMs of the run, not on the order the API lists them in.
      - A host named V(web) becomes C(web_<id>) in the run in which a second VM named V(web)
        appears, and goes back to V(web) when that VM is deleted or filtered out. Host
        names that must never change need an expression that is unique by itself, such as
        C(name + '_' + id).
    type: list
    elements: str
    default: [name]
  ansible_host_preference:
    description:
      - Ordered list of VM field names or Jinja2 expressions, as in O(hostnames). The first
        one that gives a non-empty string becomes C(ansible_host).
      - When none does, C(ansible_host) is not set and Ansible connects to the host name.
      - Entries that fail are reported as in O(hostnames).
    type: list
    elements: str
    default: [first_ip, name]
  filters:
    description:
      - Jinja2 conditions that a VM must all meet to become a host, evaluated before the
        host is created, with the same names as O(hostnames).
      - Each condition must give a boolean. A condition that fails or gives another type
        drops the VM with a warning, or fails the run when O(strict) is true.
    type: list
    elements: str
    default: []
  default_groups:
    description:
      - Whether to add each host to the groups C(<group_prefix>cluster_<cluster name>),
        C(<group_prefix>protected) or C(<group_prefix>unprotected), and
        C(<group_prefix>pd_<protection domain>) when the VM is in a protection domain.
      - Group names are sanitized the way Ansible sanitizes constructed group names. When
        the names of several clusters give the same cluster group, such as C(PROD-AHV-01)
        and C(PROD_AHV_01), that group contains the VMs of all of them, with one warning.
    type: bool
    default: true
  group_prefix:
    description: Prefix of the default group names.
    type: str
    default: veeam_ahv_
  strict:
    description:
      - If V(true), an expression in O(compose), O(groups) or O(keyed_groups) that fails is
        an error. Otherwise the entry is skipped for that host.
      - If V(true), the run also fails when a cluster's VMs or the protected VM list cannot
        be read, when an item of a VM list is not an object with an id, when an entry of
        O(hostnames) or O(ansible_host_preference) fails, when VMs share a host name, and
        when a filter fails. Otherwise each of these gives a warning and the rest of the
        inventory loads.
      - When the VM list of every selected cluster fails, the run fails whatever the value,
        because an inventory without any host is no partial success.
notes:
  - Every string that comes from the API is marked unsafe, so Ansible never renders a VM
    name such as C({{ lookup('pipe', 'id') }}) as a template.
  - With O(cache) enabled, the plugin caches the data it read from the API, never the
    hosts it built from it, so a cached run gives the same inventory as the run that filled
    the cache and sends no requests. A run in which a cluster or the protected VM list
    could not be read is not cached. The cache entry is ignored when O(url),
    O(api_version) or O(clusters) change.
  - The protection fields come from the protected VM list. A VM counts as protected when
    it has at least one restore point.
"""

EXAMPLES = r"""
# All VMs, connection options from the VEEAM_AHV_* environment variables
# (for example from an AWX credential type). File name: prod.veeam_ahv.yml
plugin: veeam_ahv.backup.vms

# Two clusters, with a vaulted password and a group per guest OS
# File name: lab.veeam_ahv.yaml
plugin: veeam_ahv.backup.vms
url: https://vbahv.example.com
username: administrator
password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  ...
ca_path: /etc/pki/vbahv-ca.pem
clusters: [PROD-AHV-01, PROD-AHV-02]
hostnames:
  - name + '.' + cluster_name | lower
filters:
  - veeam_ahv_cluster_name != 'LAB'
  - not name.startswith('tmp-')
keyed_groups:
  - key: veeam_ahv_guest_os_version
    prefix: os
compose:
  backup_age_ok: veeam_ahv_restore_point_count > 0
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/veeam_ahv_inventory
"""

import os
import time

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import (
    DEFAULT_TIMEOUT,
    HAS_REQUESTS,
    ApiClient,
    validate_url,
)
from ansible_collections.veeam_ahv.backup.plugins.module_utils.errors import VeeamAhvError
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import (
    ENVIRONMENT_VARIABLES,
    check_credentials,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_fetch import (
    describe_cluster,
    fetch_source_data,
    validate_source_data,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_hosts import (
    cluster_group_name,
    default_group_names,
    describe_bad_record,
    describe_duplicates,
    is_field_name,
    is_vm_record,
    prefixed,
    sort_key,
    unique_hostnames,
    vm_facts,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_options import (
    invalid_boolean,
)
from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_text import (
    escape_control,
    quote,
)

CONNECTION_OPTIONS = (
    "url",
    "username",
    "password",
    "access_token",
    "validate_certs",
    "ca_path",
    "timeout",
    "api_version",
)
# Defaults of the connection options, as in the connection doc fragment.
CONNECTION_DEFAULTS = {"validate_certs": True, "timeout": DEFAULT_TIMEOUT, "api_version": "v7"}
# String options that may hold a template such as a lookup, rendered before use when the
# inventory source file sets them. Values from VEEAM_AHV_* variables are used as they are.
TEMPLATED_OPTIONS = ("url", "username", "password", "access_token", "ca_path", "api_version")
# Options whose template errors are reported without the error text, which may quote them.
SECRET_OPTIONS = ("password", "access_token")

STRICT_HINT = (
    " The inventory was not loaded because strict is true. Set strict to false to load "
    "the rest of the inventory with a warning."
)

# At most this many messages of one kind go into a warning, and the rest are counted.
MAX_LISTED = 5
# At most this many cluster errors, which may be long, go into the error of a run that
# read no cluster.
MAX_FAILURES_LISTED = 3


# ansible-core 2.19 and later trust only tagged strings as templates, so wrap_var
# returns a plain str unchanged there. Skipping the call for plain str then gives
# the same result at about a third of the cost on VM records.
_WRAP_KEEPS_PLAIN_STR = wrap_var("probe").__class__ is str


def make_unsafe(value):
    """Return a copy of ``value`` with every string marked unsafe, as ``wrap_var`` does."""
    if isinstance(value, dict):
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [make_unsafe(item) for item in value]
    # Exactly str: a subclass may be a tagged, trusted string or an unsafe one.
    if _WRAP_KEEPS_PLAIN_STR and value.__class__ is str:
        return value
    return wrap_var(value)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Inventory plugin ``veeam_ahv.backup.vms``: one host per VM."""

    NAME = "veeam_ahv.backup.vms"

    def verify_file(self, path):
        if not super().verify_file(path):
            return False
        if path.endswith(("veeam_ahv.yml", "veeam_ahv.yaml")):
            return True
        self.display.vvv(
            f"Skipping {path}: the veeam_ahv.backup.vms plugin reads only files whose names "
            "end in veeam_ahv.yml or veeam_ahv.yaml."
        )
        return False

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        self._check_booleans(config)
        connection = self._connection_options(config)
        self._check_numbers()

        data = self._source_data(path, cache, connection)
        self._populate(data)

    # --- Options ------------------------------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        """Set the options, with the defaults in place of empty ``VEEAM_AHV_*`` variables.

        ansible-core checks types and choices here, so it would turn an empty
        VEEAM_AHV_VALIDATE_CERTS into false and reject an empty VEEAM_AHV_API_VERSION
        as not one of the choices. Passing the default as a direct value avoids both.
        """
        direct = dict(direct or {})
        for name, default in CONNECTION_DEFAULTS.items():
            if direct.get(name) is None and _environment_is_blank(name):
                direct[name] = default
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)

    def _connection_options(self, config: dict) -> dict:
        """Return the connection options with templates rendered.

        An empty ``VEEAM_AHV_*`` variable counts as unset, which is what an AWX
        credential without a CA certificate injects. ``set_options`` handles the
        options that have a default. The others are set to None here, because
        ansible-core reads an empty string as a value, and an empty
        VEEAM_AHV_CA_PATH as the current folder.
        """
        options = {name: self.get_option(name) for name in CONNECTION_OPTIONS}
        for name in CONNECTION_OPTIONS:
            if config.get(name) is None and _environment_is_blank(name):
                options[name] = CONNECTION_DEFAULTS.get(name)
        for name in TEMPLATED_OPTIONS:
            value = options[name]
            if value is None:
                continue
            # Only the source file may hold templates. An environment value, such as an
            # AWX credential's password, may contain "{{" and must never run a lookup.
            if config.get(name) is not None:
                value = self._template_option(name, value)
            # str() decrypts a vaulted value.
            options[name] = None if value is None else str(value)
        if not options["url"]:
            raise AnsibleError(
                "The url option is not set: set url in the inventory source or the "
                "VEEAM_AHV_URL environment variable."
            )
        # Messages and the cache key show the URL, so it is checked first: validate_url
        # rejects a URL with a user name or password without repeating it.
        try:
            options["url"] = validate_url(options["url"])
        except VeeamAhvError as error:
            raise AnsibleError(str(error)) from None
        return options

    def _check_booleans(self, config: dict) -> None:
        definitions = C.config.get_configuration_definitions("inventory", self._load_name)
        message = invalid_boolean(definitions, config, os.environ)
        if message is not None:
            raise AnsibleError(message)

    def _template_option(self, name: str, value):
        try:
            return self.templar.template(value)
        except Exception as error:
            if name not in SECRET_OPTIONS:
                raise AnsibleError(f"The {name} option could not be templated: {error}") from None
            variable = ENVIRONMENT_VARIABLES[name]
            raise AnsibleError(
                f"The {name} option in the inventory source could not be templated "
                f"({type(error).__name__}). The error text is left out because it may quote "
                f"the {name}. A {name} that contains {{{{, {{% or {{# must be marked !unsafe "
                f"in the source, or be passed in {variable}, which is never templated."
            ) from None

    def _check_numbers(self) -> None:
        for name in ("max_workers", "page_size"):
            value = self.get_option(name)
            if value < 1:
                raise AnsibleError(f"{name} must be 1 or greater, got {value}.")

    # --- Source data --------------------------------------------------------------------------

    def _source_data(self, path: str, cache: bool, connection: dict) -> dict:
        """Return the API data from the inventory cache or, failing that, from the API."""
        use_cache = self.get_option("cache")
        source = {
            "url": connection["url"],
            "api_version": connection["api_version"],
            "clusters": list(self.get_option("clusters") or []),
        }
        cache_key = self.get_cache_key(path)
        if use_cache and cache:
            entry = self._cache_entry(cache_key)
            if entry is not None and entry.get("source") == source:
                self.display.vvv(f"Using the cached API data of {path}")
                return entry["data"]

        result = self._fetch(connection)
        if use_cache and result.complete:
            self._cache[cache_key] = {"source": source, "data": result.data}
        return result.data

    def _cache_entry(self, cache_key: str):
        try:
            entry = self._cache[cache_key]
        except KeyError:
            return None
        if not isinstance(entry, dict) or not validate_source_data(entry.get("data")):
            return None
        return entry

    def _fetch(self, connection: dict):
        started = time.monotonic()
        if not HAS_REQUESTS:
            raise AnsibleError(
                "The veeam_ahv.backup.vms plugin requires the Python library requests."
            )
        try:
            check_credentials(connection)
            result = fetch_source_data(
                lambda: self._new_client(connection),
                self.get_option("clusters"),
                self.get_option("max_workers"),
                log=lambda message: self.display.vvv(escape_control(message)),
            )
        except VeeamAhvError as error:
            raise api_text_error(
                f"Reading the inventory from {connection['url']} failed: {error}"
            ) from None
        vm_count = sum(len(vms) for vms in result.data["vms"].values())
        self.display.vv(
            f"Read {vm_count} VM(s) of {len(result.data['vms'])} cluster(s) from "
            f"{connection['url']} with {result.request_count} request(s) and "
            f"{result.retry_count} retry(s) in {time.monotonic() - started:.1f} s"
        )
        self._report_fetch_problems(result, connection["url"])
        return result

    def _new_client(self, connection: dict):
        return ApiClient(
            url=connection["url"],
            username=connection["username"],
            password=connection["password"],
            access_token=connection["access_token"],
            api_version=connection["api_version"] or "v7",
            validate_certs=connection["validate_certs"],
            ca_path=connection["ca_path"],
            timeout=connection["timeout"],
            page_size=self.get_option("page_size"),
            log=self.display.vvvv,
        )

    def _report_fetch_problems(self, result, url: str) -> None:
        clusters = result.data["clusters"]
        if clusters and len(result.cluster_failures) == len(clusters):
            raise api_text_error(self._nothing_read_message(result, url))
        strict = self.get_option("strict")
        for failure in result.cluster_failures:
            message = f"Reading the VMs of {failure.describe()} failed: {failure.message}"
            if strict:
                raise api_text_error(message + STRICT_HINT)
            self._warn(message + " The inventory has no hosts for this cluster.")
        if result.protection_error is not None:
            message = f"Reading the protected VM list failed: {result.protection_error}"
            if strict:
                raise api_text_error(message + STRICT_HINT)
            self._warn(
                message + " The protection variables of every host are unknown, and no "
                "host is in a protected or unprotected group."
            )
        for warning in result.warnings:
            self._warn(warning)
        if result.retry_count:
            self.display.warning(
                f"{result.retry_count} request(s) were retried after a busy response or a "
                "connection error; run with -vvvv to see them."
            )

    @staticmethod
    def _nothing_read_message(result, url: str) -> str:
        """Describe a run in which no cluster's VM list could be read, with the first errors."""
        failures = result.cluster_failures
        listed = "; ".join(
            f"{failure.describe()}: {failure.message}" for failure in failures[:MAX_FAILURES_LISTED]
        )
        if len(failures) > MAX_FAILURES_LISTED:
            listed += f"; and {len(failures) - MAX_FAILURES_LISTED} more"
        message = (
            f"Reading the inventory from {url} failed: the VM lists of all {len(failures)} "
            f"selected cluster(s) could not be read, so the inventory would have no hosts. "
            f"{listed}"
        )
        if result.protection_error is not None:
            message += f" Reading the protected VM list failed too: {result.protection_error}"
        return message

    def _warn(self, message: str) -> None:
        """Show a warning that may contain API text, with control characters escaped."""
        self.display.warning(escape_control(message))

    # --- Hosts --------------------------------------------------------------------------------

    def _populate(self, data: dict) -> None:
        """Add the hosts and groups built from the source data to the inventory."""
        settings = HostSettings(self.get_option)
        started = time.monotonic()
        candidates = []
        rejected = FilterRejections()
        for facts in self._all_vm_facts(data, settings.strict):
            vm = VmContext(facts, settings.vars_prefix)
            if self._passes_filters(settings, vm, rejected):
                candidates.append(vm)
        rejected.warn(self.display)

        hostnames = self._hostnames(settings, candidates)
        self._check_field_names("ansible_host_preference", settings, candidates)
        address_failures = EntryFailures("ansible_host_preference", "no ansible_host")
        cluster_groups: dict = {}
        for vm, hostname in zip(candidates, hostnames):
            self._add_host(settings, hostname, vm, address_failures, cluster_groups)
        address_failures.warn(self._warn)
        self._warn_shared_cluster_groups(settings, cluster_groups)
        self.display.vv(f"Added {len(candidates)} host(s) in {time.monotonic() - started:.1f} s")

    def _all_vm_facts(self, data: dict, strict: bool) -> list:
        """Return the facts of every VM, marked unsafe and sorted by cluster and name.

        Items that are not objects with an id are skipped with a warning, or fail
        the run when ``strict`` is true.
        """
        protection_rows = data.get("protected_vms")
        protection_known = protection_rows is not None
        rows_by_id = {row.get("id"): row for row in protection_rows or [] if isinstance(row, dict)}
        all_facts = []
        for cluster in data["clusters"]:
            records = data["vms"].get(cluster["id"], [])
            valid = [vm for vm in records if is_vm_record(vm)]
            if len(valid) < len(records):
                self._report_bad_records(cluster, records, strict)
            for vm in valid:
                facts = vm_facts(vm, cluster, rows_by_id.get(vm["id"]), protection_known)
                all_facts.append(make_unsafe(facts))
        all_facts.sort(key=sort_key)
        return all_facts

    def _report_bad_records(self, cluster: dict, records: list, strict: bool) -> None:
        bad = [record for record in records if not is_vm_record(record)]
        message = (
            f"{len(bad)} item(s) of the VM list of {describe_cluster(cluster)} are not objects "
            f"with a non-empty string id, for example {describe_bad_record(bad[0])}. The "
            "appliance, or a proxy between it and this host, sent data that does not match "
            "the API."
        )
        if strict:
            raise api_text_error(message + STRICT_HINT)
        self._warn(message + " These items were skipped.")

    def _passes_filters(self, settings, vm, rejected) -> bool:
        for condition in settings.filters:
            try:
                outcome = self._compose(condition, vm.variables)
                if isinstance(outcome, str) and outcome.lower() in ("true", "false"):
                    # Ansible before 2.19 may return a boolean as its rendered text.
                    outcome = outcome.lower() == "true"
                if not isinstance(outcome, bool):
                    raise AnsibleError(f"the result {outcome!r} is not a boolean")
            except Exception as error:
                message = f"Filter {condition!r} failed for VM {vm.facts.get('id')}: {error}"
                if settings.strict:
                    raise api_text_error(message) from None
                rejected.add(message)
                return False
            if not outcome:
                return False
        return True

    def _hostnames(self, settings, candidates: list) -> list:
        """Return the host name of each candidate, made unique, with a warning for shared names."""
        self._check_field_names("hostnames", settings, candidates)
        failures = EntryFailures("hostnames", "the VM id")
        preferred = []
        for vm in candidates:
            name = self._first_value(settings.hostnames, vm, failures, settings.strict)
            preferred.append((vm.facts["id"], name or str(vm.facts["id"])))
        failures.warn(self._warn)
        hostnames, duplicates = unique_hostnames(preferred)
        if duplicates:
            message = (
                f"{len(duplicates)} host name(s) are shared by several VMs: "
                f"{describe_duplicates(duplicates, MAX_LISTED)}."
            )
            if settings.strict:
                raise api_text_error(
                    message + " The inventory was not loaded because strict is true. Set "
                    "hostnames to expressions that are unique, such as name + '_' + id."
                )
            self._warn(
                message + " Each of these host names ends in the VM id or its first 8 characters."
            )
        return hostnames

    def _check_field_names(self, option: str, settings, candidates: list) -> None:
        """Warn about, or fail on, field names in ``option`` that no VM has."""
        for entry in getattr(settings, option):
            if not is_field_name(entry) or not candidates:
                continue
            if any(entry in vm.facts or entry in vm.host_variables for vm in candidates):
                continue
            message = (
                f"The {option} entry {entry!r} is not a field of any VM, so it was skipped. "
                "A field name is a host variable name without vars_prefix, such as name, id, "
                "first_ip or cluster_name. Any other entry is a Jinja2 expression and must "
                "contain more than a name."
            )
            if settings.strict:
                raise api_text_error(message + STRICT_HINT)
            self._warn(message)

    def _first_value(self, entries: list, vm, failures, strict: bool):
        """Return the first entry's non-empty string value, or None.

        A bare field name is read from the facts or the prefixed host variables,
        and anything else is evaluated as a Jinja2 expression. A field the VM lacks
        counts as empty. An expression that fails counts as empty and is recorded
        in ``failures``, or raises ``AnsibleError`` when ``strict`` is true.
        """
        for entry in entries:
            if is_field_name(entry):
                value = vm.facts.get(entry, vm.host_variables.get(entry))
            else:
                try:
                    value = self._compose(entry, vm.variables)
                except Exception as error:
                    message = f"The {failures.option} entry {entry!r} failed for VM "
                    message += f"{vm.facts.get('id')}: {error}"
                    if strict:
                        raise api_text_error(message + STRICT_HINT) from None
                    failures.add(entry, message)
                    continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and value:
                return make_unsafe(value)
        return None

    def _add_host(self, settings, hostname: str, vm, address_failures, cluster_groups) -> None:
        self.inventory.add_host(hostname)
        for name, value in vm.host_variables.items():
            self.inventory.set_variable(hostname, name, value)
        address = self._first_value(
            settings.ansible_host_preference, vm, address_failures, settings.strict
        )
        if address is not None:
            self.inventory.set_variable(hostname, "ansible_host", address)

        if settings.default_groups:
            self._add_default_groups(settings, hostname, vm, cluster_groups)

        if not (settings.compose or settings.groups or settings.keyed_groups):
            return
        host_variables = self.inventory.get_host(hostname).get_vars()
        self._set_composite_vars(settings.compose, host_variables, hostname, settings.strict)
        self._add_host_to_composed_groups(
            settings.groups, host_variables, hostname, settings.strict
        )
        self._add_host_to_keyed_groups(
            settings.keyed_groups, host_variables, hostname, settings.strict
        )

    def _add_default_groups(self, settings, hostname: str, vm, cluster_groups: dict) -> None:
        """Add the host to its default groups, and record its cluster by cluster group name.

        ``cluster_groups`` maps each sanitized cluster group name to the ids and names of
        the clusters whose VMs joined it.
        """
        cluster_group = cluster_group_name(vm.facts, settings.group_prefix)
        for group in default_group_names(vm.facts, settings.group_prefix):
            name = self.inventory.add_group(self._sanitize_group_name(group))
            self.inventory.add_child(name, hostname)
            if group == cluster_group:
                clusters = cluster_groups.setdefault(name, {})
                clusters[str(vm.facts.get("cluster_id"))] = vm.facts.get("cluster_name")

    def _warn_shared_cluster_groups(self, settings, cluster_groups: dict) -> None:
        """Warn once for each cluster group that contains the VMs of more than one cluster."""
        for group, clusters in sorted(cluster_groups.items()):
            if len(clusters) < 2:
                continue
            names = ", ".join(
                f"{quote(name)} ({cluster_id})"
                for cluster_id, name in sorted(
                    clusters.items(), key=lambda item: (str(item[1]), item[0])
                )
            )
            self._warn(
                f"The default group {quote(group)} contains the VMs of {len(clusters)} clusters, "
                f"because their names give the same group name: {names}. A play that "
                "targets this group acts on the VMs of all of them. Group by "
                f"{settings.vars_prefix}cluster_id with keyed_groups to tell them apart."
            )


def api_text_error(message: str) -> AnsibleError:
    """Return an error for a message that may contain API text, with control characters escaped."""
    return AnsibleError(escape_control(message))


def _environment_is_blank(option: str) -> bool:
    """Return whether the option's VEEAM_AHV_* variable is set but empty or only spaces."""
    value = os.environ.get(ENVIRONMENT_VARIABLES[option])
    return value is not None and not value.strip()


class VmContext:
    """The facts of one VM, and the variables that expressions see, built on first use."""

    __slots__ = ("facts", "host_variables", "_variables")

    def __init__(self, facts: dict, vars_prefix: str):
        self.facts = facts
        self.host_variables = prefixed(facts, vars_prefix)
        self._variables = None

    @property
    def variables(self) -> dict:
        """The facts under their own names and under the prefixed host variable names."""
        if self._variables is None:
            self._variables = dict(self.facts)
            self._variables.update(self.host_variables)
        return self._variables


class HostSettings:
    """The options that shape hosts, read once per run rather than once per host."""

    NAMES = (
        "vars_prefix",
        "hostnames",
        "ansible_host_preference",
        "filters",
        "default_groups",
        "group_prefix",
        "strict",
        "compose",
        "groups",
        "keyed_groups",
    )

    def __init__(self, get_option):
        for name in self.NAMES:
            setattr(self, name, get_option(name))


class EntryFailures:
    """Counts the VMs for which each entry of a preference list failed, for one warning each."""

    def __init__(self, option: str, fallback: str):
        self.option = option
        self.fallback = fallback
        self.counts: dict = {}
        self.first_messages: dict = {}

    def add(self, entry: str, message: str) -> None:
        self.counts[entry] = self.counts.get(entry, 0) + 1
        self.first_messages.setdefault(entry, message)

    def warn(self, warn) -> None:
        for entry, count in self.counts.items():
            warn(
                f"The {self.option} entry {entry!r} failed for {count} VM(s), which got the "
                f"next entry's value or {self.fallback} instead. The first failure: "
                f"{self.first_messages[entry]}"
            )


class FilterRejections:
    """Counts the VMs dropped because a filter failed, for one summary warning."""

    def __init__(self):
        self.count = 0
        self.examples: list = []

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_LISTED:
            self.examples.append(message)

    def warn(self, display) -> None:
        if not self.count:
            return
        display.warning(
            escape_control(
                f"{self.count} VM(s) were left out because a filter failed: "
                + "; ".join(self.examples)
                + ("" if self.count <= MAX_LISTED else "; ...")
            )
        )
