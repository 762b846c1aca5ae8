"""Shared helpers of the emulator tests: an API client and the expected v7 field sets."""

import time
from typing import Any

import requests

# Field sets per schema, written out from the v7 API documentation rather than imported from
# the emulator, so a renamed or missing field fails a test.
FIELDS = {
    "TokenModel": {"accessToken", "refreshToken", "accessTokenExpiresAt", "refreshTokenExpiresAt"},
    "Cluster": {
        "id",
        "name",
        "description",
        "address",
        "port",
        "state",
        "version",
        "prismCentralId",
    },
    "VirtualMachine": {
        "id",
        "name",
        "clusterId",
        "clusterName",
        "vmSize",
        "volumeGroupSize",
        "protectionDomain",
        "consistencyGroup",
        "disks",
        "volumeGroups",
        "networkAdapters",
        "guestOsVersion",
    },
    "Disk": {
        "id",
        "busType",
        "index",
        "diskLabel",
        "isCdrom",
        "isVolumeGroup",
        "size",
        "storageContainerId",
        "storageContainerName",
    },
    "NetworkAdapter": {"id", "networkId", "networkName", "ipAddresses", "macAddress"},
    "NutanixNetwork": {
        "id",
        "name",
        "networkAddress",
        "ipManagementOn",
        "prefixLength",
        "ipPool",
        "gatewayIp",
    },
    "StorageContainer": {
        "id",
        "name",
        "maxCapacity",
        "reservedCapacity",
        "usedSpace",
        "freeSpace",
    },
    "ProtectionDomain": {"name", "virtualMachinesSize", "virtualMachinesCount"},
    "VolumeGroup": {"id", "name", "protectionDomain", "consistencyGroup"},
    "ProtectedVirtualMachine": {
        "id",
        "name",
        "snapshots",
        "backups",
        "clusterId",
        "clusterName",
        "lastProtectionDateUtc",
        "lastRestorePointId",
    },
    "RestorePointBase": {"id", "type", "creationTimeUtc", "jobId", "jobName"},
    "BackupRestorePoint": {
        "id",
        "type",
        "creationTimeUtc",
        "jobId",
        "jobName",
        "isCorrupted",
        "backupType",
        "backupSnapshotId",
        "vmId",
        "backupId",
        "clusterId",
    },
    "BackupSnapshot": {
        "id",
        "type",
        "creationTimeUtc",
        "jobId",
        "jobName",
        "snapshotName",
        "snapshotType",
        "vmId",
    },
    "UserSnapshot": {"id", "type", "creationTimeUtc", "jobId", "jobName", "snapshotName", "vmId"},
    "ProtectionDomainSnapshot": {
        "id",
        "type",
        "creationTimeUtc",
        "jobId",
        "jobName",
        "snapshotId",
        "pdName",
        "vmIds",
    },
    "SessionBaseInfo": {
        "id",
        "name",
        "sessionType",
        "state",
        "result",
        "jobName",
        "objectsCount",
        "startTimeUtc",
        "finishTimeUtc",
        "reason",
    },
    "Session": {
        "id",
        "name",
        "sessionType",
        "parentSessionId",
        "state",
        "result",
        "startTimeUtc",
        "finishTimeUtc",
        "duration",
        "context",
        "progressState",
    },
    "SessionContext": {"jobId", "jobName", "backupMode", "objectName", "objectId", "reason"},
    "SessionProgressState": {
        "events",
        "transferred",
        "read",
        "processed",
        "progressPercents",
        "processingRate",
        "avgProcessingRate",
        "isProcessingRateSupported",
        "objectsCount",
        "objectsProcessed",
    },
    "ProgressEvent": {"severity", "startTimeUtc", "endTimeUtc", "message"},
    "DataValue": {"value", "percent"},
    "Job": {
        "id",
        "name",
        "description",
        "mode",
        "settings",
        "status",
        "objects",
        "nextRunInfo",
        "nextRunUtc",
        "lastRunUtc",
        "lastSessionId",
        "enabled",
    },
    "BackupServer": {"address", "port", "repositoriesCount", "state", "version"},
    "BackupRepository": {"id", "name", "totalSpace", "freeSpace", "usedSpace"},
    "AsyncTask": {"sessionId"},
    "Page": {"offset", "limit", "totalCount", "results"},
    "ProblemDetails": {"type", "title", "status", "detail", "instance"},
}

ENUMS = {
    "SessionState": {"Unknown", "Starting", "Running", "Finished", "Cancelling", "Cancelled"},
    "SessionResult": {"Unknown", "None", "Success", "Warning", "Error"},
    "SessionType": {
        "Unknown",
        "Internal",
        "BackupVm",
        "BackupPd",
        "VeeamZip",
        "SnapshotVm",
        "SnapshotPd",
        "BackupVmJob",
        "SnapshotVmJob",
        "SnapshotPdJob",
        "RestoreVm",
        "RestoreVmDisks",
        "RestartBackupService",
        "ApplyNetworkSettings",
        "RebootAppliance",
        "ShutdownAppliance",
        "ExportLogs",
        "ConfigBackup",
        "RescanBackups",
        "RescanSnapshots",
        "DeleteSnapshots",
    },
    "EventSeverity": {"Unknown", "Information", "Warning", "Error"},
    "RestorePointType": {
        "Unknown",
        "Backup",
        "BackupSnapshot",
        "UserSnapshot",
        "PdSnapshot",
        "VolumeGroupSnapshot",
    },
    "AhvBusType": {"Unknown", "Scsi", "Pci", "Ide", "Sata"},
    "JobMode": {"Unknown", "Backup", "Snapshot", "PdSnapshot"},
    "JobStatus": {
        "Unknown",
        "NeverStarted",
        "Running",
        "Stopping",
        "Canceled",
        "Success",
        "Failed",
        "Warning",
    },
    "ServerState": {"Unknown", "Available", "Unavailable"},
    "BackupSnapshotType": {"Unknown", "ApplicationConsistent", "CrashConsistent"},
}

V7 = "/api/v7"


class ApiClient:
    """A thin requests wrapper that logs in and sends Bearer tokens to the emulator."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.base = emulator.url
        self.verify = emulator.ca_path if emulator.ca_path else True
        self.http = requests.Session()
        self.token: str | None = None
        self.refresh_token: str | None = None

    def url(self, path: str) -> str:
        if path.startswith("/api") or path.startswith("/_emulator"):
            return self.base + path
        return self.base + V7 + path

    def login(self, **extra: Any) -> dict:
        form = {
            "grantType": "Password",
            "userName": self.emulator.username,
            "password": self.emulator.password,
        }
        form.update(extra)
        response = self.http.post(self.url("/api/oauth2/token"), data=form, verify=self.verify)
        assert response.status_code == 200, response.text
        body = response.json()
        self.token = body["accessToken"]
        self.refresh_token = body["refreshToken"]
        return body

    def request(self, method: str, path: str, *, token: str | None = "default", **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if token == "default":
            token = self.token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        return self.http.request(
            method, self.url(path), headers=headers, verify=self.verify, **kwargs
        )

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> Any:
        """Send a request, assert its status and return the parsed JSON body (None if empty)."""
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def get_all(self, path: str, **params: Any) -> list[dict]:
        """Read every page of a paged list by following totalCount."""
        items: list[dict] = []
        offset = 0
        while True:
            page = self.ok("GET", path, params={**params, "offset": offset})
            items.extend(page["results"])
            offset += len(page["results"])
            if offset >= page["totalCount"] or not page["results"]:
                return items

    # --- Look-ups by name in the default dataset ----------------------------------------------

    def cluster(self, name: str) -> dict:
        clusters = self.ok("GET", "/clusters")
        return next(c for c in clusters if c["name"] == name)

    def vm(self, cluster_name: str, vm_name: str) -> dict:
        cluster = self.cluster(cluster_name)
        vms = self.get_all(f"/clusters/{cluster['id']}/vms")
        return next(vm for vm in vms if vm["name"] == vm_name)

    def network(self, cluster_id: str, name: str) -> dict:
        return next(
            n for n in self.ok("GET", f"/clusters/{cluster_id}/networks") if n["name"] == name
        )

    def container(self, cluster_id: str, name: str) -> dict:
        page = self.ok("GET", f"/clusters/{cluster_id}/storageContainers")
        return next(c for c in page["results"] if c["name"] == name)

    def points(self, vm_id: str, point_type: str | None = None) -> list[dict]:
        points = self.get_all("/restorePoints", vmId=vm_id)
        return [p for p in points if point_type is None or p["type"] == point_type]

    def wait_session(self, session_id: str, timeout: float = 15.0) -> dict:
        """Poll a session until it is Finished or Cancelled and return it."""
        deadline = time.monotonic() + timeout
        while True:
            session = self.ok("GET", f"/sessions/{session_id}")
            if session["state"] in ("Finished", "Cancelled"):
                return session
            assert time.monotonic() < deadline, f"session {session_id} still {session['state']}"
            time.sleep(0.05)


def assert_problem(response, status: int) -> dict:
    """Assert a problem+json error response with the ProblemDetails members and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert FIELDS["ProblemDetails"] <= set(body)
    assert body["status"] == status
    assert body["instance"] == response.request.path_url.split("?")[0]
    if status == 400:
        assert isinstance(body["errors"], dict)
    return body
