"""What the benchmarks share: where their results go, latency figures, and writing the JSON result."""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SHARED_SCENARIOS = (Path(__file__).resolve().parents[1] / ".." / "shared" / "scenarios").resolve()


def shared_scenarios(pattern: str = "*.yaml") -> list[Path]:
    """The shared scenario files (``../shared/scenarios`` beside the repository) matching ``pattern``, sorted.
    None there: a note on stderr, or under ``CI=true`` an exit with that note (as ``tests/prerequisites.py``
    fails a test): a benchmark in CI never measures less than it names."""
    found = sorted(SHARED_SCENARIOS.glob(pattern)) if SHARED_SCENARIOS.is_dir() else []
    if not found:
        note = f"no shared scenarios {pattern} at {SHARED_SCENARIOS}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            raise SystemExit(f"{note} (CI=true: a missing prerequisite fails the benchmark)")
        print(f"{note}: measuring without them", file=sys.stderr)
    return found


def latency_ms(seconds: list[float], digits: int = 3) -> dict[str, float]:
    """Median, p95 (the value at index ``int(0.95 n)``) and max of durations in seconds, in milliseconds."""
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, digits),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, digits),
        "max_ms": round(ordered[-1] * 1000, digits),
    }


def write_result(path: Path, result: dict[str, Any], *, pretty: bool = False) -> None:
    """Write ``result`` to ``path`` as indented JSON and print it (on one line unless ``pretty``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2 if pretty else None))
