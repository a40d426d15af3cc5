"""A PNG timeline of a call's turns: where the time goes between the party's last word and Lisa's first.

Per party turn, one stacked bar from the end of the party's speech (client side): the server's end-of-turn
detection, STT final, first LLM token, first TTS audio and first audio byte sent (from
``GET /api/calls/{sid}`` ``turns``), and the first audio byte the party received (client side). Drawn with
matplotlib by :mod:`api.calls.latency_chart`, the chart the console shows as SVG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.calls.latency_chart import STAGES, render, turn_rows

__all__ = ["STAGES", "draw_timeline", "turn_rows"]


def draw_timeline(
    path: Path,
    title: str,
    server_turns: list[dict[str, Any]],
    party_ends_ms: list[float],
    lisa_first_ms: list[float | None],
) -> Path:
    """Write the timeline PNG to ``path`` and return it."""
    rows = turn_rows(server_turns, party_ends_ms, lisa_first_ms)
    png = render(rows, f"{title}: end of party speech → Lisa's first audio (ms)", "png")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path
