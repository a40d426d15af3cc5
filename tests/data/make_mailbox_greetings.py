"""Writes the mailbox greetings of the voicemail scenarios: the party's Piper voice (deterministic, as in
replays) followed by the mailbox's beep (tests/data/make_line_sounds.py), 8 kHz mono.
Run: ``.venv/bin/python tests/data/make_mailbox_greetings.py``."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from simulation.scripted_party import party_speech

HERE = Path(__file__).resolve().parent
RATE = 8000
GREETINGS = {
    # recognised from its words (a mailbox greeting)
    "mailbox_greeting_beep.wav": "Hi, you've reached Miller Dental. We can't take your call right now. "
    "Please leave a message after the tone.",
    # only answering-machine detection knows this one is a machine
    "mailbox_personal_beep.wav": "Hi, this is Anna. I'm not around right now, sorry.",
}


def _beep_pcm() -> np.ndarray:
    with wave.open(str(HERE / "beep.wav"), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


async def main() -> None:
    beep = _beep_pcm()
    for name, text in GREETINGS.items():
        speech = np.frombuffer(await party_speech(text), dtype="<i2")
        pause = np.zeros(int(0.7 * RATE), dtype="<i2")
        tail = np.zeros(int(0.3 * RATE), dtype="<i2")
        with wave.open(str(HERE / name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(np.concatenate([speech, pause, beep, tail]).tobytes())


if __name__ == "__main__":
    asyncio.run(main())
