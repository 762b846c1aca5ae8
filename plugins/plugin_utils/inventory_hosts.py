# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turn API records into inventory host facts, host names and group names.

Everything here is pure: the functions read the API records and return new
objects, and never change their input. The inventory plugin relies on that,
because the same records may sit in the inventory cache.
"""

from __future__ import annotations

import functools
import re

from ansible_collections.veeam_ahv.backup.plugins.plugin_utils.inventory_text import quote

PROTECTED = "protected"
UNPROTECTED = "unprotected"
UNKNOWN = "unknown"

# Characters of a VM id kept in the suffix that distinguishes VMs with the same name.
ID_SUFFIX_LENGTH = 8

# Maximum length of the excerpt of a malformed VM list item in a warning.
BAD_RECORD_TEXT_LENGTH = 60

_ACRONYM_BOUNDARY = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=1024)
def snake_case(name: str) -> str:
    """Convert an API field name such as ``guestOsVersion`` to ``guest_os_version``."""
    text = _ACRONYM_BOUNDARY.sub(r"\1_\2", name)
    return _WORD_BOUNDARY.sub(r"\1_\2", text).lower()


def snake_case_keys(value):
    """Return a copy of ``value`` with the keys of every nested dict in snake case."""
    if isinstance(value, dict):
        return {snake_case(str(key)): snake_case_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_case_keys(item) for item in value]
    return value


def is_field_name(entry) -> bool:
    """Return whether a preference entry is a bare name, looked up without templating."""
    return isinstance(entry, str) and bool(_IDENTIFIER.match(entry))


def ip_addresses(vm: dict) -> list:
    """Return the VM's IP addresses in network adapter order, each once."""
    addresses = []
    for adapter in vm.get("networkAdapters") or []:
        if not isinstance(adapter, dict):
            continue
        for address in adapter.get("ipAddresses") or []:
            if isinstance(address, str) and address and address not in addresses:
                addresses.append(address)
    return addresses


def protection_facts(row: dict | None, known: bool) -> dict:
    """Return the protection facts of a VM from its ``GET /protectedVms`` row.

    ``row`` is None for a VM that the list does not contain. ``known`` is False
    when the list could not be read, so protection is reported as unknown.
    """
    facts = {
        "protected": None,
        "protection_state": UNKNOWN,
        "restore_point_count": None,
        "backup_count": None,
        "snapshot_count": None,
        "last_restore_point_id": None,
        "last_restore_point_time": None,
    }
    if not known:
        return facts
    if row is None:
        facts.update(protected=False, protection_state=UNPROTECTED, restore_point_count=0)
        facts.update(backup_count=0, snapshot_count=0)
        return facts
    backups = _count(row.get("backups"))
    snapshots = _count(row.get("snapshots"))
    total = None
    if backups is not None and snapshots is not None:
        total = backups + snapshots
    facts.update(
        protected=True,
        protection_state=PROTECTED,
        restore_point_count=total,
        backup_count=backups,
        snapshot_count=snapshots,
        last_restore_point_id=row.get("lastRestorePointId"),
        last_restore_point_time=row.get("lastProtectionDateUtc"),
    )
    return facts


def _count(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def is_vm_record(item) -> bool:
    """Return whether a VM list item is an object with a non-empty string ``id``."""
    if not isinstance(item, dict):
        return False
    vm_id = item.get("id")
    return isinstance(vm_id, str) and bool(vm_id.strip())


def describe_bad_record(item) -> str:
    """Describe a VM list item that ``is_vm_record`` rejects, for a warning."""
    if not isinstance(item, dict):
        text = "null" if item is None else repr(item)
        if len(text) > BAD_RECORD_TEXT_LENGTH:
            text = text[:BAD_RECORD_TEXT_LENGTH] + "..."
        return f"{text} ({'null' if item is None else type(item).__name__})"
    name = quote(item.get("name"))
    if "id" not in item:
        return f"an object without id, named {name}"
    return f"an object with id {item['id']!r}, named {name}"


def vm_facts(vm: dict, cluster: dict, protection_row: dict | None, protection_known: bool):
    """Return the facts of one VM: its API fields in snake case plus derived fields.

    The derived fields are ``cluster_id`` and ``cluster_name`` (from the cluster
    when the VM record lacks them), ``ip_addresses``, ``first_ip`` and the
    protection facts of ``protection_facts``.
    """
    facts = snake_case_keys(vm)
    facts["cluster_id"] = vm.get("clusterId") or cluster.get("id")
    facts["cluster_name"] = vm.get("clusterName") or cluster.get("name")
    addresses = ip_addresses(vm)
    facts["ip_addresses"] = addresses
    facts["first_ip"] = addresses[0] if addresses else None
    facts.update(protection_facts(protection_row, protection_known))
    return facts


def prefixed(facts: dict, prefix: str) -> dict:
    """Return the facts as host variables named ``<prefix><fact>``."""
    return {prefix + name: value for name, value in facts.items()}


def unique_hostnames(preferred: list) -> tuple[list, list]:
    """Give every VM a host name of its own.

    ``preferred`` contains ``(vm_id, name)`` pairs, one per VM. A name that only
    one VM wants is kept. VMs that share a name each get ``<name>_<first 8
    characters of id>``, or ``<name>_<id>`` when that is taken too, or
    ``<name>_<id>_<n>`` when even the ids are equal. A VM's host name depends
    only on the pairs, not on their order, and two pairs never get the same one.

    Returns the host names in the order of ``preferred``, and a list of
    ``(name, [(vm_id, host name), ...])`` for each shared name, sorted by name
    and id.
    """
    positions_by_name: dict = {}
    for position, (_vm_id, name) in enumerate(preferred):
        positions_by_name.setdefault(name, []).append(position)

    hostnames: list = [None] * len(preferred)
    used_names = set()
    for name, positions in positions_by_name.items():
        if len(positions) == 1:
            hostnames[positions[0]] = name
            used_names.add(name)

    duplicates = []
    for name in sorted(name for name, positions in positions_by_name.items() if len(positions) > 1):
        renamed = []
        for position in sorted(positions_by_name[name], key=lambda p: str(preferred[p][0])):
            vm_id = str(preferred[position][0])
            hostname = _free_name(name, vm_id, used_names)
            used_names.add(hostname)
            hostnames[position] = hostname
            renamed.append((preferred[position][0], hostname))
        duplicates.append((name, renamed))
    return hostnames, duplicates


def _free_name(name: str, vm_id: str, used_names: set) -> str:
    candidates = [f"{name}_{vm_id[:ID_SUFFIX_LENGTH]}", f"{name}_{vm_id}"]
    for candidate in candidates:
        if candidate not in used_names:
            return candidate
    number = 2
    while f"{name}_{vm_id}_{number}" in used_names:
        number += 1
    return f"{name}_{vm_id}_{number}"


def describe_duplicates(duplicates: list, limit: int = 5) -> str:
    """Format shared names as ``'web' (2 VMs: 'web_1a2b3c4d', 'web_9f8e7d6c')``, up to ``limit``.

    Names are quoted as ``repr`` quotes them, so control characters show as escapes.
    """
    parts = []
    for name, renamed in duplicates[:limit]:
        hostnames = ", ".join(quote(hostname) for _vm_id, hostname in renamed)
        parts.append(f"{quote(name)} ({len(renamed)} VMs: {hostnames})")
    text = "; ".join(parts)
    if len(duplicates) > limit:
        text += f"; and {len(duplicates) - limit} more"
    return text


def default_group_names(facts: dict, prefix: str) -> list:
    """Return the unsanitized names of the default groups a VM belongs to.

    These are ``<prefix>cluster_<cluster name>``, ``<prefix>protected`` or
    ``<prefix>unprotected``, and ``<prefix>pd_<protection domain>`` when the VM
    is in one. A VM whose protection is unknown joins neither protection group.
    """
    names = []
    cluster_group = cluster_group_name(facts, prefix)
    if cluster_group is not None:
        names.append(cluster_group)
    state = facts.get("protection_state")
    if state in (PROTECTED, UNPROTECTED):
        names.append(f"{prefix}{state}")
    domain = facts.get("protection_domain")
    if isinstance(domain, str) and domain:
        names.append(f"{prefix}pd_{domain}")
    return names


def cluster_group_name(facts: dict, prefix: str) -> str | None:
    """Return the unsanitized name of the VM's cluster group, or None without a cluster."""
    cluster = facts.get("cluster_name") or facts.get("cluster_id")
    if not cluster:
        return None
    return f"{prefix}cluster_{cluster}"


def sort_key(facts: dict) -> tuple:
    """Order VMs by cluster name, cluster id, VM name and VM id, whatever the API order."""
    return (
        str(facts.get("cluster_name") or ""),
        str(facts.get("cluster_id") or ""),
        str(facts.get("name") or ""),
        str(facts.get("id") or ""),
    )
