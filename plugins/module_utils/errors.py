# Copyright: veeam_ahv.backup contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exceptions raised by the Veeam Plug-in for Nutanix AHV API client."""

from __future__ import annotations

import re

# Maximum length of the excerpt of a non-JSON response body that goes into an error message.
BODY_EXCERPT_LENGTH = 200


class VeeamAhvError(Exception):
    """Base class of every error the collection raises; the message is safe to show.

    Code that catches an error after it changed something on the appliance adds
    that fact with ``add_context``, so the failure states what was already done.
    """

    def __init__(self, *args):
        super().__init__(*args)
        self.notes: list = []
        self.context_result: dict = {}

    def add_context(self, note: str = "", **result) -> VeeamAhvError:
        """Add a sentence for the message and keys for the task result; return self."""
        if note:
            self.notes.append(note)
        self.context_result.update(result)
        return self

    def full_message(self) -> str:
        """Return the message followed by the notes added with ``add_context``."""
        return " ".join([str(self), *self.notes])

    def to_result(self) -> dict:
        """Return extra keys for an Ansible failure result."""
        return {}


class ApiConnectionError(VeeamAhvError):
    """A request that got no HTTP response: refused, reset, timed out or TLS failure."""

    def __init__(
        self,
        method: str,
        url: str,
        reason: str,
        hint: str = "",
        retries: int = 0,
        request_sent: bool = True,
    ):
        self.method = method
        self.request_sent = request_sent
        self.url = url
        self.reason = reason
        self.hint = hint
        self.retries = retries
        super().__init__(method, url, reason)

    def __str__(self) -> str:
        message = f"{self.method} {self.url} failed: {self.reason}."
        if self.retries:
            message += f" Gave up after {self.retries} retries."
        if self.hint:
            message += " " + self.hint
        return message

    def to_result(self) -> dict:
        return {"url": self.url, "method": self.method, "retries": self.retries}


class ApiError(VeeamAhvError):
    """An HTTP error response, with the problem-details fields the server sent."""

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        reason: str = "",
        title: str = "",
        detail: str = "",
        errors: dict | None = None,
        body_excerpt: str = "",
        hint: str = "",
        retries: int = 0,
    ):
        self.method = method
        self.url = url
        self.status = status
        self.reason = reason
        self.title = title
        self.detail = detail
        self.errors = errors or {}
        self.body_excerpt = body_excerpt
        self.hint = hint
        self.retries = retries
        super().__init__(method, url, status)

    def __str__(self) -> str:
        if 200 <= self.status < 300:
            message = f"{self.method} {self.url} returned HTTP {self.status}"
        else:
            message = f"{self.method} {self.url} failed with HTTP {self.status}"
        if self.reason:
            message += f" {self.reason}"
        explanation = self.server_message()
        if explanation:
            message += f": {explanation}"
        message += "."
        if self.retries:
            message += f" Gave up after {self.retries} retries."
        if self.hint:
            message += " " + self.hint
        return message

    def server_message(self) -> str:
        """Return the server's own explanation: title, detail and field errors."""
        parts = [part for part in (self.title, self.detail) if part]
        if len(parts) == 2 and parts[1].startswith(parts[0]):
            parts = parts[1:]
        text = " - ".join(parts)
        field_errors = _format_field_errors(self.errors, shown_text=text)
        if field_errors:
            text = f"{text} ({field_errors})" if text else field_errors
        if not text and self.body_excerpt:
            text = f"response body: {self.body_excerpt}"
        return text.rstrip(".")

    def to_result(self) -> dict:
        error = {"title": self.title, "detail": self.detail}
        if self.errors:
            error["errors"] = self.errors
        return {
            "status_code": self.status,
            "url": self.url,
            "method": self.method,
            "error": error,
            "retries": self.retries,
        }


class AuthenticationError(ApiError):
    """The server rejected the credentials or the access token."""


class ResponseFormatError(ApiError):
    """A response whose body is not the JSON the API documents."""


class PagingError(VeeamAhvError):
    """A paged collection that ended before the item count the server reported."""


def _format_field_errors(errors: dict, shown_text: str = "") -> str:
    """Format an ASP.NET-style ``errors`` object as ``field: message; field: message``.

    Messages that ``shown_text`` (the title and detail) contains are left out.
    """
    parts = []
    for field, messages in sorted(errors.items()):
        if not isinstance(messages, list):
            messages = [messages]
        new = [str(message) for message in messages if str(message) not in shown_text]
        if not new:
            continue
        text = ", ".join(new)
        parts.append(f"{field}: {text}" if field else text)
    return "; ".join(parts)


def excerpt_body(text: str) -> str:
    """Return a one-line excerpt of a response body, with HTML tags removed."""
    without_tags = re.sub(r"<[^>]+>", " ", text or "")
    collapsed = " ".join(without_tags.split())
    if len(collapsed) > BODY_EXCERPT_LENGTH:
        collapsed = collapsed[:BODY_EXCERPT_LENGTH] + "..."
    return collapsed
