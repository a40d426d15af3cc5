"""Settings of the replay harness (environment variables and `.env`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReplaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # how the scripted party takes turns
    lisa_replay_settle_s: float = Field(2.0, gt=0)  # Lisa's audio quiet this long = her turn is over
    lisa_replay_reply_timeout_s: float = Field(15.0, gt=0)  # how long the party waits for Lisa to answer
    lisa_replay_linger_s: float = Field(8.0, ge=0)  # after the script: how long to wait for Lisa to hang up
    # `lisa replay --server URL`: a bearer token for deployments with auth on (a Supabase JWT); never logged
    lisa_replay_token: str | None = None
    # the pytest suite (tests/test_replay_suite.py)
    lisa_replay_concurrency: int = Field(4, ge=1)  # scenarios replayed at once
    lisa_replay_report_dir: str | None = None  # keep the suite's reports (WAV, transcript, timeline) here
