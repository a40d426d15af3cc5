"""Settings of the telephony area: which carrier places calls, Twilio's credentials, webhook and stream checks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TwilioSettings(BaseSettings):
    """Environment variables (and `.env`): ``LISA_TELEPHONY``, ``TWILIO_*``, ``LISA_*STREAM*``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # "loopback": the embedded default (simulated parties on our own media WebSocket); "twilio": real calls.
    lisa_telephony: Literal["loopback", "twilio"] = "loopback"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = Field(default=None, repr=False)
    twilio_from_number: str | None = None  # the Twilio number outbound calls come from (E.164)
    # Refuse webhooks whose X-Twilio-Signature does not match (403). Off only explicitly, for local development.
    twilio_validate_signature: bool = True
    # REST API base URL override (tests point it at tests/fakes/twilio_rest_protocol_server.py).
    twilio_api_base_url: str | None = None
    # Answering-machine detection on outbound calls (AnsweredBy in the status callback).
    twilio_machine_detection: bool = True
    # REST requests: timeout per attempt, and attempts for transient failures (5xx, 429, network).
    twilio_timeout_s: float = 10.0
    twilio_max_attempts: int = 3
    # Seconds the loopback carrier lets a registered party's phone ring before it answers.
    loopback_ring_s: float = 0.0
    # Media streams served at once by this process; more are closed (1013) with a warning.
    lisa_max_streams: int = Field(default=40, ge=1)
    # A media stream that sends no valid ``start`` within this many seconds is closed.
    lisa_stream_start_timeout_s: float = Field(default=5.0, gt=0)
    # Lifetime of the single-use token each call's TwiML carries to its media stream (telephony/stream_tokens.py).
    lisa_stream_token_ttl_s: float = Field(default=300.0, gt=0)
    # LISA_TELEPHONY=twilio refuses to start while AUTH_ENABLED or TWILIO_VALIDATE_SIGNATURE is off, unless
    # this is true (logged loudly at every start): real calls cost money and reach real people.
    lisa_allow_unauthenticated_twilio: bool = False

    @property
    def use_twilio(self) -> bool:
        return self.lisa_telephony == "twilio"
