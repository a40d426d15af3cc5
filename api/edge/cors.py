"""CORS for browser clients (Flutter web, Next.js): the origins of ``CORS_ORIGINS`` (comma-separated, ``*`` =
any; none by default, so no browser page of another site may call the API). Preflights (``OPTIONS`` with
``Access-Control-Request-Method``) are answered here, before body limits and auth; tokens travel as bearer
headers, never cookies, so credentials are not allowed."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from api.settings import ApiSettings

MAX_AGE_S = 600


def allowed_origins(settings: ApiSettings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Add the CORS middleware (outermost: call after the other middlewares) when origins are configured."""
    origins = allowed_origins(settings)
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Accept", "Accept-Language", "X-Request-Id"],
        expose_headers=["Retry-After", "X-Chat-Id", "X-Request-Id"],
        allow_credentials=False,
        max_age=MAX_AGE_S,
    )
