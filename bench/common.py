"""What the benchmarks share: where their results go, latency figures, and writing the JSON result."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


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
