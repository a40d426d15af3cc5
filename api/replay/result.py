"""What replaying one scenario produced: the outcome, what was said, timings, and the audio for reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScenarioResult:
    name: str
    kind: str
    passed: bool = False
    failures: list[str] = field(default_factory=list)
    outcome: dict[str, Any] = field(
        default_factory=lambda: {"status": None, "appointment": None, "summary": ""}
    )
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {speaker, text, start_ms, end_ms}
    turn_latency_ms: list[int] = field(default_factory=list)
    duration_ms: int = 0
    events: list[str] = field(default_factory=list)  # event types, in order
    ended_by: str | None = None  # lisa | party | system
    ids: dict[str, str] = field(default_factory=dict)  # call_sid / request_id / session_id
    server_turns: list[dict[str, Any]] = field(default_factory=list)  # GET /api/calls/{sid} "turns"
    party_lines: list[dict[str, Any]] = field(default_factory=list)  # what the party said (its own record)
    party_turn_ends_ms: list[float] = field(default_factory=list)
    lisa_first_audio_ms: list[float | None] = field(default_factory=list)
    clears_ms: list[float] = field(default_factory=list)
    dtmf_sent: list[str] = field(default_factory=list)  # keys Lisa pressed, one entry per press, in order
    error: str | None = None
    # audio for the stereo WAV (not in the JSON): (ms since stream start, 8 kHz 16-bit PCM)
    party_audio: list[tuple[float, bytes]] = field(default_factory=list, repr=False)
    lisa_audio: list[tuple[float, bytes]] = field(default_factory=list, repr=False)

    def lisa_text(self) -> str:
        return " ".join(t["text"] for t in self.transcript if t.get("speaker") == "lisa")

    def as_json(self) -> dict[str, Any]:
        """The report entry of SCENARIOS.md, plus our extra fields after the required ones."""
        return {
            "name": self.name,
            "passed": self.passed,
            "failures": list(self.failures),
            "outcome": dict(self.outcome),
            "transcript": list(self.transcript),
            "turn_latency_ms": list(self.turn_latency_ms),
            "duration_ms": self.duration_ms,
            "kind": self.kind,
            "events": list(self.events),
            "ended_by": self.ended_by,
            "ids": dict(self.ids),
            "server_turns": list(self.server_turns),
            "party_lines": list(self.party_lines),
            "clears_ms": [round(c) for c in self.clears_ms],
            "dtmf_sent": list(self.dtmf_sent),
            "error": self.error,
        }
