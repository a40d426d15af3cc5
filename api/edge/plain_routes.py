"""Routes documented by FastAPI but served as plain Starlette endpoints, for the hottest paths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.routing import request_response


def serve_plainly(
    router: APIRouter, endpoint: Callable[..., Any], plain: Callable[[Request], Awaitable[Response]]
) -> None:
    """Serve ``endpoint``'s route on ``router`` with ``plain`` (a Starlette endpoint taking the request).

    The route keeps everything FastAPI knows of it (path, parameters, response model: the OpenAPI), but a
    request runs ``plain`` directly, without FastAPI's parameter solving and validation: only for routes
    whose parameters need none (``plain`` reads them from the request itself)."""
    routes = [r for r in router.routes if getattr(r, "endpoint", None) is endpoint]
    if len(routes) != 1:
        raise ValueError(
            f"{endpoint.__name__} is the endpoint of {len(routes)} routes on the router, not one"
        )
    routes[0].app = request_response(plain)  # type: ignore[attr-defined]  # a Route's ASGI app is public
