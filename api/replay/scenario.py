"""Scenario files (../shared/SCENARIOS.md): the model and the loader.

Every field of SCENARIOS.md is accepted, unknown fields are kept (runners may add their own), and an invalid
file raises :class:`ScenarioError` naming the file and the field. Our extensions:

- party turn ``dtmf: "0"`` — the party presses keys (Twilio ``dtmf`` messages; ``w`` pauses 0.5 s),
- party turn ``hangup: true`` in a chat — the user leaves (the session is ended),
- ``channel.seed`` — the seed of the impairments' RNG (default 0: reproducible),
- ``cancel_after_ms`` (outbound) — cancel the request that long after posting it,
- ``answer: false`` (outbound) — nobody picks up (the loopback carrier reports ``no-answer``),
- ``timeout_s`` — how long the runner waits for the conversation to end (default 90),
- ``settings`` — Lisa's settings for this scenario (``AgentSettings``/``VoiceSettings`` fields, e.g.
  ``lisa_hold_max_s: 20``, ``lisa_leave_voicemail: false``),
- ``expect.lisa_interrupted: true`` — Lisa stopped talking for a barge-in (a Twilio ``clear`` arrived).

SCENARIOS.md's ``answered_by`` (what answering-machine detection reports; the loopback carrier reports it),
party turn ``expect_dtmf`` and ``expect.dtmf_sent`` are supported as specified.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulation.impairments import Channel
from simulation.scripted_party import PartyTurn


class ScenarioError(ValueError):
    """A scenario file that cannot be replayed (the message names the file and the field)."""


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    snr_db: float | None = None
    drop_rate: float = Field(default=0.0, ge=0.0, lt=1.0)
    jitter_ms: int = Field(default=0, ge=0, le=200)
    seed: int = 0

    def channel(self) -> Channel:
        return Channel(snr_db=self.snr_db, drop_rate=self.drop_rate, jitter_ms=self.jitter_ms, seed=self.seed)


class Expect(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str | None = None
    appointment: str | None = None
    events_include: list[str] = Field(default_factory=list)
    lisa_says: list[str] = Field(default_factory=list)
    lisa_never_says: list[str] = Field(default_factory=list)
    summary_contains: list[str] = Field(default_factory=list)
    max_turn_latency_ms: float | None = Field(default=None, gt=0)
    ended_by: Literal["lisa", "party"] | None = None
    # runner extension: Lisa was interrupted at least once (she received a barge-in and sent a clear)
    lisa_interrupted: bool | None = None
    dtmf_sent: list[str] | None = None  # keys Lisa pressed during the call, in order

    @field_validator("dtmf_sent", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if value is None:
            return value
        keys = [value] if isinstance(value, str | int) else value
        if not isinstance(keys, list) or not all(re.fullmatch(r"[0-9*#]+", str(k)) for k in keys):
            raise ValueError(f"must be a list of keys ('0'-'9', '*', '#'), got {value!r}")
        return [str(k) for k in keys]

    @field_validator("appointment")
    @classmethod
    def _local_minute(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.strptime(value, "%Y-%m-%dT%H:%M")
            except ValueError:
                raise ValueError(f"must be a local time 'YYYY-MM-DDTHH:MM', got {value!r}") from None
        return value

    @field_validator("events_include", "lisa_says", "lisa_never_says", "summary_contains", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    kind: Literal["outbound", "inbound", "chat"]
    language: Literal["en", "de"] = "en"
    clock: str | None = None
    timezone: str = "Europe/Berlin"
    request: dict[str, Any] | None = None
    party: list[PartyTurn] = Field(default_factory=list)
    channel: ChannelSpec | None = None
    answered_by: Literal[
        "human",
        "machine_start",
        "machine_end_beep",
        "machine_end_silence",
        "machine_end_other",
        "fax",
        "unknown",
    ] = "human"
    expect: Expect = Field(default_factory=Expect)
    # runner extensions
    cancel_after_ms: int | None = Field(default=None, ge=0)
    answer: bool = True
    timeout_s: float = Field(default=90.0, gt=0)
    # Lisa's settings for this scenario (AgentSettings / VoiceSettings fields, e.g. lisa_hold_max_s: 20)
    settings: dict[str, Any] = Field(default_factory=dict)
    # where the file is (audio paths are relative to it); set by the loader
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("clock")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"must be an ISO datetime, got {value!r}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("settings")
    @classmethod
    def _known_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        from agent.settings import AgentSettings
        from pipelines.settings import VoiceSettings

        known = set(AgentSettings.model_fields) | set(VoiceSettings.model_fields)
        unknown = sorted(k for k in value if k not in known)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(unknown)} (AgentSettings or VoiceSettings fields)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.kind == "outbound":
            if not self.request:
                raise ValueError(
                    "an outbound scenario needs a 'request' (the body of POST /api/process-request)"
                )
            missing = [k for k in ("request_id", "number_to_call") if not self.request.get(k)]
            if missing:
                raise ValueError(f"request: missing {', '.join(missing)}")
        if self.kind == "chat" and not any(t.say for t in self.party):
            raise ValueError("a chat scenario needs at least one 'say' line in 'party'")
        return self

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def first_speaker(self) -> Literal["lisa", "party"]:
        return "party" if self.kind == "outbound" else "lisa"


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def parse_scenario(data: Any, source: str = "<scenario>", path: Path | None = None) -> Scenario:
    """Validate one scenario mapping; :class:`ScenarioError` lists every problem with its field."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a YAML mapping, got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        )
        raise ScenarioError(f"{source}: {problems}") from None
    scenario.path = path
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    scenario = parse_scenario(data, str(path), path.resolve())
    for i, turn in enumerate(scenario.party):
        if turn.audio is not None and scenario.kind != "chat":
            audio = Path(turn.audio)
            audio = audio if audio.is_absolute() else scenario.base_dir / audio
            if not audio.is_file():
                raise ScenarioError(f"{path}: party[{i}].audio: file not found: {audio}")
    return scenario


def load_scenarios(paths: list[str | Path]) -> list[Scenario]:
    """Load every file; names must be unique. Raises :class:`ScenarioError` with all problems at once."""
    scenarios: list[Scenario] = []
    errors: list[str] = []
    for p in paths:
        try:
            scenarios.append(load_scenario(p))
        except ScenarioError as exc:
            errors.append(str(exc))
    seen: dict[str, Path | None] = {}
    for s in scenarios:
        if s.name in seen:
            errors.append(f"{s.path}: name {s.name!r} is also used by {seen[s.name]}")
        seen[s.name] = s.path
    if errors:
        raise ScenarioError("\n".join(errors))
    return scenarios
