"""End of turn on the labelled set (``tests/data/turn_taking/set.yaml``): how often Lisa would cut a caller
off, and how soon she takes her turn when they have finished.

The real :class:`~pipelines.turn_detector.TurnDetector` (Silero VAD, Whisper tiny.en during the pause, smart
turn v3, the stops of :class:`~pipelines.settings.VoiceSettings`) runs in a pipecat pipeline, as on a call;
the set's items (:mod:`bench.turn_taking_set`) are fed to it in 20 ms frames as Twilio sends them, one after
the other on one "call", each followed by line silence until its turn has ended (then 0.5 s more). Lisa is
silent throughout (no barge-in), so every turn the detector ends is one she would answer. Two clocks:

- ``--clock audio`` (default): the inference takes no audio time, the next frame goes in only once the
  detector's end-of-turn check and finish are done. Deterministic and the same on any machine: what the
  stops and the rules decide, with the VAD's lag, as on an idle machine with instant models.
- ``--clock real``: frames in real time, the checks take what they take on this machine (its load average is
  in the result). A loaded machine makes checks late, which shortens no turn but ends fewer of them in pauses.

- false end of turn: a turn ended inside a labelled pause (before the caller's last word); rate per pause
  and per item;
- reply gap: the end of the caller's last word (the item's audio) → the turn ended with its transcript (the
  CallerTurnFrame leaves the detector). Lisa's first audio follows a few ms later when her reply was drafted
  in the pause (``bench.voice_bench`` measures voice to voice);
- text: the punctuation rule (``sentence_finished``) on the set's transcripts, German and English.

    .venv/bin/python -m bench.turn_taking [--clock audio|real] [--label baseline] [--set LISA_VAD_STOP_S=0.3 ...]

JSON to stdout, merged under ``--label`` into ``bench/results/turn_taking.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pipecat.frames.frames import EndFrame, Frame, InputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from agent.conversation import Conversation, Language, Mode
from bench.turn_taking_set import PROSODIES, RATE, Item, build, load
from pipelines import inference
from pipelines.call_session import CallSession
from pipelines.frames import ARRIVED, CallerTurnFrame
from pipelines.settings import VoiceSettings
from pipelines.turn_detector import TurnDetector, sentence_finished

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "turn_taking.json"
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM, one Twilio media message
WAIT_TURN_S = 10.0  # line silence after an item at most, waiting for its turn to end
AFTER_TURN_S = 0.5  # and after it ended


@dataclass
class Turn:
    at: float  # when the turn left the detector (the feeder's clock)
    text: str


class Collector(FrameProcessor):
    """The end of the pipeline: notes when each caller turn comes out of the detector."""

    def __init__(self) -> None:
        super().__init__(name="turn-collector")
        self.turns: list[Turn] = []
        self.clock: Callable[[], float] = time.monotonic

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, CallerTurnFrame):
            self.turns.append(Turn(self.clock(), frame.text))
        await self.push_frame(frame, direction)


class Feeder:
    """Sends caller audio to the detector in 20 ms frames, on the real or the audio clock; ``now()`` is the
    time on that clock."""

    def __init__(self, worker: PipelineWorker, detector: TurnDetector, clock: str) -> None:
        self._worker, self._detector, self._clock = worker, detector, clock
        self._audio_t = 0.0  # audio clock: seconds of audio sent so far

    def now(self) -> float:
        return time.monotonic() if self._clock == "real" else self._audio_t

    async def feed(self, pcm: bytes, start: float) -> float:
        """Send ``pcm`` from ``start`` (clock time); the time its last frame was due."""
        due = start
        for offset in range(0, len(pcm), FRAME_BYTES):
            due = await self.frame(pcm[offset : offset + FRAME_BYTES], due)
        return due

    async def frame(self, chunk: bytes, due: float) -> float:
        due += len(chunk) / 2 / RATE
        frame = InputAudioRawFrame(audio=chunk, sample_rate=RATE, num_channels=1)
        if self._clock == "real":
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            frame.metadata[ARRIVED] = time.monotonic()
            await self._worker.queue_frame(frame)
            return due
        # audio clock: straight into the detector, then wait for whatever it started to finish (the
        # detector's check and finish tasks: inference takes no audio time)
        self._audio_t = due
        frame.metadata[ARRIVED] = due
        await self._detector.process_frame(frame, FrameDirection.DOWNSTREAM)
        while self._busy():  # noqa: ASYNC110 - the detector's tasks, no event to wait on
            await asyncio.sleep(0.002)
        await asyncio.sleep(0)  # the turn frame on its way to the collector
        return due

    def _busy(self) -> bool:
        d = self._detector
        check = d._check  # the bench waits for the detector's own tasks
        return bool(d._finishing or (check is not None and not check.done()))


async def run_set(
    items: list[Item], settings: VoiceSettings, clock: str = "audio", shift: int = 0
) -> list[dict[str, Any]]:
    """Every item through one detector; per item the turns it ended, in ms from the item's first sample.
    ``shift``: 20 ms frames of line silence more before each item, which moves the item against the VAD's
    32 ms windows (where a window falls decides when a pause is first heard, and one early end changes the
    rest of the item: passes with other shifts show how much of a result is that chance)."""
    conv = Conversation(mode=Mode.INBOUND, language=Language.EN)
    session = CallSession("CA-turn-taking", "MZ-turn-taking", "inbound", {}, conv)
    detector = TurnDetector(session, settings, local_stt=True)
    worker = PipelineWorker(
        Pipeline([detector, collector := Collector()]),
        params=PipelineParams(audio_in_sample_rate=RATE, audio_out_sample_rate=RATE),
        enable_rtvi=False,
        enable_turn_tracking=False,
        idle_timeout_secs=None,
        check_dangling_tasks=False,
    )
    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    while detector._vad is None:  # noqa: ASYNC110 - the StartFrame has loaded the VAD: the pipeline runs
        await asyncio.sleep(0.01)
    feeder = Feeder(worker, detector, clock)
    collector.clock = feeder.now
    silence = bytes(FRAME_BYTES)
    t = await feeder.feed(bytes(RATE * 2), feeder.now())  # a second of line silence first
    starts = []
    for item in items:
        t = await feeder.feed(bytes(FRAME_BYTES * shift), t)
        starts.append(t)
        t = await feeder.feed(item.pcm, t)
        seen, waited = len(collector.turns), 0.0
        while waited < WAIT_TURN_S and not [u for u in collector.turns[seen - 1 :] if u.at >= t - 0.1]:
            t = await feeder.frame(silence, t)
            waited += FRAME_BYTES / 2 / RATE
        t = await feeder.feed(bytes(int(AFTER_TURN_S * RATE) * 2), t)
    await asyncio.sleep(0.5)
    await worker.queue_frame(EndFrame())
    await running
    out = []
    for n, (item, start) in enumerate(zip(items, starts, strict=True)):
        window_end = starts[n + 1] if n + 1 < len(starts) else float("inf")
        turns = [u for u in collector.turns if start <= u.at < window_end]
        out.append(judge(item, [((u.at - start) * 1000, u.text) for u in turns]))
    return out


def judge(item: Item, turns: list[tuple[float, str]]) -> dict[str, Any]:
    """Which pauses were cut (a turn ended after the pause began and before the caller's last word), and the
    gap from the last word to the turn that ended it."""
    cut: set[int] = set()
    for at, _ in turns:
        if at < item.end_ms:
            began = [n for n, (a, _) in enumerate(item.pauses) if a <= at]
            cut.add(began[-1] if began else -1)  # -1: cut in the first words (no pause yet)
    final = [at for at, _ in turns if at >= item.end_ms]
    return {
        "id": item.id,
        "kind": item.kind,
        "group": item.group,
        "pauses": len(item.pauses),
        "pauses_cut": sorted(cut),
        "turns": [{"at_ms": round(at), "text": text} for at, text in turns],
        "gap_ms": round(final[0] - item.end_ms, 1) if final else None,
    }


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def summarise(items: list[Item], runs: list[list[dict[str, Any]]]) -> dict[str, Any]:
    results = [r for run in runs for r in run]
    by_kind = {
        kind: figures([r for r in results if r["kind"] == kind])
        for kind in dict.fromkeys(i.kind for i in items)
    }
    by_group = {
        group: figures([r for r in results if r["group"] == group])
        for group in dict.fromkeys(i.group for i in items)
    }
    return {**figures(results, detail=True), "by_kind": by_kind, "by_group": by_group}


def figures(results: list[dict[str, Any]], detail: bool = False) -> dict[str, Any]:
    """False ends of turn (cuts inside a labelled pause; a cut in an item's first words, before any pause,
    is listed but not counted) and the reply gap of ``results``."""
    pauses = sum(r["pauses"] for r in results)
    cut_pauses = sum(len([p for p in r["pauses_cut"] if p >= 0]) for r in results)
    with_pauses = [r for r in results if r["pauses"]]
    items_cut = sum(1 for r in with_pauses if [p for p in r["pauses_cut"] if p >= 0])
    gaps = [r["gap_ms"] for r in results if r["gap_ms"] is not None]
    false_end: dict[str, Any] = {
        "pauses": pauses,
        "pauses_cut": cut_pauses,
        "rate_per_pause": round(cut_pauses / pauses, 3) if pauses else None,
        "items_with_pauses": len(with_pauses),
        "items_cut": items_cut,
        "rate_per_item": round(items_cut / len(with_pauses), 3) if with_pauses else None,
        "cut_in_first_words": sorted(r["id"] for r in results if -1 in r["pauses_cut"]),
    }
    gap: dict[str, Any] = {"n": len(gaps), "p50": percentile(gaps, 50), "p95": percentile(gaps, 95)}
    if detail:
        false_end["cut"] = sorted({f"{r['id']}#{p}" for r in results for p in r["pauses_cut"] if p >= 0})
        gap = {
            "what": "end of the caller's last word -> the turn leaves the detector with its transcript",
            **gap,
            "max": round(max(gaps), 1) if gaps else None,
            "unanswered": sum(1 for r in results if r["gap_ms"] is None),
        }
    return {"false_end_of_turn": false_end, "reply_gap_ms": gap}


def text_checks() -> dict[str, Any]:
    """The punctuation rule on the set's labelled transcripts: a pause that reads as finished but is not
    (a false end when it alone decides), and a finished turn it misses (the longer stop applies)."""
    out = {}
    for language, lines in load()["text"].items():
        wrong_end = [x["text"] for x in lines if not x["ends"] and sentence_finished(x["text"])]
        missed = [x["text"] for x in lines if x["ends"] and not sentence_finished(x["text"])]
        out[language] = {
            "transcripts": len(lines),
            "open_read_as_finished": wrong_end,
            "finished_read_as_open": missed,
        }
    return out


def stop_settings(settings: VoiceSettings) -> dict[str, Any]:
    return {k: v for k, v in settings.model_dump().items() if "stop" in k or "silence" in k or "turn" in k}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    overrides = dict(pair.split("=", 1) for pair in args.set)
    os.environ.update(overrides)
    settings = VoiceSettings(_env_file=None)
    await inference.warm_up()
    load_before = os.getloadavg()
    t0 = time.monotonic()
    sets = {}
    for prosody in args.prosody:
        items = await build(prosody=prosody)
        runs = [await run_set(items, settings, args.clock, shift) for shift in range(args.repeat)]
        sets[prosody] = {
            "items": len(items),
            "pauses": sum(len(i.pauses) for i in items),
            "audio_s": round(sum(i.duration_ms for i in items) / 1000, 1),
            "kinds": {k: sum(1 for i in items if i.kind == k) for k in dict.fromkeys(i.kind for i in items)},
            **summarise(items, runs),
            "results": runs[0],  # per item, of the first pass (the figures above are over all passes)
        }
    return {
        "benchmark": "end_of_turn_labelled_set",
        "clock": args.clock,
        "machine_cores": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - t0, 1),
        "settings": stop_settings(settings),
        "repeat": args.repeat,
        "sets": sets,
        "text": text_checks(),
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="current", help="the key of this run in the results file")
    parser.add_argument("--clock", choices=["audio", "real"], default="audio", help="see the docstring")
    parser.add_argument(
        "--repeat", type=int, default=1, help="passes over the set, each shifted 20 ms more (see run_set)"
    )
    parser.add_argument(
        "--prosody", nargs="+", choices=PROSODIES, default=list(PROSODIES), help="the set's renderings"
    )
    parser.add_argument("--set", nargs="*", default=[], help="settings for this run, NAME=value")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(main(args))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if not args.no_save:
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results[args.label] = report
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    cli()
