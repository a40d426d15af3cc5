"""Checks a scenario's ``expect:`` block against what the replay produced; one message per unmet key."""

from __future__ import annotations

from api.replay.result import ScenarioResult
from api.replay.scenario import Expect

_SHOWN = 160  # characters of what Lisa said shown in a failure


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def check(expect: Expect, result: ScenarioResult, *, voice: bool = True, latency: bool = True) -> list[str]:
    """Every unmet expectation with what was seen (empty when all hold). ``voice=False`` (chat) skips
    the audio-only keys; ``latency=False`` only requires that turn latencies were measured (for test
    runs on shared machines, where speed is not measured: see ``bench/``)."""
    failures: list[str] = []
    outcome = result.outcome
    if expect.status is not None and outcome.get("status") != expect.status:
        failures.append(f"status: expected {expect.status!r}, got {outcome.get('status')!r}")
    if expect.appointment is not None and outcome.get("appointment") != expect.appointment:
        failures.append(f"appointment: expected {expect.appointment!r}, got {outcome.get('appointment')!r}")
    for event in expect.events_include:
        if event not in result.events:
            failures.append(
                f"events_include: no {event!r} event (events: {', '.join(result.events) or 'none'})"
            )
    said = result.lisa_text()
    said_lower = said.casefold()
    for phrase in expect.lisa_says:
        if phrase.casefold() not in said_lower:
            failures.append(f"lisa_says: Lisa never said {phrase!r} (she said: {_short(said)!r})")
    for phrase in expect.lisa_never_says:
        if phrase.casefold() in said_lower:
            failures.append(f"lisa_never_says: Lisa said {phrase!r} (she said: {_short(said)!r})")
    summary = str(outcome.get("summary") or "")
    for phrase in expect.summary_contains:
        if phrase.casefold() not in summary.casefold():
            failures.append(f"summary_contains: summary lacks {phrase!r} (summary: {_short(summary)!r})")
    if expect.max_turn_latency_ms is not None and voice:
        limit = expect.max_turn_latency_ms
        if not result.turn_latency_ms:
            failures.append(f"max_turn_latency_ms: no turn latency measured (limit {limit:g} ms)")
        slow = [(i, ms) for i, ms in enumerate(result.turn_latency_ms) if ms > limit and latency]
        if slow:
            shown = ", ".join(f"turn {i + 1}: {ms} ms" for i, ms in slow)
            failures.append(f"max_turn_latency_ms: {len(slow)} turn(s) over {limit:g} ms ({shown})")
    if expect.lisa_interrupted is not None and voice:
        cleared = bool(result.clears_ms)
        if cleared != expect.lisa_interrupted:
            seen = f"{len(result.clears_ms)} clear(s)" if cleared else "no clear"
            failures.append(f"lisa_interrupted: expected {expect.lisa_interrupted}, saw {seen}")
    if expect.dtmf_sent is not None and voice and "".join(result.dtmf_sent) != "".join(expect.dtmf_sent):
        failures.append(f"dtmf_sent: expected {expect.dtmf_sent}, Lisa pressed {result.dtmf_sent}")
    if expect.ended_by is not None and result.ended_by != expect.ended_by:
        failures.append(f"ended_by: expected {expect.ended_by!r}, got {result.ended_by!r}")
    return failures
