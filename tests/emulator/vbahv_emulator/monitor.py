"""Fault injection rules, the request log and per-route counters of the `/api` traffic."""

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from vbahv_emulator import timeutil

# Older entries are dropped past this many, so a long soak test cannot exhaust memory.
REQUEST_LOG_CAPACITY = 10_000
REDACTED = "***"
SECRET_KEYS = {"password", "refreshtoken", "accesstoken", "updatertoken", "newpassword"}


@dataclass
class Fault:
    id: int
    rule: dict
    pattern: re.Pattern
    remaining: int  # -1 means unlimited
    skip_remaining: int
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        expected = self.rule.get("method")
        if expected and expected.upper() != method.upper():
            return False
        return self.pattern.search(path) is not None

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            **self.rule,
            "remaining": self.remaining,
            "skipRemaining": self.skip_remaining,
            "hits": self.hits,
        }


class FaultStore:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._next_id = 1

    def clear(self) -> None:
        self.faults.clear()

    def add(self, rule: dict) -> Fault:
        """Add a validated FaultRule. Raise re.error for an invalid path pattern."""
        pattern = re.compile(rule["path"])
        fault = Fault(
            id=self._next_id,
            rule=rule,
            pattern=pattern,
            remaining=rule["count"],
            skip_remaining=rule["skip"],
        )
        self._next_id += 1
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first rule that fires for this request, updating skip and count budgets.

        A matching rule that still has requests to skip lets this one pass and counts it down,
        and the later rules are still checked.
        """
        for fault in self.faults:
            if fault.remaining == 0 or not fault.matches(method, path):
                continue
            if fault.skip_remaining > 0:
                fault.skip_remaining -= 1
                continue
            if fault.remaining > 0:
                fault.remaining -= 1
            fault.hits += 1
            return fault
        return None


def redact(value: Any) -> Any:
    """Replace the values of secret-looking keys, at any depth, with "***"."""
    if isinstance(value, dict):
        return {
            key: (
                REDACTED if str(key).lower() in SECRET_KEYS and item is not None else redact(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


@dataclass
class RequestLog:
    entries: deque = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_CAPACITY))
    by_route: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    total: int = 0
    _seq: int = 0

    def clear(self) -> None:
        self.entries.clear()

    def clear_counters(self) -> None:
        self.by_route.clear()
        self.by_status.clear()
        self.total = 0

    def start(
        self, method: str, path: str, query: dict, body: Any, content_type: str | None
    ) -> dict:
        self._seq += 1
        entry = {
            "seq": self._seq,
            "time": timeutil.to_iso(timeutil.now()),
            "method": method,
            "path": path,
            "query": query,
            "status": None,
            "body": redact(body),
            "contentType": content_type,
            "authenticated": False,
            "faultId": None,
        }
        self.entries.append(entry)
        return entry

    def finish(self, entry: dict, route: str, status: int | None) -> None:
        entry["status"] = status
        self.total += 1
        self.by_route[f"{entry['method']} {route}"] += 1
        self.by_status["dropped" if status is None else str(status)] += 1

    def select(self, method: str | None, path_pattern: re.Pattern | None) -> list[dict]:
        return [
            entry
            for entry in self.entries
            if (method is None or entry["method"] == method.upper())
            and (path_pattern is None or path_pattern.search(entry["path"]))
        ]

    def counters(self) -> dict:
        return {
            "total": self.total,
            "byRoute": dict(sorted(self.by_route.items())),
            "byStatus": dict(sorted(self.by_status.items())),
        }
