"""Replay reports: the JSON of SCENARIOS.md, and per scenario a stereo WAV (party left, Lisa right,
time-aligned), the transcript (text and JSON) and a PNG timeline of each turn."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from api.replay.result import ScenarioResult
from api.replay.scenario import Scenario
from api.replay.timeline import draw_timeline
from pipelines.audio import wav_bytes

RATE = 8000


def class_summary(scenarios: list[Scenario], results: list[ScenarioResult]) -> dict[str, dict[str, Any]]:
    """Pass counts per failure class: the scenarios' own ``classes:`` field (a runner extension), sorted."""
    passed = {r.name: r.passed for r in results}
    summary: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        classes = getattr(scenario, "classes", None) or []
        for name in [classes] if isinstance(classes, str) else classes:
            entry = summary.setdefault(str(name), {"passed": 0, "total": 0, "failed": []})
            entry["total"] += 1
            if passed.get(scenario.name):
                entry["passed"] += 1
            else:
                entry["failed"].append(scenario.name)
    return dict(sorted(summary.items()))


def report_json(
    results: list[ScenarioResult], by_class: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "passed": all(r.passed for r in results),
        "scenarios": [r.as_json() for r in results],
    }
    if by_class:
        report["by_class"] = by_class
    return report


def write_json(
    path: str | Path, results: list[ScenarioResult], by_class: dict[str, dict[str, Any]] | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report_json(results, by_class), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _track(chunks: list[tuple[float, bytes]], length: int) -> np.ndarray:
    out = np.zeros(length, dtype=np.int32)
    for at_ms, pcm in chunks:
        samples = np.frombuffer(pcm, dtype=np.int16)
        start = max(0, round(at_ms * RATE / 1000))
        end = min(length, start + samples.size)
        if end > start:
            out[start:end] += samples[: end - start]
    return np.clip(out, -32768, 32767).astype(np.int16)


def stereo_wav(result: ScenarioResult) -> bytes:
    """The whole call as 8 kHz stereo: the party's line (as impaired) left, Lisa's played audio right."""
    ends = [at + len(pcm) / 2 / RATE * 1000 for at, pcm in result.party_audio + result.lisa_audio]
    length = round(max(ends, default=0) * RATE / 1000) + RATE // 10
    left = _track(result.party_audio, length)
    right = _track(result.lisa_audio, length)
    return wav_bytes(np.column_stack([left, right]).tobytes(), RATE, channels=2)


def transcript_text(result: ScenarioResult) -> str:
    lines = [f"# {result.name} ({result.kind}) — {'PASSED' if result.passed else 'FAILED'}"]
    for entry in result.transcript:
        start = entry.get("start_ms")
        stamp = f"{start / 1000:7.2f}s" if isinstance(start, int | float) else "       "
        lines.append(f"{stamp}  {entry.get('speaker', '?'):>5}: {entry.get('text', '')}")
    outcome = result.outcome
    lines.append("")
    lines.append(f"status: {outcome.get('status')}  appointment: {outcome.get('appointment')}")
    if outcome.get("summary"):
        lines.append(f"summary: {outcome['summary']}")
    if result.turn_latency_ms:
        lines.append(f"turn latency (ms): {', '.join(str(ms) for ms in result.turn_latency_ms)}")
    for failure in result.failures:
        lines.append(f"FAILED {failure}")
    return "\n".join(lines) + "\n"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "scenario"


def write_scenario_files(report_dir: str | Path, result: ScenarioResult) -> list[Path]:
    """Write the per-scenario files; returns their paths."""
    folder = Path(report_dir) / safe_name(result.name)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    transcript = folder / "transcript.txt"
    transcript.write_text(transcript_text(result), encoding="utf-8")
    written.append(transcript)
    as_json = folder / "result.json"
    as_json.write_text(json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(as_json)
    if result.kind != "chat" and (result.party_audio or result.lisa_audio):
        wav = folder / "call.wav"
        wav.write_bytes(stereo_wav(result))
        written.append(wav)
    if result.kind != "chat":
        written.append(
            draw_timeline(
                folder / "timeline.png",
                result.name,
                result.server_turns,
                result.party_turn_ends_ms,
                result.lisa_first_audio_ms,
            )
        )
    return written
