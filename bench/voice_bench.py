"""Voice-to-voice latency of phone calls on the embedded default (Whisper tiny.en, rule brain, Piper).

The app runs in a child process (real uvicorn, temp SQLite, loopback telephony); this process plays Twilio
with :class:`~simulation.media_stream_client.MediaStreamClient`, speaking real synthesized speech in real time.
Voice-to-voice = end of the caller's speech (the end of the sent audio minus its trailing silence) → the
first byte of Lisa's reply arriving on the media socket. The server's own figure (VAD end of speech → first
audio byte sent, from ``GET /api/calls``) is reported too.

    .venv/bin/python -m bench.voice_bench [--turns 8] [--calls 10 20] [--spread 10] [--silent 10] [--sequential 200]

JSON to stdout and ``bench/results/voice.json`` (``voice_no_tts_cache.json`` with ``--tts-cache 0``: no
phrase comes from the cache, every reply is synthesized as if new).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.app_process import AppProcess

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "voice.json"
QUESTIONS = [
    "What are your opening hours on Saturday?",
    "Do you also have appointments in the evening?",
    "Where exactly is your practice?",
    "How long does a first appointment take?",
    "Do I need to bring anything with me?",
    "Is there parking near your practice?",
    "Can I pay by card?",
    "What are your opening hours on Monday?",
]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(float(np.percentile(np.array(values), q)), 1)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "max_ms": round(max(values), 1) if values else None,
    }


# ------------------------------------------------------------------------------------------- server


# ------------------------------------------------------------------------------------------- caller

_SPEECH: dict[str, tuple[bytes, float]] = {}


def trailing_silence_ms(pcm_8k: bytes) -> float:
    samples = np.frombuffer(pcm_8k, dtype=np.int16).astype(np.float32)
    frame = 80  # 10 ms
    n = len(samples) // frame
    rms = np.sqrt((samples[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    voiced = np.nonzero(rms > 300)[0]
    return 0.0 if not len(voiced) else (n - 1 - voiced[-1]) * 10.0


async def speech(text: str) -> tuple[bytes, float]:
    if text not in _SPEECH:
        from pipelines import local_models
        from telephony.audio_codec import resample_pcm16

        pcm, rate = await asyncio.to_thread(local_models.synthesize, text, local_models.PARTY_STYLE)
        pcm8 = resample_pcm16(pcm, rate, 8000)
        _SPEECH[text] = (pcm8, trailing_silence_ms(pcm8))
    return _SPEECH[text]


async def conversation(
    server: AppProcess, turns: int, start_delay: float = 0.0
) -> tuple[list[float], str, float, int]:
    """One call: greeting, then ``turns`` questions; client-side latencies, call sid, greeting ms and the
    turns Lisa did not answer within 20 s (the call goes on with the next question)."""

    await asyncio.sleep(start_delay)
    latencies: list[float] = []
    unanswered = 0
    async with server.call_in() as call:
        greeting = await call.wait_lisa_speaking(10)
        await call.wait_lisa_done(30, new_utterance=False)
        for i in range(turns):
            pcm, tail_ms = await speech(QUESTIONS[i % len(QUESTIONS)])
            await call.send_audio(pcm)
            speech_end = call.audio_sends[-1][1] - tail_ms
            try:
                reply = await call.wait_lisa_speaking(20, after_ms=speech_end)
            except TimeoutError:
                unanswered += 1
                continue
            latencies.append(reply.first_media_ms - speech_end)
            with contextlib.suppress(TimeoutError):  # an overloaded server: the next question comes anyway
                await call.wait_lisa_done(30)
            await call.send_silence(300 + 150 * (i % 3))
        return latencies, call.call_sid, greeting.first_media_ms, unanswered


async def concurrent_level(server: AppProcess, calls: int, turns: int, spread_s: float) -> dict[str, Any]:
    """``calls`` calls started evenly over ``spread_s`` seconds, ``turns`` questions each."""
    spacing = spread_s / max(calls, 1)
    cpu_before, t0 = server.cpu_s(), time.monotonic()
    results = await asyncio.gather(
        *(conversation(server, turns, start_delay=i * spacing) for i in range(calls))
    )
    cores = (server.cpu_s() - cpu_before) / (time.monotonic() - t0)
    latencies = [v for lat, _, _, _ in results for v in lat]
    server_turns: list[dict[str, Any]] = []
    server_figures = await server_latencies(server, [sid for _, sid, _, _ in results], server_turns)
    return {
        "calls": calls,
        "turns_per_call": turns,
        "start_spacing_s": round(spacing, 3),
        "unanswered_turns": sum(u for _, _, _, u in results),
        "client_voice_to_voice": summary(latencies),
        "server_end_of_speech_to_first_byte": summary(server_figures),
        "server_stages": breakdown(server_turns),
        "greeting_first_audio": summary([g for _, _, g, _ in results]),
        "server_cores_busy": round(cores, 2),
    }


STAGES = {
    "end_of_speech_to_stt_final": ("user_end_ms", "stt_final_ms"),
    "stt_final_to_first_sentence": ("stt_final_ms", "llm_first_ms"),
    "first_sentence_to_first_tts_audio": ("llm_first_ms", "tts_first_ms"),
    "tts_audio_to_first_byte_sent": ("tts_first_ms", "first_audio_out_ms"),
}


def breakdown(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 of each stage of the server's turns."""
    out = {}
    for name, (a, b) in STAGES.items():
        values = [t[b] - t[a] for t in turns if t.get(a) is not None and t.get(b) is not None]
        out[name] = {"p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95)}
    return out


async def server_latencies(server: AppProcess, sids: list[str], turns_out: list | None = None) -> list[float]:
    out: list[float] = []
    async with httpx.AsyncClient(base_url=server.url) as client:
        for sid in sids:
            for _ in range(50):
                record = (await client.get(f"/api/calls/{sid}")).json()
                if record.get("ended_at"):
                    break
                await asyncio.sleep(0.1)
            turns = [t for t in record.get("turns", []) if t.get("latency_ms") is not None]
            out += [t["latency_ms"] for t in turns]
            if turns_out is not None:
                turns_out += turns
    return out


async def silent_calls(server: AppProcess, count: int, seconds: float) -> dict[str, Any]:

    async def one(ready: asyncio.Event, done: asyncio.Event, started: list[int]) -> None:
        async with server.call_in() as call:
            await call.wait_lisa_speaking(15)
            await call.wait_lisa_done(30, new_utterance=False)
            started.append(1)
            if len(started) == count:
                ready.set()
            await done.wait()

    ready, done, started = asyncio.Event(), asyncio.Event(), []
    idle_before = await cpu_over(server, seconds)
    tasks = [asyncio.create_task(one(ready, done, started)) for _ in range(count)]
    await asyncio.wait_for(ready.wait(), 120)
    busy = await cpu_over(server, seconds)
    done.set()
    await asyncio.gather(*tasks)
    return {
        "calls": count,
        "server_cores_idle": round(idle_before, 4),
        "server_cores_with_calls": round(busy, 4),
        "cores_per_silent_call": round((busy - idle_before) / count, 4),
    }


async def cpu_over(server: AppProcess, seconds: float) -> float:
    before, t0 = server.cpu_s(), time.monotonic()
    await asyncio.sleep(seconds)
    return (server.cpu_s() - before) / (time.monotonic() - t0)


async def sequential_calls(server: AppProcess, count: int) -> dict[str, Any]:

    # short calls that touch every part of a call: greeting, a question over it (barge-in → clear), the
    # answer's first audio, then the caller hangs up in the middle of it
    rss = [server.rss_mb()]
    pcm, _ = await speech("What are your opening hours on Saturday?")
    for i in range(count):
        async with server.call_in() as call:
            await call.wait_lisa_speaking(15)
            await call.send_audio(pcm)
            await call.wait_lisa_speaking(15, after_ms=call.audio_sends[-1][1])
        if (i + 1) % 10 == 0:
            await asyncio.sleep(0.5)
            rss.append(server.rss_mb())
    return {
        "calls": count,
        "call": "greeting, question over it (barge-in), first audio of the answer, caller hangs up",
        "rss_mb_every_10_calls": [round(r, 1) for r in rss],
        "growth_after_first_10_pct": round((rss[-1] - rss[1]) / rss[1] * 100, 1) if len(rss) > 2 else None,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    server = AppProcess(
        {
            "LISA_BRAIN": "rule",
            "LOG_LEVEL": os.environ.get("LISA_BENCH_LOG", "WARNING"),
            "LISA_TTS_CACHE_PHRASES": str(args.tts_cache),
        }
    )
    try:
        await server.wait_ready()
        for q in QUESTIONS:
            await speech(q)
        # one call, N turns
        single, sid, greeting_ms, _ = await conversation(server, args.turns)
        single_turns: list[dict[str, Any]] = []
        single_server = await server_latencies(server, [sid], single_turns)
        report: dict[str, Any] = {
            "benchmark": "voice_to_voice_embedded",
            "machine_cores": os.cpu_count(),
            "stack": "Whisper tiny.en (short-window) + smart turn v3 + Silero VAD, rule brain, Piper joe-us",
            "tts_cache_phrases": args.tts_cache,
            "single_call": {
                "turns": args.turns,
                "client_voice_to_voice": summary(single),
                "server_end_of_speech_to_first_byte": summary(single_server),
                "server_stages": breakdown(single_turns),
                "greeting_first_audio_ms": round(greeting_ms, 1),
            },
            # concurrent calls, turns spread out: each level's calls start evenly over --spread seconds
            "concurrent_calls": [
                await concurrent_level(server, calls, args.concurrent_turns, args.spread)
                for calls in args.calls
            ],
        }
        if args.silent:
            report["silent_calls_cpu"] = await silent_calls(server, args.silent, 5.0)
        if args.sequential:
            report["sequential_calls_memory"] = await sequential_calls(server, args.sequential)
        report["targets"] = {
            "single_call_p50_ms": 700,
            "ten_calls_p95_ms": 1500,
            "twenty_calls_p50_ms": 600,
            "twenty_calls_p95_ms": 1200,
        }
        return report
    finally:
        server.stop()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--calls", type=int, nargs="*", default=[10, 20], help="concurrency levels")
    parser.add_argument(
        "--tts-cache", type=int, default=256, help="LISA_TTS_CACHE_PHRASES (0: every reply synthesized)"
    )
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the calls start")
    parser.add_argument("--concurrent-turns", type=int, default=4)
    parser.add_argument("--silent", type=int, default=10)
    parser.add_argument("--sequential", type=int, default=200)
    args = parser.parse_args()
    report = asyncio.run(main(args))
    text = json.dumps(report, indent=2)
    out = RESULTS if args.tts_cache else RESULTS.with_name("voice_no_tts_cache.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    cli()
