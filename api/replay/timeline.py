"""A PNG timeline of a call's turns: where the time goes between the party's last word and Lisa's first.

Per party turn, one row from the end of the party's speech (client side): the server's end-of-turn
detection, STT final, first LLM token, first TTS audio and first audio byte sent (from
``GET /api/calls/{sid}`` ``turns``), and the first audio byte the party received (client side). Drawn with Pillow's default font, no other dependencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

# (key in a server turn, label, colour of the segment ending there)
STAGES = (
    ("user_end_ms", "end of turn detected", (200, 200, 200)),
    ("stt_final_ms", "STT final", (91, 141, 239)),
    ("llm_first_ms", "first LLM token", (240, 173, 78)),
    ("tts_first_ms", "first TTS audio", (92, 184, 92)),
    ("first_audio_out_ms", "first byte sent", (153, 102, 204)),
)
CLIENT_COLOUR = (120, 120, 120)
WIDTH, ROW, LEFT, TOP = 900, 46, 150, 56


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


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
    server_turns: list[dict[str, Any]], party_ends_ms: list[float], lisa_first_ms: list[float | None]
) -> list[dict[str, Any]]:
    """One row per party turn, in ms after the party stopped speaking: the server's stages (the server turn
    nearest in time; both sides count from the stream start) and the first audio the party heard."""
    rows: list[dict[str, Any]] = []
    if not party_ends_ms:  # no client timing: the server's turns from their detected end
        party_ends_ms = [t["user_end_ms"] for t in server_turns if _num(t.get("user_end_ms")) is not None]
        lisa_first_ms = []
    for i, end in enumerate(party_ends_ms):
        server = _nearest(server_turns, end)
        stages = []
        for key, label, colour in STAGES:
            at = _num(server.get(key))
            if at is not None:
                stages.append((label, at - end, colour))
        heard = lisa_first_ms[i] if i < len(lisa_first_ms) else None
        rows.append(
            {
                "turn": i + 1,
                "stages": stages,
                "heard_ms": None if heard is None else heard - end,
                "latency_ms": _num(server.get("latency_ms")),
            }
        )
    return rows


def draw_timeline(
    path: Path,
    title: str,
    server_turns: list[dict[str, Any]],
    party_ends_ms: list[float],
    lisa_first_ms: list[float | None],
) -> Path:
    """Write the timeline PNG to ``path`` and return it."""
    rows = turn_rows(server_turns, party_ends_ms, lisa_first_ms)
    longest = max(
        [1000.0]
        + [ms for r in rows for _, ms, _ in r["stages"]]
        + [r["heard_ms"] for r in rows if r["heard_ms"] is not None]
    )
    scale_ms = 500 * (int(longest // 500) + 1)
    height = TOP + ROW * max(1, len(rows)) + 70
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((10, 8), f"{title}: end of party speech -> Lisa's first audio (ms)", fill="black", font=font)
    span = WIDTH - LEFT - 30

    def x(ms: float) -> float:
        return LEFT + max(0.0, ms) / scale_ms * span

    for tick in range(0, scale_ms + 1, 250 if scale_ms <= 2000 else 500):
        draw.line([(x(tick), TOP - 6), (x(tick), TOP + ROW * max(1, len(rows)))], fill=(225, 225, 225))
        draw.text((x(tick) - 8, TOP - 20), str(tick), fill="grey", font=font)
    if not rows:
        draw.text((LEFT, TOP + 10), "no turns recorded", fill="black", font=font)
    for n, row in enumerate(rows):
        y = TOP + n * ROW + 8
        draw.text((10, y + 4), f"turn {row['turn']}", fill="black", font=font)
        previous = 0.0
        for _label, ms, colour in row["stages"]:
            if ms > previous:
                draw.rectangle([x(previous), y, x(ms), y + 18], fill=colour)
            draw.line([(x(ms), y - 2), (x(ms), y + 20)], fill="black")
            previous = max(previous, ms)
        if row["heard_ms"] is not None:
            hx = x(row["heard_ms"])
            draw.polygon([(hx - 5, y + 30), (hx + 5, y + 30), (hx, y + 22)], fill=CLIENT_COLOUR)
            draw.text((hx + 8, y + 22), f"heard {row['heard_ms']:.0f}", fill=CLIENT_COLOUR, font=font)
    legend_y = TOP + ROW * max(1, len(rows)) + 16
    lx = 10
    for _, label, colour in STAGES:
        draw.rectangle([lx, legend_y, lx + 14, legend_y + 12], fill=colour)
        draw.text((lx + 18, legend_y), label, fill="black", font=font)
        lx += 24 + int(draw.textlength(label, font=font)) + 16
    draw.polygon(
        [(lx + 2, legend_y + 12), (lx + 12, legend_y + 12), (lx + 7, legend_y + 2)], fill=CLIENT_COLOUR
    )
    draw.text((lx + 18, legend_y), "first audio heard by the party (client side)", fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    return path
