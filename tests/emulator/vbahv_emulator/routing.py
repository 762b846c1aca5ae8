"""Route declarations with their query parameters and body model, and the checks around them.

Every endpoint declares the query parameters it accepts and either a JSON body model, a form
body or no body. The wrapper rejects anything else with a 400 before the handler runs.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from pydantic import BaseModel, ValidationError

from vbahv_emulator.emulator import Emulator
from vbahv_emulator.errors import bad_request
from vbahv_emulator.models import validation_error
from vbahv_emulator.query import Param, parse_query

JSON_CONTENT_TYPES = ("application/json", "text/json")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass
class Context:
    request: web.Request
    emu: Emulator
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    @property
    def state(self):
        return self.emu.state

    def path_param(self, name: str) -> str:
        return self.request.match_info[name]


Handler = Callable[[Context], web.StreamResponse]


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    query: dict[str, Param]
    body: type[BaseModel] | None
    form: bool
    auth: bool
    # An empty body stands for `{}`; used by control routes whose fields all have defaults.
    empty_body_ok: bool


class RouteTable:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Param] | None = None,
        body: type[BaseModel] | None = None,
        form: bool = False,
        auth: bool = True,
        empty_body_ok: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method, path, handler, query or {}, body, form, auth, empty_body_ok)
            )
            return handler

        return register

    def install(self, app: web.Application, emu_key: web.AppKey) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _wrap(endpoint, emu_key))


def _wrap(endpoint: Endpoint, emu_key: web.AppKey):
    async def handle(request: web.Request) -> web.StreamResponse:
        context = Context(request, request.app[emu_key])
        context.query = parse_query(request.query, endpoint.query)
        raw = await request.read()
        if endpoint.form:
            context.body = parse_form(request, raw)
        elif endpoint.body is not None and endpoint.empty_body_ok and not raw.strip():
            context.body = endpoint.body()
        elif endpoint.body is not None:
            context.body = parse_json_body(request, raw, endpoint.body)
        elif raw:
            raise bad_request("This endpoint does not take a request body.", "body")
        return endpoint.handler(context)

    handle.requires_auth = endpoint.auth  # read by the middleware
    return handle


def parse_json_body(request: web.Request, raw: bytes, model: type[BaseModel]) -> BaseModel:
    content_type = request.content_type.lower()
    if content_type not in JSON_CONTENT_TYPES and not (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        raise bad_request(
            "The request body must be application/json, got "
            f"'{request.headers.get('Content-Type', '')}'.",
            "Content-Type",
        )
    if not raw.strip():
        raise bad_request("A non-empty request body is required.", "body")
    try:
        json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}.", "body") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_error(exc, model.__name__) from None


def parse_form(request: web.Request, raw: bytes) -> dict[str, str]:
    """Parse an application/x-www-form-urlencoded body. A repeated field is a 400."""
    if request.content_type.lower() != FORM_CONTENT_TYPE:
        raise bad_request(
            f"The request body must be {FORM_CONTENT_TYPE}, got "
            f"'{request.headers.get('Content-Type', '')}'.",
            "Content-Type",
        )
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad_request(f"The form body is malformed: {exc}.", "body") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise bad_request(f"The form field '{name}' is given more than once.", name)
        form[name] = value
    return form
