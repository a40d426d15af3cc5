"""Run a replay scenario's ``say`` lines through the Engine as a text conversation (no audio).

The replay runner does the same over real audio; this checks the dialogue itself: the party's lines go
to :meth:`agent.engine.Engine.respond` in order, with the scenario's clock, and the expectations that make
sense without audio (status, appointment, lisa_says/never_says, summary, events, ended_by) are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from doubles.conversations import rule_engine
from prerequisites import SHARED_SCENARIOS

from agent.calendar import InMemoryCalendar
from agent.clock import Clock
from agent.conversation import BookingRequest, Conversation
from agent.engine import Engine

SCENARIOS = SHARED_SCENARIOS  # ../shared/scenarios beside the repository
# events the call layer adds around an outbound conversation (not the engine's business)
CALL_EVENTS = {"request_received", "call_started", "call_connected", "call_completed", "scheduled"}


@dataclass
class TextRun:
    conv: Conversation
    transcript: list[tuple[str, str]] = field(default_factory=list)  # (speaker, text)
    ended_by: str | None = None

    @property
    def lisa_text(self) -> str:
        return " ".join(text for speaker, text in self.transcript if speaker == "lisa")


def load_scenario(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        path = SCENARIOS / path
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def engine_for(scenario: dict[str, Any], calendar: InMemoryCalendar | None = None) -> Engine:
    clock = Clock(scenario["clock"], scenario.get("timezone", "Europe/Berlin"))
    return rule_engine(clock, calendar or InMemoryCalendar())


async def run_text(scenario: dict[str, Any], engine: Engine | None = None) -> TextRun:
    """Feed the party's ``say`` lines to Lisa; ``silence_ms``/``audio`` turns are skipped, ``hangup`` ends."""
    engine = engine or engine_for(scenario)
    request = BookingRequest(**scenario["request"]) if scenario.get("request") else None
    conv = engine.new_conversation(scenario["kind"], scenario.get("language", "en"), request=request)
    run = TextRun(conv)
    opening = [s async for s in engine.opening(conv)]
    if opening:
        run.transcript.append(("lisa", " ".join(opening)))
    for turn in scenario.get("party") or []:
        if conv.end_requested:
            break
        if turn.get("hangup"):
            run.ended_by = "party"
            break
        if "say" not in turn:
            continue
        run.transcript.append(("party", str(turn["say"])))
        reply = [s async for s in engine.respond(conv, str(turn["say"]))]
        run.transcript.append(("lisa", " ".join(reply)))
    if conv.end_requested and run.ended_by is None:
        run.ended_by = "lisa"
    return run


def failures(scenario: dict[str, Any], run: TextRun) -> list[str]:
    """The expectations of the scenario that do not hold for this text run (empty = passed)."""
    expect = scenario.get("expect") or {}
    outcome = run.conv.outcome.as_dict()
    said = run.lisa_text.lower()
    out: list[str] = []
    if "status" in expect and outcome["status"] != expect["status"]:
        out.append(f"status {outcome['status']!r} != {expect['status']!r}")
    if "appointment" in expect and outcome["appointment"] != expect["appointment"]:
        out.append(f"appointment {outcome['appointment']!r} != {expect['appointment']!r}")
    for phrase in expect.get("lisa_says") or []:
        if phrase.lower() not in said:
            out.append(f"Lisa never said {phrase!r}")
    for phrase in expect.get("lisa_never_says") or []:
        if phrase.lower() in said:
            out.append(f"Lisa said {phrase!r}")
    for phrase in expect.get("summary_contains") or []:
        if phrase.lower() not in outcome["summary"].lower():
            out.append(f"summary {outcome['summary']!r} lacks {phrase!r}")
    types = {e.type for e in run.conv.events}
    for event in expect.get("events_include") or []:
        if event not in CALL_EVENTS and event not in types:
            out.append(f"event {event!r} missing (got {sorted(types)})")
    if "ended_by" in expect and run.ended_by != expect["ended_by"]:
        out.append(f"ended_by {run.ended_by!r} != {expect['ended_by']!r}")
    return out
