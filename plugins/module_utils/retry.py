# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""When to resend a failed request, and how long to wait first."""

from __future__ import annotations

import email.utils
import random
import time

# Methods that leave the server in the same state however often they are sent.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE"))

# Rate limiting and the gateway errors a busy or restarting appliance returns.
RETRYABLE_STATUSES = frozenset((429, 502, 503, 504))


def is_idempotent(method: str) -> bool:
    """Return whether sending ``method`` twice has the same effect as sending it once."""
    return method.upper() in IDEMPOTENT_METHODS


class RetryPolicy:
    """Exponential backoff with jitter that honours ``Retry-After``.

    Only idempotent methods are resent after a response or a broken connection.
    A POST starts a restore, a rescan or a job, so it is resent only when the
    connection could not be opened at all, because then the server never saw it.
    """

    def __init__(
        self,
        max_retries: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        max_retry_after: float = 300.0,
        jitter=random.random,
    ):
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self._jitter = jitter

    def retries_status(self, idempotent: bool, status: int, attempt: int) -> bool:
        """Return whether a response with this status should be sent again."""
        if attempt >= self.max_retries:
            return False
        return idempotent and status in RETRYABLE_STATUSES

    def retries_connection_error(self, idempotent: bool, request_sent: bool, attempt: int) -> bool:
        """Return whether a request that got no response should be sent again."""
        if attempt >= self.max_retries:
            return False
        return idempotent or not request_sent

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the seconds to wait before retry number ``attempt + 1``.

        The delay grows as base * 2**attempt up to ``max_delay``, and half of it
        is random so that parallel clients spread out. A ``Retry-After`` value
        from the server is a lower bound.
        """
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        backoff = ceiling / 2 + self._jitter() * ceiling / 2
        if retry_after is None:
            return backoff
        return max(retry_after, backoff)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the wait in seconds that a ``Retry-After`` header requests.

    The header contains either a number of seconds or an HTTP date. Returns None
    when the header is absent or cannot be parsed.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, parsed.timestamp() - current)
