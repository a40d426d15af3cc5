"""Settings of the operator console (environment variables and `.env`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    console_session_hours: float = 12.0  # a sign-in lasts this long (then the operator signs in again)
    console_sample_s: float = 0.25  # how often the calls running in this process are looked at for new lines
    lisa_recording_dir: str | None = None  # the call recordings the console may play (LISA_RECORDING_DIR)
