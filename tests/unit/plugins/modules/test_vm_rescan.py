"""vm_rescan logic: comparing VM lists and judging session outcomes."""

from __future__ import annotations

import pytest

from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure
from ansible_collections.veeam_ahv.backup.plugins.modules.vm_rescan import (
    check_results,
    compare_vms,
)

CLUSTER = {"id": "c1", "name": "PROD"}


class RecordingModule:
    """Stands in for AnsibleModule where only warn() is used."""

    def __init__(self):
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def vm(vm_id, name):
    return {"id": vm_id, "name": name, "clusterId": "c1"}


def test_compare_by_id_not_name():
    before = [vm("1", "web"), vm("2", "db")]
    after = [vm("2", "db"), vm("3", "web")]

    appeared, disappeared = compare_vms(before, after, CLUSTER)

    assert appeared == [{"id": "3", "name": "web", "cluster_id": "c1", "cluster_name": "PROD"}]
    assert disappeared == [{"id": "1", "name": "web", "cluster_id": "c1", "cluster_name": "PROD"}]


def test_compare_unchanged():
    vms = [vm("1", "a"), vm("2", "b")]

    assert compare_vms(vms, list(reversed(vms)), CLUSTER) == ([], [])


def session(state, result, events=()):
    return {
        "id": "s1",
        "state": state,
        "result": result,
        "progressState": {"events": list(events)},
    }


ENTRIES = [{"id": "c1", "name": "PROD", "session_id": "s1"}]


def test_success_passes_silently():
    module = RecordingModule()

    check_results({"s1": session("Finished", "Success")}, ENTRIES, module)

    assert module.warnings == []


def test_warning_becomes_ansible_warning():
    module = RecordingModule()
    events = [{"severity": "Warning", "message": "Host ahv-3 did not answer"}]

    check_results({"s1": session("Finished", "Warning", events)}, ENTRIES, module)

    assert module.warnings == ["Rescan of cluster 'PROD': Host ahv-3 did not answer"]


@pytest.mark.parametrize(
    ("state", "result", "events", "expected"),
    [
        (
            "Finished",
            "Error",
            [{"severity": "Error", "message": "Prism is unreachable"}],
            "ended with state Finished and result Error: Prism is unreachable.",
        ),
        ("Cancelled", "None", [], "the session reported no error events."),
    ],
)
def test_error_or_cancel_fails(state, result, events, expected):
    with pytest.raises(ModuleFailure) as caught:
        check_results({"s1": session(state, result, events)}, ENTRIES, RecordingModule())

    message = str(caught.value)
    assert message.startswith("The rescan of cluster 'PROD' ended with")
    assert message.endswith(expected)
    assert caught.value.to_result()["session_ids"] == ["s1"]
