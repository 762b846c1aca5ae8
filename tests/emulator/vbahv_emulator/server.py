"""The aiohttp application: the middleware that applies faults, logging and authentication."""

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from vbahv_emulator import api, control
from vbahv_emulator.emulator import Emulator
from vbahv_emulator.errors import ApiError, error_response, problem_response

log = logging.getLogger("vbahv_emulator")

EMULATOR = web.AppKey("emulator", Emulator)

_FAULT_HTML = (
    "<html><head><title>{status} {reason}</title></head><body>"
    "<center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>"
)


def build_app(emu: Emulator) -> web.Application:
    app = web.Application(middlewares=[emulator_middleware], client_max_size=64 * 1024**2)
    app[EMULATOR] = emu
    api.routes.install(app, EMULATOR)
    control.routes.install(app, EMULATOR)
    return app


def _route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


def _body_for_log(request: web.Request, raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text[:2000]


def _bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _separator, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(detail: str) -> ApiError:
    escaped = detail.replace('"', "'")
    return ApiError(
        401,
        detail,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{escaped}"'
        },
    )


def _fault_response(fault, path: str) -> web.Response:
    rule = fault.rule
    status = rule["status"]
    headers = {}
    if rule.get("retryAfter") is not None:
        headers["Retry-After"] = str(rule["retryAfter"])
    kind = rule.get("body") or "problem"
    reason = web.Response(status=status).reason
    if kind == "problem":
        return problem_response(
            status, f"Fault injected by emulator rule {fault.id}.", path, headers=headers
        )
    if kind == "html":
        return web.Response(
            status=status,
            text=_FAULT_HTML.format(status=status, reason=reason),
            content_type="text/html",
            headers=headers,
        )
    if kind == "text":
        return web.Response(
            status=status, text=f"{status} {reason}", content_type="text/plain", headers=headers
        )
    return web.Response(status=status, headers=headers)


async def _dispatch(
    request: web.Request, handler, emu: Emulator, entry: dict | None
) -> web.StreamResponse:
    """Resolve 404 and 405, authenticate when the route needs it, and run the handler."""
    match_error = request.match_info.http_exception
    if match_error is not None:
        headers = {}
        if isinstance(match_error, web.HTTPMethodNotAllowed):
            headers["Allow"] = ", ".join(sorted(match_error.allowed_methods))
            detail = (
                f"The method {request.method} is not allowed for {request.path}; allowed: "
                f"{headers['Allow']}."
            )
        else:
            detail = f"No endpoint matches {request.path}."
        return problem_response(match_error.status, detail, request.path, headers=headers)
    if getattr(request.match_info.handler, "requires_auth", False):
        token_value = _bearer_token(request)
        if token_value is None:
            raise _unauthorized("The Authorization header with a Bearer access token is missing.")
        token, reason = emu.tokens.check_access(token_value)
        if token is None:
            raise _unauthorized(reason)
        request["access_token"] = token
        if entry is not None:
            entry["authenticated"] = True
    return await handler(request)


async def _handle_api(request: web.Request, handler, emu: Emulator) -> web.StreamResponse:
    raw = await request.read()
    query = {name: request.query.getall(name) for name in dict.fromkeys(request.query.keys())}
    entry = emu.log.start(
        request.method,
        request.path,
        query,
        _body_for_log(request, raw),
        request.headers.get("Content-Type"),
    )
    status: int | None = None
    try:
        emu.state.process_due()
        fault = emu.faults.take(request.method, request.path)
        if fault is not None:
            entry["faultId"] = fault.id
            log.info("fault rule %s applies to %s %s", fault.id, request.method, request.path)
            if fault.rule.get("delay"):
                await asyncio.sleep(fault.rule["delay"])
                emu.state.process_due()
            if fault.rule.get("drop"):
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError()
            if fault.rule.get("expireToken"):
                token_value = _bearer_token(request)
                if token_value is not None:
                    emu.tokens.expire(token_value)
            if fault.rule.get("status") is not None:
                response = _fault_response(fault, request.path)
                status = response.status
                return response
        response = await _run(request, handler, emu, entry)
        status = response.status
        return response
    finally:
        emu.log.finish(entry, _route_template(request), status)


async def _run(
    request: web.Request, handler, emu: Emulator, entry: dict | None
) -> web.StreamResponse:
    try:
        return await _dispatch(request, handler, emu, entry)
    except ApiError as error:
        log.info(
            "%s %s rejected with %s: %s", request.method, request.path, error.status, error.detail
        )
        return error_response(error, request.path)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem_response(
            500, "The emulator failed while handling this request; see its log.", request.path
        )


@web.middleware
async def emulator_middleware(request: web.Request, handler) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    if request.path == "/api" or request.path.startswith("/api/"):
        return await _handle_api(request, handler, emu)
    emu.state.process_due()
    return await _run(request, handler, emu, None)
