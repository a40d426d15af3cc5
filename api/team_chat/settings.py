"""Settings of the team chat (environment variables and `.env`); see README "Team chat"."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TeamChatSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # signing key of the access tokens we issue (HS256); unset: a random key kept in the database (table
    # team_secrets), shared by every worker on that database
    team_jwt_secret: str | None = Field(default=None, repr=False)
    team_access_token_ttl_s: int = 900
    team_refresh_token_ttl_s: int = 30 * 24 * 3600
    # Fernet key (cryptography) that encrypts users' Google tokens at rest; unset: /auth/gmail/token answers 409
    team_token_encryption_key: str | None = Field(default=None, repr=False)

    # attempts per minute: per account (email / phone / invite code) and per client address
    team_login_attempts_per_minute: int = 10
    team_client_attempts_per_minute: int = 30
    team_join_attempts_per_minute: int = 20

    # one-time SMS codes: "auto" = Twilio Messages when TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN and
    # TEAM_SMS_FROM (or TWILIO_FROM_NUMBER) are set, else the local outbox; "twilio" | "outbox" force one
    team_sms_provider: str = "auto"
    team_sms_from: str | None = None
    team_code_ttl_s: int = 300
    team_code_max_attempts: int = 5

    # Google: token check and Calendar (Meet) API; the base URLs are overridable for local protocol servers
    google_client_id: str | None = None  # when set, a Google token must have been issued to this client
    google_tokeninfo_url: str = "https://oauth2.googleapis.com/tokeninfo"
    google_calendar_url: str = "https://www.googleapis.com/calendar/v3"
    google_timeout_s: float = 10.0
    # the keyless meeting default: a Jitsi Meet room with an unguessable name
    jitsi_base_url: str = "https://meet.jit.si"

    # Argon2id parameters (argon2-cffi; RFC 9106 "second recommended" memory, tuned down for 2-core servers)
    team_argon2_time_cost: int = 2
    team_argon2_memory_kib: int = 65_536
    team_argon2_parallelism: int = 1

    team_max_message_chars: int = 4000
    team_max_group_members: int = 200
