"""Time helpers: the emulator keeps instants as POSIX seconds and renders them as ISO 8601 UTC."""

import time
from datetime import UTC, datetime

# Every timestamp in a generated dataset is relative to this instant, so output is reproducible.
DATASET_EPOCH = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def now() -> float:
    return time.time()


def to_iso(seconds: float | None) -> str | None:
    """Render POSIX seconds as ISO 8601 UTC with a `Z` suffix, adding milliseconds when non-zero."""
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, UTC)
    timespec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """Parse an ISO 8601 date-time into POSIX seconds, taking a value without an offset as UTC.

    Raises ValueError for anything else.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def format_timespan(seconds: float) -> str:
    """Render a duration like .NET's TimeSpan: `hh:mm:ss` with 7 fraction digits when non-zero."""
    ticks = round(max(seconds, 0.0) * 10_000_000)
    whole_seconds, fraction = divmod(ticks, 10_000_000)
    minutes, secs = divmod(whole_seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        text = f"{days}.{text}"
    if fraction:
        text = f"{text}.{fraction:07d}"
    return text
