"""VMs added or removed on the Nutanix side appear to the plug-in only after a rescan."""

import pytest

from vbahv_emulator.testing import EmulatorError


def rescan(api, cluster_id):
    task = api.ok("POST", f"/clusters/{cluster_id}/vms/refreshAsync", status=202)
    session = api.wait_session(task["sessionId"])
    assert session["result"] == "Success"
    return session


def plugin_names(api, cluster_id):
    return [vm["name"] for vm in api.get_all(f"/clusters/{cluster_id}/vms")]


def test_added_vm_appears_after_rescan(api, control):
    cluster = api.cluster("PROD-AHV-02")
    vm = control.add_nutanix_vm(cluster["id"], name="new-app-01", guestOsVersion="Debian 12")
    assert vm["clusterId"] == cluster["id"]
    assert len(vm["disks"]) == 1
    assert vm["networkAdapters"][0]["networkName"] == "VM-Network"
    assert "new-app-01" not in plugin_names(api, cluster["id"])
    assert api.get(f"/clusters/{cluster['id']}/vms/{vm['id']}").status_code == 404
    session = rescan(api, cluster["id"])
    assert session["sessionType"] == "Internal"
    assert "new-app-01" in plugin_names(api, cluster["id"])
    assert api.ok("GET", f"/clusters/{cluster['id']}/vms/{vm['id']}") == vm
    assert vm["id"] in {v["id"] for v in api.get_all("/virtualMachines")}


def test_rescan_of_one_cluster_leaves_others(api, control):
    prod2 = api.cluster("PROD-AHV-02")
    dr = api.cluster("DR-AHV-01")
    control.add_nutanix_vm(prod2["id"], name="prod2-new")
    control.add_nutanix_vm(dr["id"], name="dr-new")
    rescan(api, dr["id"])
    assert "dr-new" in plugin_names(api, dr["id"])
    assert "prod2-new" not in plugin_names(api, prod2["id"])


def test_removed_vm_disappears_after_rescan(api, control):
    vm = api.vm("PROD-AHV-01", "app-web-02")
    control.remove_nutanix_vm(vm["clusterId"], vm["id"])
    assert "app-web-02" in plugin_names(api, vm["clusterId"])
    rescan(api, vm["clusterId"])
    assert "app-web-02" not in plugin_names(api, vm["clusterId"])
    # Its restore points remain, so it is still a protected VM.
    protected = {p["id"] for p in api.get_all("/protectedVms")}
    assert vm["id"] in protected


def test_stopped_rescan_changes_nothing(api, control):
    control.set_config(sessionDuration=3)
    cluster = api.cluster("DR-AHV-01")
    control.add_nutanix_vm(cluster["id"], name="not-yet")
    task = api.ok("POST", f"/clusters/{cluster['id']}/vms/refreshAsync", status=202)
    assert api.post(f"/sessions/{task['sessionId']}/stop").status_code == 204
    assert api.wait_session(task["sessionId"])["state"] == "Cancelled"
    assert "not-yet" not in plugin_names(api, cluster["id"])


def test_custom_disks_and_adapters(api, control):
    cluster = api.cluster("PROD-AHV-01")
    gold = api.container(cluster["id"], "gold-ssd")
    dmz = api.network(cluster["id"], "DMZ-VLAN30")
    vm = control.add_nutanix_vm(
        cluster["id"],
        name="custom",
        disks=[
            {"busType": "Scsi", "size": 10 * 1024**3, "storageContainerId": gold["id"]},
            {"busType": "Scsi", "size": 5 * 1024**3},
            {"busType": "Ide", "isCdrom": True},
        ],
        networkAdapters=[
            {
                "networkId": dmz["id"],
                "macAddress": "50:6b:8d:aa:bb:cc",
                "ipAddresses": ["172.16.20.9"],
            }
        ],
    )
    assert [(d["busType"], d["index"]) for d in vm["disks"]] == [
        ("Scsi", 0),
        ("Scsi", 1),
        ("Ide", 0),
    ]
    assert vm["disks"][0]["storageContainerName"] == "gold-ssd"
    assert vm["disks"][2]["isCdrom"] is True
    assert vm["vmSize"] == 15 * 1024**3
    assert vm["networkAdapters"][0]["macAddress"] == "50:6b:8d:aa:bb:cc"
    assert vm["networkAdapters"][0]["networkName"] == "DMZ-VLAN30"


def test_state_shows_both_views(api, control):
    cluster = api.cluster("DR-AHV-01")
    added = control.add_nutanix_vm(cluster["id"], name="only-on-nutanix")
    dump = next(c for c in control.state()["clusters"] if c["id"] == cluster["id"])
    assert added["id"] in {vm["id"] for vm in dump["nutanixVms"]}
    assert added["id"] not in {vm["id"] for vm in dump["pluginVms"]}


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"networkAdapters": [{"networkId": "not-here"}]}, "400"),
        ({"disks": [{"storageContainerId": "not-here"}]}, "400"),
        ({"disks": [{"busType": "Floppy"}]}, "400"),
        ({"colour": "blue"}, "400"),
    ],
)
def test_invalid_nutanix_vm_rejected(api, control, fields, status):
    cluster = api.cluster("DR-AHV-01")
    with pytest.raises(EmulatorError, match=status):
        control.add_nutanix_vm(cluster["id"], **fields)


def test_unknown_cluster_or_vm_is_404(control):
    with pytest.raises(EmulatorError, match="404"):
        control.add_nutanix_vm("no-such-cluster", name="x")
    with pytest.raises(EmulatorError, match="404"):
        control.remove_nutanix_vm("no-such-cluster", "x")


def test_duplicate_vm_id_rejected(api, control):
    vm = api.vm("DR-AHV-01", "dr-web-01")
    with pytest.raises(EmulatorError, match="400"):
        control.add_nutanix_vm(vm["clusterId"], id=vm["id"])
