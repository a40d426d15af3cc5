"""Settings of the HTTP app (environment variables and `.env`)."""

from __future__ import annotations

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
