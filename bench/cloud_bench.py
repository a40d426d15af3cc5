"""The cloud stack's own overhead: Deepgram STT + LLM brain + ElevenLabs TTS against local protocol servers.

Three processes on loopback: the app (real uvicorn, temp SQLite, ``LISA_STT=deepgram``, ``LISA_TTS=elevenlabs``,
``LISA_BRAIN=llm``), the providers (the Deepgram, ElevenLabs and OpenAI protocol servers of ``tests/fakes``
with fixed delays: STT final 150 ms after the end of speech, LLM first token 350 ms, TTS first byte 200 ms)
and this process, which plays Twilio for 1, 10 and 100 concurrent calls (:mod:`bench.twilio_load`: one 20 ms
ticker drives every call's line, so the load generator stays cheap), speaking real (Piper) speech in real
time and echoing Lisa's marks when her audio has played. Calls connect, get greeted, then take their turns
after random pauses (more calls, longer pauses: turns spread out) and stay connected until all are done.

Voice-to-voice = end of the caller's speech → first byte of Lisa's reply audio sent to Twilio. The server's
figure (its VAD end of speech → first audio byte out, from ``GET /api/calls``) minus the 700 ms of fixed
provider delays is the pipeline's own overhead; the client's figure (end of the sent speech → first media
byte received) is reported too, and each turn is split into its stages. CPU is the app process's
(user + system time from ``/proc``): per connected silent call and per call in conversation; memory is its
RSS.

    .venv/bin/python -m bench.cloud_bench [--turns 6] [--calls 10 50 100] [--silent 100]

JSON to stdout and ``bench/results/cloud.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.app_process import AppProcess, stop_process
from bench.twilio_load import Ticker, ulaw_frames

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "cloud.json"
DELAYS_MS = {"stt_final": 150, "llm_first_token": 350, "tts_first_byte": 200}
FIXED_MS = sum(DELAYS_MS.values())
DEEPGRAM_KEY, ELEVENLABS_KEY, OPENAI_KEY = "dg-bench-key", "xi-bench-key", "sk-bench-key"
# One reply per question, each different: Lisa's engine holds back a third identical reply whole to check it
# for a loop (agent/engine.py), which would put the LLM's whole stream, not its first sentence, in the figures.
REPLIES = [
    ("Sure thing. ", "Anything else?"),
    ("Of course we do. ", "What else can I do?"),
    ("Good question. ", "Is there more?"),
    ("Happy to help. ", "Shall I book it?"),
    ("Yes, that works. ", "Anything further?"),
    ("Certainly, yes. ", "What next?"),
]
QUESTIONS = [
    "What are your opening hours on Saturday?",
    "Do you also have appointments in the evening?",
    "Where exactly is your practice?",
    "How long does a first appointment take?",
    "Is there parking near your practice?",
    "Can I pay by card?",
]


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.array(values), q)), 1) if values else None


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "max_ms": round(max(values), 1) if values else None,
    }


# ------------------------------------------------------------------------------------------- providers


async def run_providers(stats_path: str) -> None:
    """Child process: the three protocol servers; prints their URLs, writes measured delays on SIGTERM."""
    from tests.fakes.deepgram_protocol_server import DeepgramProtocolServer
    from tests.fakes.elevenlabs_protocol_server import ElevenLabsProtocolServer
    from tests.fakes.openai_protocol_server import OpenAIProtocolServer, Received, Stream, stream

    deepgram = DeepgramProtocolServer(
        QUESTIONS * 20, api_key=DEEPGRAM_KEY, final_delay_s=DELAYS_MS["stt_final"] / 1000
    )
    elevenlabs = ElevenLabsProtocolServer(
        api_key=ELEVENLABS_KEY, first_byte_delay_s=DELAYS_MS["tts_first_byte"] / 1000, ms_per_char=45
    )
    llm = OpenAIProtocolServer(api_key=OPENAI_KEY)
    # role chunk, then the first sentence at 2 x 175 ms = the first token at 350 ms
    delay_s = DELAYS_MS["llm_first_token"] / 2000

    def reply(request: Received) -> Stream:  # the next reply of this conversation, never the one before
        messages = request.body.get("messages", []) if isinstance(request.body, dict) else []
        said = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
        return stream(*REPLIES[said % len(REPLIES)], delay_s=delay_s)

    llm.answer_with(reply)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with deepgram, elevenlabs, llm:
        print(
            json.dumps({"deepgram": deepgram.url, "elevenlabs": elevenlabs.url, "openai": llm.url}),
            flush=True,
        )
        await stop.wait()
        stt = [
            (final - end) * 1000
            for s in deepgram.sessions
            for end, final in zip(s.speech_end_times, s.final_times, strict=False)
        ]
        tts = [
            (c.first_audio_at - c.opened_at) * 1000
            for s in elevenlabs.sessions
            for c in s.contexts.values()
            if c.first_audio_at and c.spoken
        ]
        llm_first = [(r.chunk_times[1] - r.at) * 1000 for r in llm.requests if len(r.chunk_times) > 1]
        write_json(
            stats_path,
            {
                "stt_final_after_speech_end": summary(stt),
                "tts_first_byte_after_context_open": summary(tts),
                "llm_first_token_after_request": summary(llm_first),
                "stt_streams": len(deepgram.sessions),
                "unscripted_utterances": deepgram.unscripted,
            },
        )


def write_json(path: str | Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def read_json(path: Path) -> Any:
    try:
        text = path.read_text()
        path.unlink()
    except OSError:
        return None
    return json.loads(text) if text else None


class Child:
    """A child process of this module (``--providers``)."""

    def __init__(self, args: list[str], stdout: Any = None) -> None:
        env = {**os.environ, "LOGURU_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.cloud_bench", *args], cwd=ROOT, env=env, stdout=stdout, text=True
        )

    def stop(self) -> None:
        stop_process(self.proc)


# ------------------------------------------------------------------------------------------- app


def cloud_env(urls: dict[str, str]) -> dict[str, str]:
    """The settings of the cloud stack (Deepgram, ElevenLabs, an OpenAI-compatible LLM) pointed at the
    protocol servers at ``urls``."""
    return {
        "LISA_STT": "deepgram",
        "LISA_TTS": "elevenlabs",
        "LISA_BRAIN": "llm",
        "DEEPGRAM_API_KEY": DEEPGRAM_KEY,
        "DEEPGRAM_BASE_URL": urls["deepgram"],
        "ELEVENLABS_API_KEY": ELEVENLABS_KEY,
        "ELEVENLABS_BASE_URL": urls["elevenlabs"],
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": urls["openai"],
        "OPENAI_MODEL": "bench-model",
        "LISA_IDLE_REPROMPT_S": "60",
    }


def cloud_app(urls: dict[str, str], workers: int = 1) -> AppProcess:
    """``lisa serve`` on the cloud stack, pointed at the protocol servers."""
    return AppProcess({"LISA_WORKERS": str(workers), **cloud_env(urls)})


# ------------------------------------------------------------------------------------------- callers

_SPEECH: dict[str, tuple[list[str], float]] = {}


def trailing_silence_ms(pcm_8k: bytes) -> float:
    samples = np.frombuffer(pcm_8k, dtype=np.int16).astype(np.float32)
    n = len(samples) // 80  # 10 ms
    rms = np.sqrt((samples[: n * 80].reshape(n, 80) ** 2).mean(axis=1))
    voiced = np.nonzero(rms > 300)[0]
    return 0.0 if not len(voiced) else (n - 1 - voiced[-1]) * 10.0


async def speech(text: str) -> tuple[list[str], float]:
    """The caller saying ``text`` (Piper, once): 20 ms μ-law frames as base64, and the trailing silence."""
    if text not in _SPEECH:
        from pipelines import local_models
        from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16

        pcm, rate = await asyncio.to_thread(local_models.synthesize, text, local_models.PARTY_STYLE)
        pcm8 = resample_pcm16(pcm, rate, 8000)
        _SPEECH[text] = (ulaw_frames(pcm16_to_ulaw(pcm8)), trailing_silence_ms(pcm8))
    return _SPEECH[text]


class Phase:
    """Counts calls into a phase; every call waits (bounded) until all are in, so the load is concurrent."""

    def __init__(self, parties: int) -> None:
        self.parties, self.count, self.event = parties, 0, asyncio.Event()

    def arrive(self) -> None:
        self.count += 1
        if self.count >= self.parties:
            self.event.set()

    async def wait(self, limit_s: float = 180.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), limit_s)


async def conversation(
    app: AppProcess,
    ticker: Ticker,
    turns: int,
    start_delay: float,
    pause_s: tuple[float, float],
    rng: random.Random,
    connected: Phase,
    talked: Phase,
) -> dict[str, Any]:
    """One call: greeting; once every call of the level is connected, ``turns`` questions, each after a
    random pause; then it stays connected until every call has had its turns. A turn Lisa does not answer
    within 30 s is counted as failed (the call goes on with the next)."""
    await asyncio.sleep(start_delay)
    out: dict[str, Any] = {"sid": None, "client": [], "greeting_ms": None, "failed": 0}
    call = None
    try:
        try:
            sid, url, params, headers = await app.ring()
            call = await ticker.connect(url, params, call_sid=sid, headers=headers)
            out["sid"] = call.call_sid
            out["greeting_ms"] = (await call.wait_speaking(call.t0, 30) - call.t0) * 1000
            await call.wait_done(60)
        finally:
            connected.arrive()
        await connected.wait()
        try:
            for i in range(turns):
                await asyncio.sleep(rng.uniform(*pause_s))  # the line sends silence meanwhile
                frames, tail_ms = await speech(QUESTIONS[i % len(QUESTIONS)])
                speech_end = await call.speak(frames) - tail_ms / 1000
                try:
                    reply = await call.wait_speaking(speech_end, 30)
                    out["client"].append((reply - speech_end) * 1000)
                    await call.wait_done(60)
                except TimeoutError:
                    out["failed"] += 1
        finally:
            talked.arrive()
        await talked.wait()
    except (TimeoutError, ConnectionError, OSError) as exc:
        out["failed"] += 1
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if call is not None:
            out["clears"], out["utterances"] = call.clears, len(call.utterance_starts)
            await call.stop()
    return out


async def server_turns(app: AppProcess, sids: list[str]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
        for sid in sids:
            record: dict[str, Any] = {}
            for _ in range(100):
                record = (await client.get(f"/api/calls/{sid}")).json()
                if record.get("ended_at"):
                    break
                await asyncio.sleep(0.1)
            turns += [t for t in record.get("turns", []) if t.get("latency_ms") is not None]
    return turns


def stages(turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Each turn split: end of speech → turn ended with the final transcript → first sentence → first TTS
    audio → first byte sent (the fixed provider delays sit in the first three)."""

    def span(a: str, b: str) -> list[float]:
        return [t[b] - t[a] for t in turns if t.get(a) is not None and t.get(b) is not None]

    return {
        "speech_end_to_turn_end (stt 150 inside)": summary(span("user_end_ms", "stt_final_ms")),
        "turn_end_to_first_sentence (llm 350 inside)": summary(span("stt_final_ms", "llm_first_ms")),
        "first_sentence_to_tts_audio (tts 200 inside)": summary(span("llm_first_ms", "tts_first_ms")),
        "tts_audio_to_first_byte_out": summary(span("tts_first_ms", "first_audio_out_ms")),
    }


async def level(
    app: AppProcess,
    ticker: Ticker,
    calls: int,
    turns: int,
    spread_s: float,
    pause_s: tuple[float, float],
    seed: int,
) -> dict[str, Any]:
    """``calls`` concurrent calls (connecting over ``spread_s``), ``turns`` each with random pauses."""
    rng = random.Random(seed)
    rss: list[float] = []
    connected, talked = Phase(calls), Phase(calls)

    async def sample() -> None:
        while True:
            rss.append(app.rss_mb())
            await asyncio.sleep(1.0)

    async def cpu_while_talking() -> tuple[float, float]:
        await connected.wait()
        cpu0, t0 = app.cpu_s(), time.monotonic()
        await talked.wait()
        return app.cpu_s() - cpu0, time.monotonic() - t0

    sampler = asyncio.create_task(sample())
    cpu_task = asyncio.create_task(cpu_while_talking())
    t0 = time.monotonic()
    late0, ticks0 = ticker.late_ticks, ticker.ticks
    own0 = time.process_time()
    try:
        results = await asyncio.gather(
            *(
                conversation(
                    app,
                    ticker,
                    turns,
                    rng.uniform(0, spread_s),
                    pause_s,
                    random.Random(rng.random()),
                    connected,
                    talked,
                )
                for _ in range(calls)
            )
        )
    finally:
        sampler.cancel()
    cpu_s, talk_s = await cpu_task
    cores = cpu_s / max(talk_s, 0.001)
    turns_server = await server_turns(app, [r["sid"] for r in results if r["sid"]])
    latency = [t["latency_ms"] for t in turns_server]
    client = [v for r in results for v in r["client"]]
    return {
        "calls": calls,
        "turns_per_call": turns,
        "connect_spread_s": spread_s,
        "pause_before_each_turn_s": list(pause_s),
        "failed_turns_or_calls": sum(r["failed"] for r in results),
        "server_turns_recorded": len(turns_server),
        "lisa_utterances_heard": sum(r.get("utterances", 0) for r in results),
        "clears_received (barge-ins)": sum(r.get("clears", 0) for r in results),
        "server_voice_to_voice": summary(latency),
        "pipeline_overhead (server minus 700 ms of provider delays)": summary(
            [v - FIXED_MS for v in latency]
        ),
        "client_voice_to_voice": summary(client),
        "client_overhead (client minus 700 ms)": summary([v - FIXED_MS for v in client]),
        "stages": stages(turns_server),
        "greeting_first_audio": summary([r["greeting_ms"] for r in results if r["greeting_ms"] is not None]),
        "app_cores_while_all_connected_and_talking": round(cores, 3),
        "app_cores_per_call_while_talking": round(cores / calls, 4),
        "talking_phase_s": round(talk_s, 1),
        "wall_s": round(time.monotonic() - t0, 1),
        "app_rss_mb_peak": round(max(rss), 1) if rss else None,
        "load_generator_cores (this process; near 1.0 = its client figures lag)": round(
            (time.process_time() - own0) / (time.monotonic() - t0), 3
        ),
        "caller_line_late_ticks_pct": round(
            100 * (ticker.late_ticks - late0) / max(1, ticker.ticks - ticks0), 2
        ),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "errors": sorted({r["error"] for r in results if r.get("error")})[:5],
    }


async def silent_calls(app: AppProcess, ticker: Ticker, count: int, seconds: float) -> dict[str, Any]:
    """CPU of ``count`` connected calls in which nobody speaks (after Lisa's greeting)."""
    idle = await cpu_over(app, seconds)
    rss_idle = app.rss_mb()
    calls = []
    for _ in range(count):
        sid, url, params, headers = await app.ring()
        calls.append(await ticker.connect(url, params, call_sid=sid, headers=headers))
        await asyncio.sleep(0.05)
    for call in calls:
        await call.wait_speaking(call.t0, 60)
        await call.wait_done(60)
    await asyncio.sleep(1.0)
    late0, ticks0 = ticker.late_ticks, ticker.ticks
    busy = await cpu_over(app, seconds)
    rss_busy = app.rss_mb()
    late = 100 * (ticker.late_ticks - late0) / max(1, ticker.ticks - ticks0)
    for call in calls:
        await call.stop()
    await asyncio.sleep(2.0)
    return {
        "calls": count,
        "measured_s": seconds,
        "app_cores_idle": round(idle, 4),
        "app_cores_with_calls": round(busy, 4),
        "cores_per_connected_call": round((busy - idle) / count, 4),
        "caller_line_late_ticks_pct": round(late, 2),
        "app_rss_mb_idle": round(rss_idle, 1),
        "app_rss_mb_with_calls": round(rss_busy, 1),
        "app_rss_mb_after": round(app.rss_mb(), 1),
    }


async def cpu_over(app: AppProcess, seconds: float) -> float:
    before, t0 = app.cpu_s(), time.monotonic()
    await asyncio.sleep(seconds)
    return (app.cpu_s() - before) / (time.monotonic() - t0)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    stats = Path(tempfile.mkstemp(suffix=".json")[1])
    providers = Child(["--providers", str(stats)], stdout=subprocess.PIPE)
    app: AppProcess | None = None
    try:
        line = await asyncio.to_thread(providers.proc.stdout.readline)
        urls = json.loads(line)
        app = cloud_app(urls, args.workers)
        await app.wait_ready()
        for q in QUESTIONS:
            await speech(q)
        ticker = Ticker()
        ticker.start()
        await level(app, ticker, 2, 1, 0.0, (0.5, 1.0), 0)  # warm-up (not reported): models load, caches fill
        report: dict[str, Any] = {
            "benchmark": "cloud_stack_overhead",
            "machine_cores": os.cpu_count(),
            "stack": "pipecat DeepgramSTTService + Silero VAD/smart turn v3 + LLM brain (OpenAI protocol) + "
            "pipecat ElevenLabsTTSService (pcm_8000), against local protocol servers",
            "provider_delays_ms": DELAYS_MS,
            "app_workers": args.workers,
            "app_rss_mb_start": round(app.rss_mb(), 1),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "levels": [await level(app, ticker, 1, args.turns, 0.0, (0.5, 1.5), 1)],
        }
        for i, calls in enumerate(args.calls):
            # turns spread out: the more calls, the longer the pauses (about a third of calls in a turn)
            pause = (0.5, 3.0) if calls <= 10 else (3.0, 12.0)
            turns = 4 if calls <= 10 else 2
            report["levels"].append(
                await level(app, ticker, calls, turns, max(2.0, calls / 10), pause, 2 + i)
            )
        if args.silent:
            report["silent_calls"] = await silent_calls(app, ticker, args.silent, 10.0)
        await ticker.stop()
        report["app_rss_mb_end"] = round(app.rss_mb(), 1)
        report["targets"] = {"overhead_p95_ms_at_100_calls": 100, "cores_per_connected_call": 0.015}
        app.stop()
        app = None
        providers.stop()
        report["providers_measured"] = read_json(stats)
        return report
    finally:
        if app is not None:
            app.stop()
        providers.stop()
        read_json(stats)


def cli() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--providers":
        asyncio.run(run_providers(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=6, help="turns of the single call")
    parser.add_argument(
        "--calls", type=int, nargs="*", default=[10, 50, 100], help="concurrency levels after 1"
    )
    parser.add_argument("--silent", type=int, default=100, help="connected silent calls for the CPU figure")
    parser.add_argument("--workers", type=int, default=1, help="app processes on the port (LISA_WORKERS)")
    args = parser.parse_args()
    report = asyncio.run(main(args))
    out = RESULTS if args.workers == 1 else RESULTS.with_name(f"cloud_{args.workers}_workers.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    cli()
