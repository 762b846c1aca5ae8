"""RFC 7807 problem details, shaped like the ones ASP.NET Core returns."""

import json

from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The `type` URIs and titles ASP.NET Core puts in its default problem details.
_PROBLEM_TYPES = {
    400: ("https://tools.ietf.org/html/rfc9110#section-15.5.1", "Bad Request"),
    401: ("https://tools.ietf.org/html/rfc9110#section-15.5.2", "Unauthorized"),
    403: ("https://tools.ietf.org/html/rfc9110#section-15.5.4", "Forbidden"),
    404: ("https://tools.ietf.org/html/rfc9110#section-15.5.5", "Not Found"),
    405: ("https://tools.ietf.org/html/rfc9110#section-15.5.6", "Method Not Allowed"),
    409: ("https://tools.ietf.org/html/rfc9110#section-15.5.10", "Conflict"),
    429: ("https://tools.ietf.org/html/rfc6585#section-4", "Too Many Requests"),
    500: ("https://tools.ietf.org/html/rfc9110#section-15.6.1", "Internal Server Error"),
    502: ("https://tools.ietf.org/html/rfc9110#section-15.6.3", "Bad Gateway"),
    503: ("https://tools.ietf.org/html/rfc9110#section-15.6.4", "Service Unavailable"),
    504: ("https://tools.ietf.org/html/rfc9110#section-15.6.5", "Gateway Timeout"),
}

VALIDATION_TITLE = "One or more validation errors occurred."


class ApiError(Exception):
    """An error that the middleware renders as a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.title = title
        self.headers = headers or {}


def bad_request(
    detail: str, field: str = "", errors: dict[str, list[str]] | None = None
) -> ApiError:
    """Build a 400 whose ASP.NET-style `errors` object keys `detail` by `field` unless given."""
    return ApiError(400, detail, errors=errors if errors is not None else {field: [detail]})


def not_found(detail: str) -> ApiError:
    return ApiError(404, detail)


def problem_body(
    status: int,
    detail: str,
    instance: str,
    *,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict:
    problem_type, default_title = _PROBLEM_TYPES.get(status, ("about:blank", "Error"))
    if title is None:
        title = VALIDATION_TITLE if status == 400 else default_title
    body = {
        "type": problem_type,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if status == 400:
        body["errors"] = errors if errors is not None else {"": [detail]}
    return body


def problem_response(
    status: int,
    detail: str,
    instance: str,
    *,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = problem_body(status, detail, instance, title=title, errors=errors)
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type=PROBLEM_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


def error_response(error: ApiError, instance: str) -> web.Response:
    return problem_response(
        error.status,
        error.detail,
        instance,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
    )


def json_response(data, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def empty_response(status: int = 204) -> web.Response:
    return web.Response(status=status)
