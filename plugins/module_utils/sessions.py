# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Wait for plug-in sessions (restores, rescans, jobs) and summarise them.

A long operation returns ``{"sessionId": ...}``. ``GET /sessions/{id}`` then
moves through the ``state`` values Starting, Running and Finished (or
Cancelling and Cancelled), and ``result`` becomes Success, Warning or Error
when the session ends.
"""

from __future__ import annotations

import time

from ansible_collections.veeam_ahv.backup.plugins.module_utils.client import api_path
from ansible_collections.veeam_ahv.backup.plugins.module_utils.module import ModuleFailure

FINAL_STATES = frozenset(("Finished", "Cancelled"))
ACTIVE_STATES = frozenset(("Starting", "Running", "Cancelling"))

# Polling starts at the caller's interval and grows by this factor up to
# MAX_POLL_INTERVAL, so a long restore costs a few dozen requests, not hundreds.
POLL_BACKOFF = 1.5
MAX_POLL_INTERVAL = 30.0


def get_session(client, session_id: str) -> dict:
    """Return one session."""
    return client.get(api_path("sessions", session_id))


def session_is_final(session: dict) -> bool:
    """Return whether the session has ended."""
    return session.get("state") in FINAL_STATES


def session_progress(session: dict) -> int | None:
    """Return the session's percent complete, if the server reports it."""
    progress = session.get("progressState") or {}
    percent = progress.get("progressPercents")
    return percent if isinstance(percent, int) else None


def session_events(session: dict, severities=("Warning", "Error")) -> list:
    """Return the messages of the session's events with the given severities."""
    events = (session.get("progressState") or {}).get("events") or []
    return [
        event.get("message") or ""
        for event in events
        if isinstance(event, dict) and event.get("severity") in severities
    ]


def summarize_session(session: dict) -> dict:
    """Return the fields of a session that a task result needs."""
    return {
        "id": session.get("id"),
        "name": session.get("name"),
        "type": session.get("sessionType"),
        "state": session.get("state"),
        "result": session.get("result"),
        "progress_percent": session_progress(session),
        "start_time": session.get("startTimeUtc"),
        "finish_time": session.get("finishTimeUtc"),
        "warnings": session_events(session, ("Warning",)),
        "errors": session_events(session, ("Error",)),
    }


def session_failure(summary: dict) -> str | None:
    """Return how a finished session failed, or None when it ended in Success or Warning.

    ``summary`` comes from ``summarize_session``. A cancelled session counts as
    failed, because the work it started did not finish.
    """
    if summary["result"] != "Error" and summary["state"] != "Cancelled":
        return None
    errors = "; ".join(summary["errors"]) or "the session reported no error events"
    return f"ended with state {summary['state']} and result {summary['result']}: {errors}"


def describe_session(session: dict) -> str:
    """Format a session as ``<id> (<state>, <percent>%)`` for messages."""
    percent = session_progress(session)
    progress = f", {percent}%" if percent is not None else ""
    return f"{session.get('id')} ({session.get('state')}{progress})"


class SessionTimeout(ModuleFailure):
    """The wait timeout passed before every session ended."""


class SessionWaiter:
    """Poll sessions until they end or a deadline passes."""

    def __init__(self, client, poll_interval: float = 2.0, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.poll_interval = poll_interval
        self._clock = clock
        self._sleep = sleep

    def wait(self, session_ids: list, timeout: float, activity: str) -> dict:
        """Return the final state of every session, keyed by id.

        Raises ``SessionTimeout`` with each session's last state when
        ``timeout`` seconds pass first. ``activity`` names the work in the
        message, such as "the restore of VM app-db-01".
        """
        deadline = self._clock() + timeout
        interval = self.poll_interval
        latest = {}
        pending = list(session_ids)
        while True:
            for session_id in pending:
                latest[session_id] = get_session(self.client, session_id)
            pending = [sid for sid in pending if not session_is_final(latest[sid])]
            if not pending:
                return latest
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise self._timeout(latest, pending, timeout, activity)
            self._sleep(min(interval, remaining))
            interval = min(interval * POLL_BACKOFF, MAX_POLL_INTERVAL)

    @staticmethod
    def _timeout(latest, pending, timeout, activity) -> SessionTimeout:
        states = ", ".join(describe_session(latest[sid]) for sid in pending)
        return SessionTimeout(
            f"Timed out after {timeout:g} s waiting for {activity}: session {states} has not "
            "finished. The session keeps running on the appliance; raise wait_timeout, or "
            "follow it with the session_info module.",
            session_ids=list(latest),
            sessions=[summarize_session(latest[sid]) for sid in latest],
        )
