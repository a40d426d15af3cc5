"""Settings of the dialogue engine (environment variables and `.env`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    lisa_brain: Literal["rule", "llm"] = "rule"
    lisa_language: Literal["en", "de"] = "en"
    lisa_clock: str | None = None  # ISO datetime: Lisa's clock starts there and runs on
    lisa_timezone: str = "Europe/Berlin"
    lisa_business_profile: Path | None = None  # YAML file; default: prompts/business.yaml
    lisa_max_input_chars: int = 1000
    lisa_leave_voicemail: bool = True  # outbound: leave a short message on a mailbox (false: never)
    # phone calls: no first sentence from the LLM brain after this long → the rule brain takes over (0: off)
    lisa_brain_stall_s: float = 2.0

    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_s: float = 15.0
    openai_max_retries: int = 3
    openai_requests_per_minute: float = 0  # 0 = no client-side limit; seed 001 free tier: 15
    openai_max_history_messages: int = 40  # user/assistant messages sent per request (the most recent)
    openai_max_tool_rounds: int = 4  # tool-call rounds per reply before the model must answer in text
    openai_backoff_base_s: float = 0.5  # first retry waits ~this long, doubling per retry (with jitter)
    openai_backoff_max_s: float = 8.0  # cap of one backoff wait
    openai_max_retry_after_s: float = 20.0  # a longer Retry-After hands the turn to the rule brain at once
    # Gemini through its OpenAI-compatible endpoint (seeds 000/001): used when GEMINI_API_KEY is set and
    # OPENAI_API_KEY is not; GEMINI_BASE_URL is overridable (tests: the OpenAI protocol server)
    gemini_api_key: str | None = None
    gemini_model: str = "gemini-2.0-flash"
    gemini_base_url: str = "https://generativelanguage.googleapis.com/v1beta/openai/"

    def llm_endpoint(self) -> tuple[str | None, str | None, str]:
        """(api key, base URL or None for OpenAI's, model) of the LLM brain: OpenAI's settings, or Gemini's
        when only ``GEMINI_API_KEY`` is set."""
        if self.gemini_api_key and not self.openai_api_key:
            return self.gemini_api_key, self.gemini_base_url, self.gemini_model
        return self.openai_api_key, self.openai_base_url, self.openai_model
