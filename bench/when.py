"""Benchmark: how long ``agent.when.parse_when`` takes per utterance (en + de).

Measures the first call in a fresh process that needs dateparser (a month name: it loads its language
data), then, warm, phrases without a month name (pure regex path), phrases with one (dateparser path) and
texts holding no date at all. Prints one JSON object and writes it to ``bench/results/when.json``.

    .venv/bin/python -m bench.when [--rounds 200]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import RESULTS_DIR, latency_ms, write_result

RESULTS = RESULTS_DIR / "when.json"
NOW = datetime(2026, 11, 23, 9, 15, tzinfo=ZoneInfo("Europe/Berlin"))

SPOKEN = [
    ("en", "Let me check. Next Monday at half past ten would be free."),
    ("en", "tomorrow at 4 pm"),
    ("en", "next week, Monday 10-12"),
    ("en", "this Friday afternoon"),
    ("en", "Alright, Monday at ten thirty. See you then, goodbye."),
    ("de", "Am Mittwoch um 15 Uhr, wenn das geht."),
    ("de", "nächste Woche Dienstag vormittags"),
    ("de", "nächsten Montag zwischen 10 und 12 Uhr"),
    ("de", "Viertel vor drei"),
    ("de", "um zehn Uhr dreißig"),
]
CALENDAR = [
    ("en", "December 2nd at 9:30"),
    ("en", "the 2nd of December"),
    ("de", "am 2. Dezember um 9:30"),
    ("de", "Montag, den 30. November um 10:30 Uhr"),
]
NOTHING = [
    ("en", "Hi, I'd like an appointment for a dental cleaning, please."),
    ("en", "My name is Max Mustermann."),
    ("de", "Ja, passt. Danke, tschüss!"),
    ("de", "Guten Morgen, Praxis Müller, wie kann ich Ihnen heute helfen?"),
]


def _time(parse: Any, phrases: list[tuple[str, str]], rounds: int) -> list[float]:
    took = []
    for _ in range(rounds):
        for language, text in phrases:
            started = time.perf_counter()
            parse(text, NOW, language)
            took.append(time.perf_counter() - started)
    return took


def run(rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    from agent.when import parse_when

    imported = time.perf_counter() - started
    started = time.perf_counter()
    parse_when("December 2nd at 9:30", NOW, "en")
    cold = time.perf_counter() - started
    parse_when("am 2. Dezember", NOW, "de")  # the second language's data
    return {
        "benchmark": "when",
        "rounds": rounds,
        "import_ms": round(imported * 1000, 1),
        "first_call_with_month_name_ms": round(cold * 1000, 1),
        "spoken_phrases": latency_ms(_time(parse_when, SPOKEN, rounds)),
        "calendar_dates": latency_ms(_time(parse_when, CALENDAR, rounds)),
        "no_date": latency_ms(_time(parse_when, NOTHING, rounds)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    result = run(args.rounds)
    write_result(RESULTS, result)


if __name__ == "__main__":
    main()
