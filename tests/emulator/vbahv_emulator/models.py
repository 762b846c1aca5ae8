"""Strict pydantic models of the JSON and form bodies the emulator accepts.

Every model forbids unknown fields and uses strict types, so a field renamed or removed in an
API version (for example `preserveOriginalVmId`, removed from RestoreSettings in v5) is a 400.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vbahv_emulator.errors import ApiError

NonEmptyStr = Annotated[str, Field(min_length=1)]
AhvBusType = Literal["Unknown", "Scsi", "Pci", "Ide", "Sata"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- Authorization ----------------------------------------------------------------------------


class LoginData(StrictModel):
    grantType: Literal["Password", "RefreshToken", "UpdaterToken"]
    userName: str | None = None
    password: str | None = None
    refreshToken: str | None = None
    updaterToken: str | None = None
    longLivedRefreshToken: bool = False


# --- Restore ----------------------------------------------------------------------------------


class NetworkAdapter(StrictModel):
    id: str | None = None
    networkId: str | None = None
    networkName: str | None = None
    ipAddresses: list[str] | None = None
    macAddress: str | None = None


class NetworkAdapterRemap(StrictModel):
    macAddress: str | None = None
    value: NetworkAdapter


class RestoreSettings(StrictModel):
    restorePointId: NonEmptyStr
    sourceVmId: str | None = None
    restoreToOriginal: bool | None = None
    targetVmName: str | None = None
    targetVmClusterId: str | None = None
    storageContainerId: str | None = None
    networkAdapters: list[NetworkAdapterRemap] | None = None
    reason: str | None = None
    powerOnVmAfterRestore: bool | None = None
    disconnectNetworksAfterRestore: bool | None = None


class DiskSettingsForRestore(StrictModel):
    diskId: NonEmptyStr
    busType: AhvBusType
    index: Annotated[int, Field(ge=0, le=2**31 - 1)]
    storageContainerId: str | None = None


class DiskRestoreSettings(StrictModel):
    sourceVmId: NonEmptyStr
    targetVmId: NonEmptyStr
    restorePointId: NonEmptyStr
    diskSettings: Annotated[list[DiskSettingsForRestore], Field(min_length=1)]
    reason: str | None = None
    powerOnVmAfterRestore: bool | None = None


# --- Control API ------------------------------------------------------------------------------

SessionTypeName = Literal[
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
]
PositiveSeconds = Annotated[float, Field(gt=0)]
NonNegativeSeconds = Annotated[float, Field(ge=0)]


class ControlModel(BaseModel):
    # Control bodies are JSON written by tests, so numbers may be ints or floats.
    model_config = ConfigDict(extra="forbid", strict=False)


class GenerateSpec(ControlModel):
    clusters: Annotated[int, Field(ge=0, le=100)] = 1
    vmsPerCluster: Annotated[int, Field(ge=0)] | list[Annotated[int, Field(ge=0)]] = 10
    restorePointsPerVm: Annotated[int, Field(ge=0, le=100)] = 1
    protectedRatio: Annotated[float, Field(ge=0, le=1)] = 0.8
    duplicateNames: Annotated[int, Field(ge=0)] = 0
    unicodeNames: bool = False
    hostileNames: bool = False
    seed: int = 1


class SessionOutcome(ControlModel):
    result: Literal["Success", "Warning", "Error"]
    message: str | None = None


class ConfigUpdate(ControlModel):
    accessTokenLifetime: PositiveSeconds | None = None
    refreshTokenLifetime: PositiveSeconds | None = None
    longLivedRefreshTokenLifetime: PositiveSeconds | None = None
    maxPageSize: Annotated[int, Field(ge=1)] | None = None
    sessionDuration: NonNegativeSeconds | None = None
    sessionDurations: dict[SessionTypeName, NonNegativeSeconds] | None = None
    sessionOutcomes: dict[SessionTypeName, SessionOutcome | None] | None = None
    username: NonEmptyStr | None = None
    password: NonEmptyStr | None = None


class FaultRule(ControlModel):
    method: str | None = None
    path: NonEmptyStr
    count: Annotated[int, Field(ge=-1)] = 1
    skip: Annotated[int, Field(ge=0)] = 0
    status: Annotated[int, Field(ge=100, le=599)] | None = None
    retryAfter: Annotated[int, Field(ge=0)] | None = None
    body: Literal["problem", "html", "text", "empty"] | None = None
    delay: NonNegativeSeconds | None = None
    drop: bool = False
    expireToken: bool = False


class NewDisk(ControlModel):
    busType: AhvBusType = "Scsi"
    index: Annotated[int, Field(ge=0)] | None = None
    size: Annotated[int, Field(ge=0)] = 20 * 1024**3
    storageContainerId: str | None = None
    isCdrom: bool = False
    diskLabel: str | None = None


class NewNetworkAdapter(ControlModel):
    networkId: str | None = None
    macAddress: str | None = None
    ipAddresses: list[str] = Field(default_factory=list)


class NutanixVmCreate(ControlModel):
    id: NonEmptyStr | None = None
    name: NonEmptyStr | None = None
    guestOsVersion: str | None = None
    protectionDomain: str | None = None
    disks: list[NewDisk] | None = None
    networkAdapters: list[NewNetworkAdapter] | None = None


class ResetBody(ControlModel):
    dataset: Literal["default", "empty"] | dict[str, Any] = "default"


# --- Error conversion -------------------------------------------------------------------------


def field_path(location: tuple) -> str:
    """Render a pydantic error location as `networkAdapters[0].value.networkId`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def validation_error(exc: ValidationError, model_name: str) -> ApiError:
    """Turn a pydantic ValidationError into a 400 with an ASP.NET-style `errors` object."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        location = tuple(part for part in error["loc"] if not _is_union_tag(part))
        name = field_path(location)
        kind = error["type"]
        if kind == "missing":
            message = f"The {name} field is required."
        elif kind == "extra_forbidden":
            message = f"The field '{name}' is not a member of {model_name}."
        else:
            message = f"{error['msg']} (got {error.get('input')!r})."
        errors.setdefault(name, []).append(message)
    summary = "; ".join(f"{name or 'body'}: {messages[0]}" for name, messages in errors.items())
    return ApiError(400, f"The {model_name} body is invalid: {summary}", errors=errors)


def _is_union_tag(part: Any) -> bool:
    # Pydantic adds the union member's type (such as "int", "list[...]" or
    # "function-after[...]") to error locations, and those are not field names.
    return isinstance(part, str) and (
        part in {"int", "float", "str", "bool", "dict[str,any]", "literal['default','empty']"}
        or part.startswith(("list[", "function-", "constrained-", "literal["))
    )
