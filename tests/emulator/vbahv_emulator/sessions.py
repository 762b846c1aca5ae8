"""Sessions whose state, progress and events are computed from the clock on every read.

A session runs Starting for the first 10% of its duration, then Running, then Finished. A stop
request moves it to Cancelling for a quarter of its duration (at most one second), then to
Cancelled. Nothing runs in the background: callers pass the current time to every method.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from vbahv_emulator import timeutil

STARTING_FRACTION = 0.1
MAX_CANCEL_SECONDS = 1.0

# Session types whose progress reports a processing rate.
_RATE_TYPES = {"BackupVmJob", "SnapshotVmJob", "SnapshotPdJob", "RestoreVm", "RestoreVmDisks"}

Effect = Callable[[float], None]


@dataclass
class Session:
    id: str
    name: str
    session_type: str
    start: float
    duration: float
    # Outcome once finished: Success, Warning or Error. `message` explains Warning and Error.
    result: str
    message: str | None = None
    context: dict = field(default_factory=dict)
    objects_count: int = 1
    total_bytes: int = 0
    # Progress steps as (fraction of the duration, Information message).
    steps: list[tuple[float, str]] = field(default_factory=list)
    parent_session_id: str | None = None
    stop_time: float | None = None
    # Called once with the finish time when the session finishes with Success or Warning.
    effect: Effect | None = None
    effect_applied: bool = False

    # --- Timeline -----------------------------------------------------------------------------

    @property
    def cancel_seconds(self) -> float:
        return min(MAX_CANCEL_SECONDS, 0.25 * self.duration)

    @property
    def end_time(self) -> float:
        """When the session reaches Finished or Cancelled."""
        if self.stop_time is not None:
            return self.stop_time + self.cancel_seconds
        return self.start + self.duration

    def state_at(self, moment: float) -> str:
        if self.stop_time is not None:
            return "Cancelled" if moment >= self.end_time else "Cancelling"
        if moment >= self.start + self.duration:
            return "Finished"
        if moment < self.start + STARTING_FRACTION * self.duration:
            return "Starting"
        return "Running"

    def is_active(self, moment: float) -> bool:
        return self.state_at(moment) in ("Starting", "Running", "Cancelling")

    def result_at(self, moment: float) -> str:
        state = self.state_at(moment)
        if state == "Finished":
            return self.result
        if state == "Cancelled":
            return "Error"
        return "None"

    def percent_at(self, moment: float) -> int:
        if self.state_at(moment) == "Finished":
            return 100
        observed = min(moment, self.stop_time) if self.stop_time is not None else moment
        running_from = self.start + STARTING_FRACTION * self.duration
        if observed < running_from or self.duration <= 0:
            return 0
        fraction = (observed - running_from) / ((1 - STARTING_FRACTION) * self.duration)
        return max(0, min(99, int(fraction * 100)))

    # --- Events -------------------------------------------------------------------------------

    def _planned_events(self) -> list[tuple[float, str, str]]:
        """Every event the session will log when it runs to the end, as (time, severity, text)."""
        events = [(self.start, "Information", f"{self.name}: session started.")]
        last_step = 0.6 if self.result == "Error" else 1.0
        for fraction, message in self.steps:
            if fraction < last_step:
                events.append((self.start + fraction * self.duration, "Information", message))
        finish = self.start + self.duration
        if self.result == "Warning":
            events.append(
                (finish, "Warning", self.message or "The session finished with warnings.")
            )
            events.append((finish, "Warning", "Session finished with warnings."))
        elif self.result == "Error":
            events.append((finish, "Error", self.message or "The session failed."))
            events.append((finish, "Error", "Session failed."))
        else:
            events.append((finish, "Information", "Session finished successfully."))
        return events

    def events_at(self, moment: float) -> list[dict]:
        planned = self._planned_events()
        if self.stop_time is not None:
            planned = [event for event in planned if event[0] <= self.stop_time]
            planned.append((self.stop_time, "Information", "Stop requested by user."))
            planned.append((self.end_time, "Error", "The session was stopped by user."))
        visible = [event for event in planned if event[0] <= moment]
        ended = not self.is_active(moment)
        rendered = []
        for position, (start, severity, message) in enumerate(visible):
            if position + 1 < len(visible):
                end = visible[position + 1][0]
            elif ended:
                end = start
            else:
                end = None
            rendered.append(
                {
                    "severity": severity,
                    "startTimeUtc": timeutil.to_iso(start),
                    "endTimeUtc": timeutil.to_iso(end),
                    "message": message,
                }
            )
        return rendered

    # --- Rendering ----------------------------------------------------------------------------

    def base_info(self, moment: float) -> dict:
        """Render the session as the SessionBaseInfo schema."""
        state = self.state_at(moment)
        finished = state in ("Finished", "Cancelled")
        return {
            "id": self.id,
            "name": self.name,
            "sessionType": self.session_type,
            "state": state,
            "result": self.result_at(moment),
            "jobName": self.context.get("jobName"),
            "objectsCount": self.objects_count,
            "startTimeUtc": timeutil.to_iso(self.start),
            "finishTimeUtc": timeutil.to_iso(self.end_time) if finished else None,
            "reason": self.context.get("reason"),
        }

    def detail(self, moment: float) -> dict:
        """Render the session as the Session schema with its context and progress."""
        state = self.state_at(moment)
        finished = state in ("Finished", "Cancelled")
        percent = self.percent_at(moment)
        elapsed = (self.end_time if finished else moment) - self.start
        processed = int(self.total_bytes * percent / 100)
        read = int(processed * 0.6)
        transferred = int(read * 0.5)
        rate = int(processed / elapsed) if elapsed > 0 else 0
        objects_processed = (
            self.objects_count if state == "Finished" else self.objects_count * percent // 100
        )
        return {
            "id": self.id,
            "name": self.name,
            "sessionType": self.session_type,
            "parentSessionId": self.parent_session_id,
            "state": state,
            "result": self.result_at(moment),
            "startTimeUtc": timeutil.to_iso(self.start),
            "finishTimeUtc": timeutil.to_iso(self.end_time) if finished else None,
            "duration": timeutil.format_timespan(elapsed),
            "context": {
                "jobId": self.context.get("jobId"),
                "jobName": self.context.get("jobName"),
                "backupMode": self.context.get("backupMode"),
                "objectName": self.context.get("objectName"),
                "objectId": self.context.get("objectId"),
                "reason": self.context.get("reason"),
            },
            "progressState": {
                "events": self.events_at(moment),
                "transferred": {"value": transferred, "percent": percent},
                "read": {"value": read, "percent": percent},
                "processed": {"value": processed, "percent": percent},
                "progressPercents": percent,
                "processingRate": 0 if finished else rate,
                "avgProcessingRate": rate,
                "isProcessingRateSupported": self.session_type in _RATE_TYPES,
                "objectsCount": self.objects_count,
                "objectsProcessed": objects_processed,
            },
        }


def default_steps(session_type: str, subject: str | None = None) -> list[tuple[float, str]]:
    """Information events a session of this type logs on its way, as (fraction, message)."""
    subject = subject or "the object"
    if session_type == "RestoreVm":
        return [
            (0.1, f"Validating restore settings for {subject}."),
            (0.25, "Connecting to the target cluster."),
            (0.4, "Restoring virtual disks."),
            (0.8, "Registering the virtual machine."),
            (0.95, "Applying network settings."),
        ]
    if session_type == "RestoreVmDisks":
        return [
            (0.1, f"Validating disk restore settings for {subject}."),
            (0.3, "Restoring virtual disks."),
            (0.9, "Attaching restored disks to the target VM."),
        ]
    if session_type in ("BackupVmJob", "SnapshotVmJob", "SnapshotPdJob"):
        return [
            (0.1, "Building the list of objects to process."),
            (0.2, "Creating Nutanix snapshots."),
            (0.5, "Processing objects."),
            (0.9, "Applying retention policy."),
        ]
    if session_type in ("RescanBackups", "RescanSnapshots"):
        return [(0.2, "Enumerating restore points."), (0.8, "Updating the configuration database.")]
    return [(0.2, f"Collecting the inventory of {subject}."), (0.8, "Updating the inventory.")]
