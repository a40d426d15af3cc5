"""The per-turn latency chart of a call, drawn with matplotlib (Agg): one stacked horizontal bar per turn
from the end of the party's speech through the server's stages (end of turn detected, STT final, first LLM
token, first TTS audio, first byte sent, from a call record's ``turns``), optionally the first audio the
party heard (client side, the replay runner's). PNG for the replay reports, SVG for the console.

matplotlib is imported inside :func:`render` so the app does not pay for it at start-up; callers in the
event loop run it in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import io
import threading
from typing import Any, Literal

# (key in a server turn, label, colour of the segment ending there)
STAGES = (
    ("user_end_ms", "end of turn detected", "#c8c8c8"),
    ("stt_final_ms", "STT final", "#5b8def"),
    ("llm_first_ms", "first LLM token", "#f0ad4e"),
    ("tts_first_ms", "first TTS audio", "#5cb85c"),
    ("first_audio_out_ms", "first byte sent", "#9966cc"),
)
CLIENT_COLOUR = "#787878"
WIDTH_IN, DPI = 9.0, 100  # 900 px wide
_LOCK = threading.Lock()  # matplotlib's rcParams and font cache are process-wide


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _nearest(server_turns: list[dict[str, Any]], end_ms: float) -> dict[str, Any]:
    """The server turn whose detected end is nearest the party's end of speech (within -1.5 s .. +3 s)."""
    best: dict[str, Any] = {}
    best_gap = float("inf")
    for turn in server_turns:
        user_end = _num(turn.get("user_end_ms"))
        if user_end is None or not -1500 <= user_end - end_ms <= 3000:
            continue
        if abs(user_end - end_ms) < best_gap:
            best, best_gap = turn, abs(user_end - end_ms)
    return best


def turn_rows(
    server_turns: list[dict[str, Any]],
    party_ends_ms: list[float] | None = None,
    lisa_first_ms: list[float | None] | None = None,
) -> list[dict[str, Any]]:
    """One row per party turn, in ms after the party stopped speaking: the server's stages (the server turn
    nearest in time; both sides count from the stream start) and the first audio the party heard. Without
    client timing, one row per server turn from its detected end of speech."""
    heard_at = lisa_first_ms or []
    ends = party_ends_ms or []
    if not ends:
        ends = [t["user_end_ms"] for t in server_turns if _num(t.get("user_end_ms")) is not None]
        heard_at = []
    rows: list[dict[str, Any]] = []
    for i, end in enumerate(ends):
        server = _nearest(server_turns, end)
        stages = []
        for key, label, colour in STAGES:
            at = _num(server.get(key))
            if at is not None:
                stages.append((label, at - end, colour))
        heard = heard_at[i] if i < len(heard_at) else None
        rows.append(
            {
                "turn": i + 1,
                "stages": stages,
                "heard_ms": None if heard is None else heard - end,
                "latency_ms": _num(server.get("latency_ms")),
            }
        )
    return rows


def render(
    rows: list[dict[str, Any]], title: str, fmt: Literal["png", "svg"], width_in: float = WIDTH_IN
) -> bytes:
    """The chart of ``rows`` (from :func:`turn_rows`) as PNG or SVG bytes. In the SVG the text stays text
    and each segment is ``<g id="turn-N-stage-K">``; it holds no scripts. ``width_in`` at 100 dpi."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    with _LOCK, rc_context({"svg.fonttype": "none", "svg.hashsalt": "lisa", "font.size": 9}):
        figure = Figure(figsize=(width_in, 1.9 + 0.42 * max(1, len(rows))), dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.set_title(title, loc="left", fontsize=10)
        axes.set_xlabel("ms after the end of the party's speech")
        longest = 0.0
        for n, row in enumerate(rows):
            previous = 0.0
            for k, (_label, ms, colour) in enumerate(row["stages"]):
                if ms > previous:
                    axes.barh(
                        n,
                        ms - previous,
                        left=previous,
                        height=0.5,
                        color=colour,
                        gid=f"turn-{n + 1}-stage-{k}",
                    )
                axes.vlines(ms, n - 0.3, n + 0.3, colors="black", linewidth=0.8)
                previous = max(previous, ms)
            longest = max(longest, previous)
            if row["latency_ms"] is not None:
                axes.annotate(
                    f"{row['latency_ms']:.0f} ms",
                    (previous, n),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
            if row["heard_ms"] is not None:
                heard = max(0.0, row["heard_ms"])
                longest = max(longest, heard)
                axes.plot([heard], [n + 0.38], marker="^", color=CLIENT_COLOUR, markersize=7)
                axes.annotate(
                    f"heard {row['heard_ms']:.0f}",
                    (heard, n + 0.38),
                    xytext=(7, -2),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                    color=CLIENT_COLOUR,
                )
        if not rows:
            axes.text(0.02, 0.5, "no turns recorded", transform=axes.transAxes, va="center")
        axes.set_yticks(range(len(rows)), [f"turn {row['turn']}" for row in rows])
        axes.set_ylim(max(1, len(rows)) - 0.4, -0.6)  # turn 1 on top
        axes.set_xlim(0, 500 * (int(longest * 1.12 // 500) + 1))  # room for the labels
        axes.grid(axis="x", color="#e1e1e1")
        axes.set_axisbelow(True)
        handles: list[Any] = [Patch(color=colour, label=label) for _, label, colour in STAGES]
        if any(row["heard_ms"] is not None for row in rows):
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="^",
                    color=CLIENT_COLOUR,
                    linestyle="",
                    label="first audio heard by the party",
                )
            )
        figure.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
        out = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()
