"""Benchmark: how long the rule brain takes per turn (engine + tools + date parsing, no audio).

Replays the party lines of the shared scenarios and a few extra conversations (en + de, inbound, chat and
outbound) through a fresh Engine each round and times every turn from text in to the last sentence out.
Prints one JSON object and writes it to ``bench/results/rule_brain.json``.

    .venv/bin/python -m bench.rule_brain [--rounds 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.common import RESULTS_DIR, latency_ms, write_result

RESULTS = RESULTS_DIR / "rule_brain.json"
CLOCK = "2026-11-23T09:15:00+01:00"
REQUEST = {
    "request_id": "bench",
    "user_id": "bench",
    "title": "Book a dental cleaning",
    "description": "I need an appointment for a dental cleaning",
    "callback_number": "+49 30 1234567",
    "number_to_call": "+49 30 7654321",
    "preferred_time": "next week, Monday 10-12",
    "user_profile": {"username": "Max Mustermann"},
}
CONVERSATIONS: list[tuple[str, str, list[str]]] = [
    ("chat", "de", ["Hallo, ich möchte einen Termin vereinbaren.", "Am Mittwoch um 15 Uhr, wenn das geht.",
                    "Mein Name ist Erika Musterfrau.", "Ja, passt. Danke, tschüss!"]),
    ("inbound", "en", ["Hi, when are you open on Saturday?", "Okay, thanks. That's all, bye."]),
    ("inbound", "en", ["i need an appointment", "tomorrow", "at 4", "jo march", "no thanks bye"]),
    ("outbound", "en", ["Good morning, Miller dental practice, how can I help you?",
                        "Let me check. Next Monday at half past ten would be free.",
                        "And the name of the patient, please?",
                        "Alright, Monday at ten thirty. See you then, goodbye."]),
    ("outbound", "en", ["Salon Schmidt, hello?", "I'm sorry, we are fully booked this week. Please call again next week.",
                        "Yes, bye."]),
]  # fmt: skip


async def _round(timings: dict[str, list[float]]) -> None:
    from agent.business import load_business
    from agent.calendar import InMemoryCalendar
    from agent.clock import Clock
    from agent.conversation import BookingRequest
    from agent.engine import Engine
    from agent.rule_brain import RuleBrain

    engine = Engine(RuleBrain(), load_business(), Clock(CLOCK), InMemoryCalendar())
    for mode, lang, lines in CONVERSATIONS:
        request = BookingRequest(**REQUEST) if mode == "outbound" else None
        conv = engine.new_conversation(mode, lang, request=request)
        started = time.perf_counter()
        await engine.reply(conv, None)
        timings["opening"].append(time.perf_counter() - started)
        for line in lines:
            started = time.perf_counter()
            await engine.reply(conv, line)
            timings[mode].append(time.perf_counter() - started)


def _stats(values: list[float]) -> dict[str, float]:
    return {"turns": len(values), **latency_ms(values)}


def run(rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    import agent.rule_brain
    import agent.when  # noqa: F401

    imported = time.perf_counter() - started
    first: dict[str, list[float]] = {"opening": [], "chat": [], "inbound": [], "outbound": []}
    started = time.perf_counter()
    asyncio.run(_round(first))
    cold = time.perf_counter() - started
    timings: dict[str, list[float]] = {"opening": [], "chat": [], "inbound": [], "outbound": []}
    for _ in range(rounds):
        asyncio.run(_round(timings))
    return {
        "benchmark": "rule_brain",
        "rounds": rounds,
        "import_ms": round(imported * 1000, 1),
        "first_round_ms": round(cold * 1000, 1),
        "turn": {kind: _stats(values) for kind, values in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    result = run(args.rounds)
    write_result(RESULTS, result)


if __name__ == "__main__":
    main()
