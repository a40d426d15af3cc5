"""The Deepgram and ElevenLabs protocol servers speak their providers' wire protocols: the real deepgram-sdk
client and a plain WebSocket client exercise handshakes (auth, bad parameters), messages and closes, with
real audio. Fast (no speech models); the full calls through pipecat are in ``test_cloud_providers.py``."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import pytest
from deepgram import AsyncDeepgramClient, DeepgramClientEnvironment
from deepgram.core import ApiError
from deepgram.core.events import EventType
from deepgram.listen.v1.types import ListenV1Metadata, ListenV1Results, ListenV1UtteranceEnd
from fakes.deepgram_protocol_server import DeepgramProtocolServer
from fakes.elevenlabs_protocol_server import ElevenLabsProtocolServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from telephony.audio_codec import ulaw_to_pcm16

pytestmark = pytest.mark.timeout(60)

KEY = "test-key-0123456789"
FRAME = 320  # 20 ms of 16-bit PCM at 8 kHz


def tone(seconds: float, hz: float = 220.0, amplitude: int = 6000) -> bytes:
    t = np.arange(int(seconds * 8000)) / 8000
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype(np.int16).tobytes()


def silence(seconds: float) -> bytes:
    return b"\x00" * (int(seconds * 8000) * 2)


def deepgram_client(server: DeepgramProtocolServer, key: str = KEY) -> AsyncDeepgramClient:
    env = DeepgramClientEnvironment(
        base=f"http://127.0.0.1:{server.port}", production=server.url, agent=server.url, agent_rest="http://x"
    )
    return AsyncDeepgramClient(api_key=key, environment=env)


async def stream_audio(connection: Any, pcm: bytes, realtime: bool = True) -> None:
    for i in range(0, len(pcm), FRAME):
        await connection.send_media(pcm[i : i + FRAME])
        if realtime:
            await asyncio.sleep(0.02)


@pytest.fixture
async def deepgram() -> AsyncIterator[DeepgramProtocolServer]:
    async with DeepgramProtocolServer(
        ["Hello there.", "I would like an appointment."], api_key=KEY, final_delay_s=0.15
    ) as server:
        yield server


async def test_deepgram_results_interims_utterance_end_and_close_stream(deepgram):
    messages: list[Any] = []
    async with deepgram_client(deepgram).listen.v1.connect(
        model="nova-3",
        encoding="linear16",
        sample_rate="8000",
        interim_results="true",
        utterance_end_ms="1000",
        vad_events="true",
    ) as connection:

        async def on_message(message: Any) -> None:
            messages.append((time.monotonic(), message))

        connection.on(EventType.MESSAGE, on_message)
        listening = asyncio.create_task(connection.start_listening())
        await stream_audio(connection, tone(1.0) + silence(0.5))
        speech_end = deepgram.sessions[0].speech_end_times[0]
        await stream_audio(connection, tone(0.6) + silence(1.2))
        await connection.send_keep_alive()
        await connection.send_close_stream()
        await asyncio.wait_for(listening, 5)

    results = [m for _, m in messages if isinstance(m, ListenV1Results)]
    finals = [r for r in results if r.is_final]
    assert [r.channel.alternatives[0].transcript for r in finals] == [
        "Hello there.",
        "I would like an appointment.",
    ]
    assert all(r.speech_final for r in finals)
    assert finals[0].channel.alternatives[0].words[0].punctuated_word == "Hello"
    assert 0.9 < finals[0].duration < 1.2 and finals[1].start > finals[0].start + finals[0].duration
    interims = [r for r in results if not r.is_final]
    assert interims and interims[0].channel.alternatives[0].transcript == "Hello"
    # UtteranceEnd: not after the first utterance (words again within 1000 ms), once after the second
    (utterance_end,) = [m for _, m in messages if isinstance(m, ListenV1UtteranceEnd)]
    assert utterance_end.last_word_end == pytest.approx(finals[1].start + finals[1].duration, abs=0.01)
    kinds = [type(m).__name__ for _, m in messages]
    assert kinds.index("ListenV1UtteranceEnd") > max(i for i, (_, m) in enumerate(messages) if m in finals)
    final_at = next(t for t, m in messages if isinstance(m, ListenV1Results) and m.is_final)
    assert 0.13 <= final_at - speech_end < 0.35  # the fixed STT delay after the end of speech
    assert isinstance(messages[-1][1], ListenV1Metadata) and messages[-1][1].channels == 1
    session = deepgram.sessions[0]
    assert session.params["model"] == "nova-3" and session.params["sample_rate"] == "8000"
    assert session.control == ["KeepAlive", "CloseStream"]
    assert session.closed_code == 1000
    assert "authorization" not in session.headers  # the key is never kept


async def listen(server: DeepgramProtocolServer, pcm: bytes, **query: str) -> list[tuple[float, Any]]:
    """Stream ``pcm`` in real time, close the stream, return every message (time received, message)."""
    messages: list[tuple[float, Any]] = []
    async with deepgram_client(server).listen.v1.connect(
        model="nova-3", encoding="linear16", sample_rate="8000", **query
    ) as connection:

        async def on_message(message: Any) -> None:
            messages.append((time.monotonic(), message))

        connection.on(EventType.MESSAGE, on_message)
        listening = asyncio.create_task(connection.start_listening())
        await stream_audio(connection, pcm)
        await connection.send_close_stream()
        await asyncio.wait_for(listening, 5)
    return messages


def finals_of(messages: list[tuple[float, Any]]) -> list[tuple[str, bool]]:
    return [
        (m.channel.alternatives[0].transcript, m.speech_final)
        for _, m in messages
        if isinstance(m, ListenV1Results) and m.is_final
    ]


async def test_deepgram_splits_an_utterance_into_finals_with_speech_final_only_on_the_last():
    parts = ("I would like to book an appointment.", "Tomorrow at ten would be great.")
    async with DeepgramProtocolServer([parts, "Thanks."], api_key=KEY, split_gap_s=0.2) as server:
        messages = await listen(
            server,
            tone(1.2) + silence(1.3) + tone(0.4) + silence(0.3),
            interim_results="true",
            utterance_end_ms="1000",
        )
    assert finals_of(messages) == [(parts[0], False), (parts[1], True), ("Thanks.", True)]
    results = [m for _, m in messages if isinstance(m, ListenV1Results) and m.is_final]
    assert results[1].start == pytest.approx(results[0].start + results[0].duration, abs=0.01)
    times = [t for t, m in messages if isinstance(m, ListenV1Results) and m.is_final]
    assert 0.15 <= times[1] - times[0] < 0.5  # the second part follows the first, split_gap_s later
    # one UtteranceEnd for the split utterance (after both parts); none for "Thanks." (stream closed first)
    ends = [(t, m) for t, m in messages if isinstance(m, ListenV1UtteranceEnd)]
    assert len(ends) == 1 and ends[0][0] > times[1]


async def test_deepgram_on_a_noisy_line_only_utterance_end_closes_the_utterance():
    rng = np.random.default_rng(7)
    noise = (rng.normal(0, 40, int(8000 * 1.6))).astype(np.int16).tobytes()  # below the speech threshold
    async with DeepgramProtocolServer(["Tomorrow at ten"], api_key=KEY, endpointing_fires=False) as server:
        messages = await listen(server, tone(0.8) + noise, interim_results="true", utterance_end_ms="1000")
        no_request = await listen(server, tone(0.8) + noise, interim_results="true")
    assert finals_of(messages) == [("Tomorrow at ten", False)]
    (end,) = [m for _, m in messages if isinstance(m, ListenV1UtteranceEnd)]
    assert end.last_word_end == pytest.approx(0.8, abs=0.05)
    assert not [m for _, m in no_request if isinstance(m, ListenV1UtteranceEnd)]  # only when asked for
    # a client that stops streaming in the pause gets no UtteranceEnd (Deepgram measures the gap in audio)
    async with DeepgramProtocolServer(["Tomorrow at ten"], api_key=KEY, endpointing_fires=False) as server:
        short = await listen(
            server, tone(0.8) + silence(0.6), interim_results="true", utterance_end_ms="1000"
        )
    assert finals_of(short) == [("Tomorrow at ten", False)]
    assert not [m for _, m in short if isinstance(m, ListenV1UtteranceEnd)]


async def test_deepgram_finalize_flushes_the_speech_so_far(deepgram):
    finals: list[ListenV1Results] = []
    async with deepgram_client(deepgram).listen.v1.connect(
        model="nova-3", encoding="linear16", sample_rate="8000"
    ) as connection:

        async def on_message(message: Any) -> None:
            if isinstance(message, ListenV1Results) and message.is_final:
                finals.append(message)

        connection.on(EventType.MESSAGE, on_message)
        listening = asyncio.create_task(connection.start_listening())
        await stream_audio(connection, tone(0.5), realtime=False)
        await connection.send_finalize()
        await asyncio.sleep(0.4)
        await connection.send_finalize()  # nothing left: an empty from_finalize result
        await asyncio.sleep(0.1)
        await connection.send_close_stream()
        await asyncio.wait_for(listening, 5)
    assert [(f.channel.alternatives[0].transcript, f.from_finalize) for f in finals] == [
        ("Hello there.", True),
        ("", True),
    ]


@pytest.mark.parametrize(
    ("key", "query", "status"),
    [
        ("wrong-key", {"encoding": "linear16", "sample_rate": "8000"}, 401),
        (KEY, {"encoding": "linear16"}, 400),
        (KEY, {"encoding": "opus", "sample_rate": "8000"}, 400),
    ],
)
async def test_deepgram_handshake_errors(deepgram, key, query, status):
    with pytest.raises(ApiError) as raised:
        async with deepgram_client(deepgram, key).listen.v1.connect(model="nova-3", **query):
            pass
    assert raised.value.status_code == status
    assert deepgram.handshakes[-1][1] == status and not deepgram.sessions


async def test_deepgram_injected_failures_and_idle_timeout():
    async with DeepgramProtocolServer(api_key=KEY, idle_timeout_s=0.3) as server:
        server.refuse_next(1, status=503)
        with pytest.raises(ApiError) as raised:
            async with deepgram_client(server).listen.v1.connect(
                model="nova-3", encoding="linear16", sample_rate="8000"
            ):
                pass
        assert raised.value.status_code == 503
        async with connect(
            f"{server.url}/v1/listen?encoding=linear16&sample_rate=8000",
            additional_headers={"Authorization": f"Token {KEY}"},
        ) as ws:
            error = json.loads(await asyncio.wait_for(ws.recv(), 2))  # no audio for 0.3 s: NET-0001
            assert error["type"] == "Error" and error["variant"] == "NET-0001"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 2)
            assert ws.close_code == 1011
        server.drop_next(1, after_s=0.1)
        async with connect(
            f"{server.url}/v1/listen?encoding=linear16&sample_rate=8000",
            additional_headers={"Authorization": f"Token {KEY}"},
        ) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 2)
            assert ws.close_code == 1011


# -- ElevenLabs ------------------------------------------------------------------------------------------


def eleven_url(server: ElevenLabsProtocolServer, output_format: str = "pcm_8000", voice: str = "v1") -> str:
    return (
        f"{server.url}/v1/text-to-speech/{voice}/multi-stream-input?model_id=eleven_flash_v2_5"
        f"&output_format={output_format}&auto_mode=true"
    )


async def receive_until_final(ws: Any, context_id: str) -> list[dict[str, Any]]:
    out = []
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        out.append(msg)
        if msg.get("isFinal") and msg.get("contextId") == context_id:
            return out


def dominant_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(
    ("output_format", "rate", "ulaw"), [("pcm_8000", 8000, False), ("ulaw_8000", 8000, True)]
)
async def test_elevenlabs_contexts_audio_alignment_and_final(output_format, rate, ulaw):
    server = ElevenLabsProtocolServer(api_key=KEY, first_byte_delay_s=0.2, ms_per_char=50)
    async with (
        server,
        connect(eleven_url(server, output_format), additional_headers={"xi-api-key": KEY}) as ws,
    ):
        loop = asyncio.get_running_loop()
        await ws.send(json.dumps({"text": " ", "context_id": "c1", "voice_settings": {"stability": 0.5}}))
        sent_at = loop.time()
        await ws.send(json.dumps({"text": "Hello, this is Lisa. ", "context_id": "c1"}))
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        first_at = loop.time()
        await ws.send(json.dumps({"context_id": "c1", "flush": True}))
        await ws.send(json.dumps({"context_id": "c1", "close_context": True}))
        rest = await receive_until_final(ws, "c1")
        await ws.send(json.dumps({"text": ""}))  # keepalive without a context
        await ws.send(json.dumps({"close_socket": True}))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1000

    assert 0.18 <= first_at - sent_at < 0.4  # the fixed first-byte delay
    chunks = [first, *rest[:-1]]
    assert all(c["contextId"] == "c1" and c["audio"] for c in chunks)
    audio = b"".join(base64.b64decode(c["audio"]) for c in chunks)
    pcm = ulaw_to_pcm16(audio) if ulaw else audio
    assert abs(len(pcm) / 2 / rate - len("Hello, this is Lisa. ".strip()) * 0.05) < 0.05
    assert abs(dominant_hz(pcm, rate) - 140) < 5  # the voiced tone at the requested rate, not resampled
    spoken = "".join("".join(c["alignment"]["chars"]) for c in chunks if c["alignment"])
    assert spoken == "Hello, this is Lisa. "
    assert all(
        len(c["alignment"]["chars"]) == len(c["alignment"]["charStartTimesMs"])
        for c in chunks
        if c["alignment"]
    )
    (session,) = server.sessions
    assert session.voice_id == "v1" and session.keepalives == 1
    assert session.contexts["c1"].voice_settings == {"stability": 0.5}
    assert session.contexts["c1"].final_sent


async def test_elevenlabs_close_context_before_audio_stops_it_and_other_contexts_go_on():
    server = ElevenLabsProtocolServer(first_byte_delay_s=0.3)
    async with server, connect(eleven_url(server)) as ws:
        await ws.send(json.dumps({"text": " ", "context_id": "a"}))
        await ws.send(json.dumps({"text": "Interrupted sentence. ", "context_id": "a"}))
        await ws.send(json.dumps({"text": " ", "context_id": "b"}))
        await ws.send(json.dumps({"text": "Next one. ", "context_id": "b"}))
        await ws.send(json.dumps({"context_id": "b", "close_context": True}))
        got = await receive_until_final(ws, "b")
        await ws.send(json.dumps({"context_id": "a", "close_context": True}))
        got += await receive_until_final(ws, "a")
    assert {m["contextId"] for m in got if m.get("audio")} >= {"b"}
    assert [m["contextId"] for m in got if m.get("isFinal")] == ["b", "a"]


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/v1/text-to-speech/v1/multi-stream-input?output_format=pcm_8000", "wrong", 401),
        ("/v1/text-to-speech/v1/multi-stream-input?output_format=mp3_44100_128", KEY, 400),
        ("/v1/text-to-speech/v1/multi-stream-input?output_format=ulaw_16000", KEY, 400),
        ("/v1/nope", KEY, 404),
    ],
)
async def test_elevenlabs_handshake_errors(path, key, status):
    async with ElevenLabsProtocolServer(api_key=KEY) as server:
        with pytest.raises(InvalidStatus) as raised:
            async with connect(f"{server.url}{path}", additional_headers={"xi-api-key": key}):
                pass
        assert raised.value.response.status_code == status
        assert KEY not in raised.value.response.body.decode()


async def test_elevenlabs_garbage_gets_an_error_and_a_policy_close():
    async with ElevenLabsProtocolServer() as server, connect(eleven_url(server)) as ws:
        await ws.send("this is not json")
        error = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert error["error"] == "invalid_message" and error["code"] == 1008
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
        assert ws.close_code == 1008


async def test_elevenlabs_fails_mid_call_after_n_pieces_by_dropping_or_stalling():
    """``fail_after``: the pieces before are spoken; ``drop`` closes the socket (1011) as the next arrives and
    the following connection works; ``stall`` takes that piece and every later one and never answers."""
    server = ElevenLabsProtocolServer(first_byte_delay_s=0.05)
    async with server:
        server.fail_after(1, "drop")
        async with connect(eleven_url(server)) as ws:
            await ws.send(json.dumps({"text": "First. ", "context_id": "a"}))
            await ws.send(json.dumps({"context_id": "a", "close_context": True}))
            assert any(m.get("audio") for m in await receive_until_final(ws, "a"))
            await ws.send(json.dumps({"text": "Second. ", "context_id": "b"}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 2)
            assert ws.close_code == 1011
        async with connect(eleven_url(server)) as ws:  # reconnected: speaks again
            await ws.send(json.dumps({"text": "Third. ", "context_id": "c"}))
            await ws.send(json.dumps({"context_id": "c", "close_context": True}))
            assert any(m.get("audio") for m in await receive_until_final(ws, "c"))
            server.fail_after(0, "stall")
            for context in ("d", "e"):
                await ws.send(json.dumps({"text": "Never answered. ", "context_id": context}))
                await ws.send(json.dumps({"context_id": context, "close_context": True}))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)  # no audio, no isFinal
    assert [t.strip() for t in server.failed] == ["Second.", "Never answered.", "Never answered."]
    assert [t.strip() for c in server.contexts() for t in c.spoken] == ["First.", "Third."]


async def test_elevenlabs_allows_five_open_contexts_per_connection():
    server = ElevenLabsProtocolServer(first_byte_delay_s=5.0)
    async with server, connect(eleven_url(server)) as ws:
        for n in range(5):
            await ws.send(json.dumps({"text": "Still speaking. ", "context_id": f"c{n}"}))
        await ws.send(json.dumps({"text": "One too many. ", "context_id": "c5"}))
        error = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert error["error"] == "max_active_conversations" and error["code"] == 1008
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
        assert ws.close_code == 1008


def test_provider_errors_are_reported_without_keys_or_sdk_headers():
    from pipecat.frames.frames import ErrorFrame

    from pipelines.providers import _provider_error

    raw = (
        "connection error: headers: {'User-Agent': 'deepgram-sdk/7', 'Authorization': '[REDACTED]'}, "
        f"status_code: 503, body: rejected {KEY}"
    )
    reported = _provider_error(ErrorFrame(error=raw), "stt", "deepgram", KEY)
    assert reported.error == "connection error: status_code: 503, body: rejected ***"
    assert (reported.stage, reported.provider, reported.permanent) == ("stt", "deepgram", False)
    assert _provider_error(ErrorFrame(error="gone", fatal=True), "tts", "elevenlabs", KEY).permanent


# ----------------------------------------------------------------------------- Twilio REST


class _Callbacks:
    """A plain HTTP receiver for Twilio's status callbacks: every POST's path and form, in order."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                received.append((self.path, {k: v[0] for k, v in parse_qs(body).items()}))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_twilio_sends_only_the_status_callbacks_and_machine_detection_a_call_asked_for():
    from fakes.twilio_rest_protocol_server import TwilioRestProtocolServer
    from twilio.rest import Client

    account, token = "AC" + "2" * 32, "rest-token"
    receiver = _Callbacks()
    try:
        with TwilioRestProtocolServer(account, token) as twilio:
            client = Client(account, token)
            client.api.base_url = twilio.base_url
            twiml = "<Response><Hangup/></Response>"
            create = client.calls.create
            plain = create(
                to="+493012345678", from_="+15005550006", twiml=twiml, status_callback=f"{receiver.url}/plain"
            )
            answered = create(
                to="+493012345678",
                from_="+15005550006",
                twiml=twiml,
                status_callback=f"{receiver.url}/answered",
                status_callback_event=["answered"],
            )
            amd = create(
                to="+493012345678",
                from_="+15005550006",
                twiml=twiml,
                status_callback=f"{receiver.url}/amd",
                machine_detection="Enable",
                async_amd="true",
                async_amd_status_callback=f"{receiver.url}/amd-result",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
            sync_amd = create(
                to="+493012345678",
                from_="+15005550006",
                twiml=twiml,
                status_callback=f"{receiver.url}/sync",
                machine_detection="Enable",
                status_callback_event=["answered"],
            )
            for sid in (plain.sid, answered.sid, amd.sid, sync_amd.sid):
                await twilio.answer(sid, answered_by="machine_start")
                await twilio.answer(sid, statuses=("completed",), answered_by=None)
    finally:
        receiver.close()

    def got(path: str) -> list[tuple[str | None, str | None]]:
        return [(f.get("CallStatus"), f.get("AnsweredBy")) for p, f in receiver.received if p == path]

    assert got("/plain") == [("completed", None)]  # no StatusCallbackEvent: only "completed"
    assert got("/answered") == [("in-progress", None), ("completed", None)]  # no MachineDetection: no AMD
    assert got("/amd") == [("queued", None), ("ringing", None), ("in-progress", None), ("completed", None)]
    assert got("/amd-result") == [(None, "machine_start")]  # the asynchronous result, once
    assert got("/sync") == [("in-progress", "machine_start"), ("completed", None)]
    assert all(f["AccountSid"] == account for _, f in receiver.received)
