"""Settings of outbound booking requests (environment variables and `.env`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class RequestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # business hours of the businesses Lisa calls (seed 002: Mo-Fr 08:00-18:00, no public holidays)
    business_timezone: str = "Europe/Berlin"
    business_open: str = "08:00"
    business_close: str = "18:00"
    business_days: str = "0,1,2,3,4"  # Python weekdays, 0 = Monday
    business_holidays_country: str = "DE"
    business_holidays_subdiv: str | None = "BE"

    # placing calls
    outbound_max_attempts: int = 3  # busy / no answer / voicemail: retried until this many calls were made
    outbound_retry_delay_s: float = 900.0
    outbound_max_concurrent_calls: int = 2  # per server instance
    # hard limit; the voice pipeline already ends calls politely after LISA_MAX_CALL_S (600 s)
    outbound_max_call_duration_s: float = 660.0
    outbound_call_language: str | None = None  # force "en"/"de" for the call; default: the request's language

    # who may be dialled (api/requests/dial_policy.py) and how often (rolling 24 h, counted in the database)
    # countries calls may go to: ISO codes, comma-separated; empty = the business's country; * = any
    outbound_allowed_countries: str = ""
    outbound_deny_numbers: str = ""  # numbers or prefixes never called, comma-separated
    outbound_max_requests_per_user_per_day: int = 20  # 0 = no limit
    outbound_max_requests_per_number_per_day: int = 10  # requests to call the same number; 0 = no limit

    # durable scheduling and the Supabase outbox
    scheduler_poll_s: float = 1.0
    scheduler_claim_timeout_s: float = 900.0  # a claim older than this (crashed instance) may be taken over
    outbox_retry_s: float = 2.0
    supabase_timeout_s: float = 10.0
    outbox_max_rejections: int = 5  # an entry Supabase keeps rejecting as bad data is set aside after this
