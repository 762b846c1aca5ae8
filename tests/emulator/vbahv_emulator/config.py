"""Run-time settings that the control API can change and `reset` restores."""

import copy
from dataclasses import asdict, dataclass, field

DEFAULT_USERNAME = "administrator"
DEFAULT_PASSWORD = "Emulator-Passw0rd"


@dataclass
class Config:
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    accessTokenLifetime: float = 1800.0
    refreshTokenLifetime: float = 86400.0
    longLivedRefreshTokenLifetime: float = 14 * 86400.0
    maxPageSize: int = 500
    sessionDuration: float = 4.0
    # Per-SessionType duration overrides, in seconds.
    sessionDurations: dict[str, float] = field(default_factory=dict)
    # Per-SessionType outcomes, e.g. {"RestoreVm": {"result": "Error", "message": "..."}}.
    sessionOutcomes: dict[str, dict] = field(default_factory=dict)

    def copy(self) -> "Config":
        return copy.deepcopy(self)

    def as_dict(self) -> dict:
        return asdict(self)

    def duration_for(self, session_type: str) -> float:
        return self.sessionDurations.get(session_type, self.sessionDuration)

    def update(self, changes: dict) -> None:
        """Apply a validated ConfigUpdate. A null outcome for a type removes its override."""
        for name, value in changes.items():
            if name == "sessionDurations":
                self.sessionDurations.update(value)
            elif name == "sessionOutcomes":
                for session_type, outcome in value.items():
                    if outcome is None:
                        self.sessionOutcomes.pop(session_type, None)
                    else:
                        self.sessionOutcomes[session_type] = outcome
            else:
                setattr(self, name, value)
