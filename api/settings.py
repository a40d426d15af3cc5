"""Settings of the HTTP app (environment variables and `.env`)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None  # e.g. https://lisa.example.com (used in TwiML stream URLs)
    database_url: str = "sqlite:///lisa-data/lisa.db"
    log_level: str = "INFO"
    # processes serving the one port (calls spread over their event loops; see README "Several workers")
    lisa_workers: int = 1

    auth_enabled: bool = False
    supabase_jwt_secret: str | None = None
    supabase_url: str | None = None
    supabase_service_key: str | None = None
    # Supabase's asymmetric user-token keys (ES256/RS256): default SUPABASE_URL/auth/v1/.well-known/jwks.json
    supabase_jwks_url: str | None = None
    jwt_audience: str = "authenticated"  # the `aud` every token must carry (users and the service role)
    # browser origins allowed on WebSockets (and CORS), comma-separated; the app's own origin always is
    cors_origins: str = ""

    rate_limit_per_minute: int = 100
    max_message_chars: int = 2000
    # names users may not chat under beside Lisa, the staff roles and the business name (comma-separated)
    chat_reserved_names: str = ""
    session_idle_timeout_s: float = 3600.0
    session_sweep_interval_s: float = 60.0  # how often idle chat sessions are looked for (0 = only on access)

    # the HTTP edge (api/edge/body_limit.py, api/edge/http_protocol.py, `lisa serve`)
    max_body_bytes: int = 1_048_576  # request bodies of the API; larger -> 413 before anything is parsed
    max_twilio_body_bytes: int = 65_536  # Twilio webhooks under /twilio
    body_timeout_s: float = 15.0  # a body must arrive within this (else 408)
    header_timeout_s: float = 10.0  # a request's headers must arrive within this (else the connection closes)
    keep_alive_timeout_s: int = 5  # idle keep-alive connections are closed after this
    # uvicorn's event loop. The standard library's serves every connection in turn; with uvloop a saturated
    # process left a few connections waiting seconds (README, "The HTTP edge")
    event_loop: Literal["asyncio", "uvloop"] = "asyncio"
    limit_concurrency: int = 1000  # connections + tasks per process before uvicorn answers 503 (0 = no limit)
    ws_max_message_bytes: int = 1_048_576  # a larger WebSocket message closes the socket (1009)
    # /docs, /redoc, /openapi.json: auto (public with auth off, off with auth on) | public | auth | off
    api_docs: str = "auto"
