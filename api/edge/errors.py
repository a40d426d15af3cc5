"""One error contract: every error body is JSON.

- ``{"detail": …}`` (FastAPI's shape; 422 ``detail`` is a list of ``{loc, msg, type}``) on every route,
- seed 002's ``{"status": "error", "request_id", "error"}`` on ``POST /api/process-request``,
- an unexpected exception: 500 ``{"detail": "internal error", "error_id"}``; the id and the traceback go to
  the log, never to the client.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from api.edge.database_check import last_check
from api.log_redaction import redact
from api.storage.db import database_unavailable

log = logging.getLogger(__name__)

SEED_002_PATHS = ("/api/process-request",)
# messages after which an answer has begun (an error can no longer replace it)
STARTING = ("http.response.start", "websocket.accept", "websocket.close", "websocket.http.response.start")


def seed_002(path: str) -> bool:
    return path.rstrip("/") in SEED_002_PATHS


def error_body(path: str, message: str, detail: Any = None, **extra: Any) -> dict[str, Any]:
    """The error body for ``path``: seed 002's shape on the request route, else FastAPI's ``detail``."""
    if seed_002(path):
        body: dict[str, Any] = {
            "status": "error",
            "request_id": extra.pop("request_id", None),
            "error": message,
        }
        if detail is not None:
            body["detail"] = detail
        return {**body, **extra}
    extra.pop("request_id", None)
    return {"detail": detail if detail is not None else message, **extra}


def error_response(
    path: str,
    status: int,
    message: str,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(error_body(path, message, detail, **extra), status_code=status, headers=headers)


def new_error_id() -> str:
    return uuid.uuid4().hex[:12]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # registered for it (Starlette types handlers loosely)
    if seed_002(request.url.path):
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return error_response(request.url.path, exc.status_code, message, headers=exc.headers)
    return await http_exception_handler(request, exc)


async def http_error(request: Request, status_code: int, detail: Any) -> Response:
    """The answer an ``HTTPException(status_code, detail)`` raised by the route would get (domain errors'
    handlers answer with it, so their bodies stay exactly those of the HTTP errors they stand for)."""
    return await _http_error(request, StarletteHTTPException(status_code, detail))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # registered for it
    if seed_002(request.url.path):
        errors = exc.errors()
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return error_response(request.url.path, 422, message, detail=errors)
    return await request_validation_exception_handler(request, exc)


EDGE_RESPONSES = {  # what the HTTP edge (api/edge/body_limit.py) may answer to an operation with a body
    "408": {"description": "the body did not arrive within BODY_TIMEOUT_S"},
    "413": {"description": "body larger than MAX_BODY_BYTES (MAX_TWILIO_BODY_BYTES under /twilio)"},
    "415": {"description": "Content-Type is not application/json"},
    "422": {
        "description": "body not valid JSON (too deep, invalid Unicode, NUL); the detail names the field"
    },
}


UNAVAILABLE_RESPONSE = {
    "description": "the database cannot be reached right now (an error body with its error_id, `Retry-After`)"
}


def install(app: FastAPI) -> None:
    """Route-aware handlers for HTTP and validation errors, the catch-all for everything else, and the edge's
    answers in the OpenAPI schema."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(UnexpectedErrors)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path, item in schema.get("paths", {}).items():
                for method, operation in item.items():
                    if method in ("post", "put", "patch") and not path.startswith("/twilio"):
                        responses = operation.setdefault("responses", {})
                        for code, answer in EDGE_RESPONSES.items():
                            responses.setdefault(code, answer)
                    if isinstance(operation, dict) and "responses" in operation:  # any route may need it
                        operation["responses"].setdefault("503", UNAVAILABLE_RESPONSE)
        assert app.openapi_schema is not None  # FastAPI's openapi() keeps the schema it built
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


class UnexpectedErrors:
    """ASGI middleware: an exception nobody handled becomes 500 ``{detail, error_id}`` (a WebSocket is
    closed with 1011 and the id); the log line carries the id and the traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] in STARTING:
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # the one place that answers what nobody else handled
            error_id = new_error_id()
            target = redact(scope.get("path", "") + _query(scope))
            unavailable = database_unavailable(exc)
            if unavailable:
                last_check.forget()  # health checks the database again at once
            if scope["type"] == "http" and not started and unavailable:
                log.warning(
                    "error %s: database unavailable (%s) on %s %s",
                    error_id,
                    type(exc).__name__,
                    scope.get("method"),
                    target,
                )  # 503 and a retry later: nothing of the request was stored (one transaction per change)
                path = scope.get("path", "")
                response = error_response(
                    path, 503, "database unavailable", error_id=error_id, headers={"Retry-After": "5"}
                )
                await response(scope, receive, send)
                return
            log.error(
                "error %s: %s on %s %s",
                error_id,
                type(exc).__name__,
                scope.get("method", "WEBSOCKET"),
                target,
                exc_info=exc,
            )
            body = {"detail": "internal error", "error_id": error_id}
            if scope["type"] == "websocket":
                with contextlib.suppress(Exception):  # the socket may be gone already
                    if not started and "websocket.http.response" in scope.get("extensions", {}):
                        await WebSocket(scope, receive, send).send_denial_response(JSONResponse(body, 500))
                    elif started:
                        await send(
                            {"type": "websocket.close", "code": 1011, "reason": f"internal error {error_id}"}
                        )
                    else:
                        await send({"type": "websocket.close", "code": 1011})
                return
            if started:
                return  # the answer is half sent; the server closes the connection
            path = scope.get("path", "")
            await error_response(path, 500, "internal error", error_id=error_id)(scope, receive, send)


def _query(scope: Scope) -> str:
    query = scope.get("query_string") or b""
    return "?" + query.decode("latin-1") if query else ""
