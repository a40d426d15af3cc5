"""The labelled end-of-turn set of ``tests/data/turn_taking/set.yaml`` as caller audio (8 kHz PCM).

Each part an item says is synthesized on its own in the party's Piper voice (deterministic: the party's style
has no noise), its leading and trailing silence trimmed; a pause of the labelled length (digital silence, as
a quiet phone line carries it) goes between parts. The labels come out in ms of the item's audio: the
pauses in which the caller has not finished, and the end of the turn (the end of the last part's speech).

    .venv/bin/python -m bench.turn_taking_set --write /tmp/turns   # the WAVs, to listen to them
"""

from __future__ import annotations

import argparse
import asyncio
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulation.scripted_party import party_speech, voiced_margins_ms

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "data" / "turn_taking" / "set.yaml"
RATE = 8000


@dataclass(frozen=True)
class Item:
    """One caller turn: its audio, the pauses inside it (start, end ms) and where the turn ends (ms)."""

    id: str
    kind: str
    text: str
    pcm: bytes
    pauses: tuple[tuple[float, float], ...]
    end_ms: float

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / RATE * 1000


def load(path: Path = SET) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def trimmed(pcm: bytes) -> bytes:
    """The speech of a synthesized part without the silence Piper puts before and after it."""
    lead, tail = voiced_margins_ms(pcm)
    start = int(lead * RATE / 1000) * 2
    end = len(pcm) - int(tail * RATE / 1000) * 2
    return pcm[start:end]


async def build_item(spec: dict[str, Any]) -> Item:
    pcm = bytearray()
    pauses: list[tuple[float, float]] = []
    said: list[str] = []
    for part in spec["parts"]:
        if isinstance(part, int):
            start = len(pcm) / 2 / RATE * 1000
            pcm.extend(bytes(part * RATE // 1000 * 2))
            pauses.append((start, start + part))
        else:
            pcm.extend(trimmed(await party_speech(part)))
            said.append(part)
    return Item(
        spec["id"], spec["kind"], " ".join(said), bytes(pcm), tuple(pauses), len(pcm) / 2 / RATE * 1000
    )


async def build(path: Path = SET) -> list[Item]:
    return [await build_item(spec) for spec in load(path)["audio"]]


def write(items: list[Item], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        with wave.open(str(folder / f"{item.id}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(item.pcm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="a folder for the items' WAVs")
    args = parser.parse_args()
    items = asyncio.run(build())
    for item in items:
        pauses = ", ".join(f"{a:.0f}-{b:.0f}" for a, b in item.pauses) or "-"
        print(f"{item.id:14} {item.kind:12} {item.duration_ms:6.0f} ms  pauses {pauses}")
    print(
        f"{len(items)} items, {sum(len(i.pauses) for i in items)} pauses, "
        f"{sum(i.duration_ms for i in items) / 1000:.0f} s, {float(np.mean([i.duration_ms for i in items])):.0f} ms each"
    )
    if args.write:
        write(items, args.write)


if __name__ == "__main__":
    main()
