"""Benchmark: turn latency of replayed calls, end to end on the embedded default, one call and N at once.

Replays voice scenarios through the real runner (in-process app, Twilio media WebSocket, real-time audio)
and reports the client-side turn latency (end of the party's speech -> first audio byte from Lisa) and the
server's stage breakdown per turn (end of turn detected, STT final, first LLM token, first TTS audio, first
byte sent; ms after the detected end of the turn). Prints one JSON object and writes it to
``bench/results/replay.json``.

    .venv/bin/python -m bench.replay [--concurrency 1 3] [FILE...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, write_result

RESULTS = RESULTS_DIR / "replay.json"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = [
    ROOT / "tests" / "scenarios" / "inbound_book_en.yaml",
    ROOT / "tests" / "scenarios" / "inbound_hours_answered.yaml",
    ROOT / "tests" / "scenarios" / "outbound_booked_physio.yaml",
]
STAGES = ("stt_final_ms", "llm_first_ms", "tts_first_ms", "first_audio_out_ms")


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "median": round(statistics.median(values)),
        "p95": round(p95),
        "max": round(max(values)),
    }


async def _round(files: list[Path], concurrency: int) -> dict[str, Any]:
    from api.replay.runner import replay_all
    from api.replay.scenario import load_scenarios

    base = load_scenarios(files)
    scenarios = [s.model_copy(deep=True) for _ in range(concurrency) for s in base]
    for i, s in enumerate(scenarios):  # the same scenarios N times at once (each call has its own app)
        s.name = f"{s.name}#{i}"
    started = time.monotonic()
    results = await replay_all(scenarios, concurrency=concurrency)
    wall = time.monotonic() - started
    latencies = [ms for r in results for ms in r.turn_latency_ms if ms >= 50]  # < 50: Lisa already talking
    stages: dict[str, list[float]] = {k: [] for k in STAGES}
    for r in results:
        for turn in r.server_turns:
            end = turn.get("user_end_ms")
            if not isinstance(end, int | float):
                continue
            for key in STAGES:
                if isinstance(turn.get(key), int | float):
                    stages[key].append(turn[key] - end)
    return {
        "concurrency": concurrency,
        "calls": len(results),
        "passed": sum(r.passed for r in results),
        "wall_s": round(wall, 1),
        "turn_latency_ms": _stats(latencies),
        "server_stage_ms_after_turn_end": {k: _stats(v) for k, v in stages.items()},
    }


async def main(files: list[Path], levels: list[int]) -> dict[str, Any]:
    rounds = [await _round(files, n) for n in levels]
    return {
        "benchmark": "replay",
        "scenarios": [f.name for f in files],
        "cpu_count": os.cpu_count(),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "rounds": rounds,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 3])
    args = parser.parse_args()
    from api.replay.cli import _quiet_pipecat

    _quiet_pipecat()
    report = asyncio.run(main(args.files, args.concurrency))
    write_result(RESULTS, report, pretty=True)
