"""The Twilio end of a media stream, simulated: for tests, the loopback carrier, replays and benchmarks.

:class:`MediaStreamClient` connects to a media WebSocket exactly as Twilio does (the wire protocol is
:mod:`telephony.media_stream`), streams a continuous 20 ms μ-law line (silence when the party says nothing,
like a real phone line), "plays" what Lisa sends in real time, echoes her marks when playback reaches them
and honours ``clear``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telephony.audio_codec import pcm16_to_ulaw, resample_pcm16, ulaw_to_pcm16
from telephony.media_stream import (
    FRAME_BYTES,
    FRAME_MS,
    SAMPLE_RATE,
    ULAW_SILENCE,
    OutMark,
    OutMedia,
    ProtocolError,
    TwilioMessages,
    parse_outbound_message,
)

log = logging.getLogger(__name__)

ALIGN_FRAMES = 8  # paced sends start on a 160 ms grid (see MediaStreamClient.connect)

# --------------------------------------------------------------------------- the Twilio side of a call

# A frame hook sees each outgoing 20 ms μ-law frame (index, bytes) and returns the frame to send, or None
# to drop it; it may be async and sleep to delay (jitter) the line.
FrameHook = Callable[[int, bytes], "bytes | None | Awaitable[bytes | None]"]


@dataclass
class LisaUtterance:
    """One stretch of Lisa's audio, from the first media after a mark/clear to the next mark/clear."""

    index: int
    first_media_ms: float  # when its first media byte arrived (ms since the stream started)
    last_media_ms: float
    ulaw: bytearray = field(default_factory=bytearray)
    play_start_ms: float = 0.0  # when playback of it began
    played_bytes: int | None = None  # set by a clear that cut it short: how much was actually played
    marks: list[str] = field(default_factory=list)
    cleared: bool = False

    @property
    def duration_ms(self) -> float:
        return len(self.ulaw) / SAMPLE_RATE * 1000

    def pcm(self) -> bytes:
        return ulaw_to_pcm16(bytes(self.ulaw))

    def played_pcm(self) -> bytes:
        end = len(self.ulaw) if self.played_bytes is None else self.played_bytes
        return ulaw_to_pcm16(bytes(self.ulaw[:end]))


@dataclass(frozen=True)
class ReceivedChunk:
    at_ms: float  # arrival (ms since stream start)
    play_ms: float  # scheduled playback start
    ulaw: bytes
    utterance: int


@dataclass(frozen=True)
class MarkEcho:
    name: str
    received_ms: float  # when Lisa's mark arrived
    echoed_ms: float  # when we echoed it (playback reached it, or a clear)
    by_clear: bool = False


class MediaStreamClient:
    """The Twilio end of one media stream (see the module docstring). Use :meth:`connect`."""

    def __init__(
        self,
        ws: Any,
        *,
        call_sid: str,
        stream_sid: str,
        account_sid: str,
        custom_parameters: dict[str, str],
        frame_hook: FrameHook | None = None,
        continuous: bool = True,
        align_frames: int = ALIGN_FRAMES,
    ) -> None:
        self._ws = ws
        self.call_sid, self.stream_sid, self.account_sid = call_sid, stream_sid, account_sid
        self.custom_parameters = dict(custom_parameters)
        self.frame_hook = frame_hook
        self.continuous = continuous
        self.align_frames = max(1, align_frames)
        self._msgs = TwilioMessages(stream_sid, call_sid, account_sid)
        self._send_lock = asyncio.Lock()
        self.t0 = time.monotonic()
        # Lisa -> us
        self.utterances: list[LisaUtterance] = []
        self.chunks: list[ReceivedChunk] = []
        self.marks: list[MarkEcho] = []
        self.clears: list[float] = []  # ms of each clear
        self.protocol_errors: list[str] = []
        self._current: LisaUtterance | None = None
        self._play_end = 0.0  # monotonic time when everything received so far has been played
        self._pending_marks: deque[tuple[str, float, float]] = deque()  # name, due, received
        self._changed = asyncio.Event()
        self._activity = asyncio.Event()
        self._last_media_at = 0.0
        # us -> Lisa
        # queued party frames: (frame, paced, the send's future, last frame of that send?, first frame?)
        self._frames: deque[tuple[bytes, bool, asyncio.Future[None], bool, bool]] = deque()
        self._frames_ready = asyncio.Event()
        self._frame_index = 0
        self._sent_ms = 0  # media timestamp: ms of audio sent on the line
        self.audio_sends: list[tuple[float, float]] = []  # (start_ms, end_ms) of each send_audio
        self._last_audio_send_start = -1.0
        self.dtmf_sent: list[tuple[str, float]] = []
        self.digits_heard: list[tuple[str, float]] = []  # keys Lisa pressed, as this end heard them
        self._digits_changed = asyncio.Event()
        # state
        self._closed = asyncio.Event()
        self.closed_by_server = False
        self.close_code: int | None = None
        self.close_reason = ""
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._line_task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------------- lifecycle

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls,
        ws_url: str,
        *,
        custom_parameters: dict[str, str] | None = None,
        call_sid: str | None = None,
        from_number: str | None = None,
        to_number: str | None = None,
        stream_sid: str | None = None,
        account_sid: str = "AC00000000000000000000000000000000",
        frame_hook: FrameHook | None = None,
        continuous: bool = True,
        align_frames: int = ALIGN_FRAMES,
        open_timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[MediaStreamClient]:
        """Open the stream and send ``connected`` + ``start`` as Twilio does; ``stop`` and close on exit.

        ``from_number`` / ``to_number`` become the ``from`` / ``to`` custom parameters unless given there.
        ``continuous`` keeps a 20 ms line running (silence between sends), as Twilio does.
        ``align_frames``: on a continuous line each paced send starts on a frame index that is a multiple of
        this (default 8 = 160 ms, the common grid of 20 ms frames and the 32 ms VAD windows), so the same
        speech reaches the server as the same windows and a test run is reproducible. 1 turns it off.
        ``headers`` go on the WebSocket upgrade (Twilio's ``X-Twilio-Signature``). The app serves a stream only
        with the ``stream_token`` parameter of the TwiML it answered for the call (``telephony/stream_tokens.py``):
        take the parameters from that TwiML (``LoopbackCarrier.call_in``, ``simulation.inbound_call``).
        """
        from websockets.asyncio.client import connect as ws_connect

        params = dict(custom_parameters or {})
        if from_number is not None:
            params.setdefault("from", from_number)
        if to_number is not None:
            params.setdefault("to", to_number)
        ws = await ws_connect(
            ws_url, open_timeout=open_timeout, max_size=2**22, compression=None, additional_headers=headers
        )
        client = cls(
            ws,
            call_sid=call_sid or "CA" + uuid.uuid4().hex,
            stream_sid=stream_sid or "MZ" + uuid.uuid4().hex,
            account_sid=account_sid,
            custom_parameters=params,
            frame_hook=frame_hook,
            continuous=continuous,
            align_frames=align_frames,
        )
        try:
            await client._begin()
            yield client
        finally:
            await client.stop()

    async def _begin(self) -> None:
        await self._ws.send(self._msgs.connected())
        self.t0 = time.monotonic()
        self._play_end = self.t0
        await self._ws.send(self._msgs.start(self.custom_parameters))
        self._line_task = asyncio.create_task(self._line_loop(), name=f"twilio-line-{self.call_sid}")
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name=f"twilio-rx-{self.call_sid}"),
            asyncio.create_task(self._player_loop(), name=f"twilio-play-{self.call_sid}"),
            self._line_task,
        ]

    async def stop(self, *, remote: bool = False) -> None:
        """End the stream as Twilio does: send ``stop`` and close (harmless if already closed).

        ``remote``: the call was ended from Lisa's side through the carrier (REST hang-up or transfer), so
        for the party it counts as Lisa hanging up (:attr:`closed_by_server`)."""
        if self._stopping:
            return
        self._stopping = True
        if remote and not self._closed.is_set():
            self.closed_by_server = True
        if not self._closed.is_set():
            with contextlib.suppress(Exception):
                async with self._send_lock:
                    await self._ws.send(self._msgs.stop())
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._fail_pending_frames()
        self._closed.set()

    @property
    def closed(self) -> bool:
        """The call is over: closed by Lisa's side (:attr:`closed_by_server`: her server closed the socket,
        or the carrier hung up / transferred) or by the party (:meth:`stop`)."""
        return self._closed.is_set()

    async def wait_closed(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._closed.wait(), timeout)

    def now_ms(self) -> float:
        return (time.monotonic() - self.t0) * 1000

    @property
    def line_ms(self) -> int:
        """Audio sent on the line so far (speech and silence), in ms."""
        return self._sent_ms

    def _ms(self, t: float) -> float:
        return (t - self.t0) * 1000

    # ----------------------------------------------------------------------- sending (the party)

    async def send_audio(
        self, audio: bytes, *, paced: bool = True, ulaw: bool = False, sample_rate: int = SAMPLE_RATE
    ) -> bool:
        """Send the party's audio as 20 ms media frames (16-bit PCM at ``sample_rate``, or μ-law 8 kHz).

        Paced: in real time on the line; returns when the last frame is sent. Unpaced: as fast as possible.
        Returns False (instead of raising) when the call closed before all of it was sent.
        """
        if not ulaw:
            if sample_rate != SAMPLE_RATE:
                audio = resample_pcm16(audio, sample_rate, SAMPLE_RATE)
            audio = pcm16_to_ulaw(audio)
        if not audio:
            return not self.closed
        start = self.now_ms()
        self._last_audio_send_start = start
        sent = await self._enqueue(audio, paced)
        self.audio_sends.append((start, self.now_ms()))
        return sent

    async def send_silence(self, ms: int, *, paced: bool = True) -> bool:
        """Send ``ms`` of μ-law silence (the party says nothing); False when the call closed meanwhile."""
        return await self._enqueue(ULAW_SILENCE * (SAMPLE_RATE * ms // 1000), paced)

    async def _enqueue(self, ulaw: bytes, paced: bool) -> bool:
        line = self._line_task
        if self.closed or not ulaw or line is None or line.done():
            return not self.closed and line is not None and not line.done()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        count = (len(ulaw) + FRAME_BYTES - 1) // FRAME_BYTES
        for i in range(count):
            frame = ulaw[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]
            if len(frame) < FRAME_BYTES:
                frame += ULAW_SILENCE * (FRAME_BYTES - len(frame))
            self._frames.append((frame, paced, done, i == count - 1, i == 0))
        self._frames_ready.set()
        try:
            await done
        except ConnectionError:
            return False
        except asyncio.CancelledError:  # the party stopped talking: drop what is not sent yet
            self._frames = deque(f for f in self._frames if f[2] is not done)
            raise
        return True

    def hear_digits(self, digits: str) -> None:
        """Keys Lisa pressed on the call (the carrier delivers them, as the line carries DTMF tones)."""
        for digit in digits:
            if digit not in "wW":
                self.digits_heard.append((digit, self.now_ms()))
        self._digits_changed.set()

    async def wait_digits(self, expected: str, since: int = 0, timeout: float = 10.0) -> str:  # noqa: ASYNC109
        """Wait until the keys heard after the first ``since`` ones are ``expected`` (or end with them); returns
        what was heard after ``since`` (TimeoutError after ``timeout`` s without them)."""
        deadline = time.monotonic() + timeout
        while True:
            heard = "".join(d for d, _ in self.digits_heard[since:])
            if heard.endswith(expected):
                return heard
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                raise TimeoutError(heard)
            self._digits_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._digits_changed.wait(), min(left, 0.5))

    async def send_dtmf(self, digit: str) -> bool:
        """Press a key (``0``-``9``, ``*``, ``#``); False when the call is already closed."""
        message = self._msgs.dtmf(digit)
        if self.closed:
            return False
        try:
            async with self._send_lock:
                await self._ws.send(message)
        except Exception:  # the socket went away
            return False
        self.dtmf_sent.append((digit, self.now_ms()))
        return True

    async def _send_frame(self, frame: bytes) -> None:
        hook = self.frame_hook
        index = self._frame_index
        self._frame_index += 1
        timestamp = self._sent_ms
        self._sent_ms += FRAME_MS
        if hook is not None:
            result = hook(index, frame)
            if inspect.isawaitable(result):
                result = await result
            if result is None:
                return  # dropped on the way
            frame = result
        message = self._msgs.media(frame, timestamp)
        async with self._send_lock:
            await self._ws.send(message)

    def _on_grid(self, queued: tuple[bytes, bool, asyncio.Future[None], bool, bool]) -> bool:
        """May this queued frame go now? A paced send on a continuous line starts on the alignment grid."""
        _frame, paced, _done, _last, first = queued
        return not (first and paced and self.continuous) or self._frame_index % self.align_frames == 0

    def _fail_pending_frames(self) -> None:
        while self._frames:
            done = self._frames.popleft()[2]
            if not done.done():
                done.set_exception(ConnectionError("media stream closed before the audio was sent"))

    async def _line_loop(self) -> None:
        """One 20 ms frame per tick: queued audio, else silence (continuous), like a phone line."""
        step = FRAME_MS / 1000
        next_at = time.monotonic()
        try:
            while not self._closed.is_set():
                if self._frames and self._on_grid(self._frames[0]):
                    frame, paced, batch, last, _first = self._frames.popleft()
                    done = batch if last else None
                    if not paced:
                        await self._send_frame(frame)
                        if done is not None and not done.done():
                            done.set_result(None)
                        next_at = time.monotonic()
                        continue
                elif self.continuous:
                    frame, done = ULAW_SILENCE * FRAME_BYTES, None
                else:
                    self._frames_ready.clear()
                    await self._frames_ready.wait()
                    next_at = max(next_at, time.monotonic())
                    continue
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.2:  # the loop stalled: resync rather than burst
                    next_at = time.monotonic()
                await self._send_frame(frame)
                if done is not None and not done.done():
                    done.set_result(None)
                next_at += step
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the socket went away
            log.debug("media line ended: %s", exc)
        finally:
            self._fail_pending_frames()

    # ----------------------------------------------------------------------- receiving (Lisa)

    async def _receive_loop(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self._ws:
                try:
                    message = parse_outbound_message(raw)
                except ProtocolError as exc:
                    self.protocol_errors.append(str(exc))
                    log.warning("media stream %s: bad message from server: %s", self.stream_sid, exc)
                    continue
                if message.stream_sid != self.stream_sid:
                    self.protocol_errors.append(f"{message.event} for stream {message.stream_sid}")
                    continue
                if isinstance(message, OutMedia):
                    self._on_media(message.payload)
                elif isinstance(message, OutMark):
                    self._on_mark(message.name)
                else:
                    await self._on_clear()
        except ConnectionClosed:
            pass
        finally:
            if not self._stopping:
                self.closed_by_server = True
            self.close_code = getattr(self._ws, "close_code", None)
            self.close_reason = getattr(self._ws, "close_reason", "") or ""
            self._closed.set()
            self._changed.set()
            self._activity.set()

    def _on_media(self, ulaw: bytes) -> None:
        now = time.monotonic()
        now_ms = self._ms(now)
        play_at = max(now, self._play_end)
        if self._current is None:
            self._current = LisaUtterance(
                index=len(self.utterances),
                first_media_ms=now_ms,
                last_media_ms=now_ms,
                play_start_ms=self._ms(play_at),
            )
            self.utterances.append(self._current)
        utt = self._current
        utt.ulaw += ulaw
        utt.last_media_ms = now_ms
        self.chunks.append(ReceivedChunk(now_ms, self._ms(play_at), ulaw, utt.index))
        self._play_end = play_at + len(ulaw) / SAMPLE_RATE
        self._last_media_at = now
        self._activity.set()

    def _on_mark(self, name: str) -> None:
        now = time.monotonic()
        self._pending_marks.append((name, max(now, self._play_end), now))
        if self._current is not None:
            self._current.marks.append(name)
            self._current = None
        self._changed.set()
        self._activity.set()

    async def _on_clear(self) -> None:
        now = time.monotonic()
        now_ms = self._ms(now)
        self.clears.append(now_ms)
        if self._play_end > now:  # some audio was still to be played: record how much was heard
            for utt in self.utterances:
                chunks = [c for c in self.chunks if c.utterance == utt.index]
                if chunks and chunks[-1].play_ms + len(chunks[-1].ulaw) / 8 > now_ms:
                    utt.cleared = True
                    utt.played_bytes = sum(
                        min(len(c.ulaw), max(0, int((now_ms - c.play_ms) * 8))) for c in chunks
                    )
        self._play_end = now
        self._current = None
        while self._pending_marks:  # Twilio echoes the marks of the audio it dropped at once
            name, _, received = self._pending_marks.popleft()
            await self._echo(name, received, by_clear=True)
        self._changed.set()
        self._activity.set()

    async def _echo(self, name: str, received: float, *, by_clear: bool = False) -> None:
        message = self._msgs.mark(name)
        with contextlib.suppress(Exception):
            async with self._send_lock:
                await self._ws.send(message)
        self.marks.append(MarkEcho(name, self._ms(received), self.now_ms(), by_clear))
        self._activity.set()

    async def _player_loop(self) -> None:
        """Echo each mark when playback reaches it (real time)."""
        while not self._closed.is_set():
            if not self._pending_marks:
                self._changed.clear()
                await self._changed.wait()
                continue
            name, due, received = self._pending_marks[0]
            delay = due - time.monotonic()
            if delay > 0:
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), delay)
                continue
            self._pending_marks.popleft()
            await self._echo(name, received)

    # ----------------------------------------------------------------------- waiting and results

    @property
    def lisa_speaking(self) -> bool:
        """Lisa's audio is playing, or she has marks not yet played."""
        return time.monotonic() < self._play_end or bool(self._pending_marks)

    @property
    def lisa_quiet_for_s(self) -> float:
        """Seconds since Lisa's last audio arrived or finished playing (0 while she is speaking)."""
        if self.lisa_speaking:
            return 0.0
        return max(0.0, time.monotonic() - max(self._play_end, self._last_media_at))

    async def wait_lisa_speaking(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        after_ms: float | None = None,
    ) -> LisaUtterance:
        """Wait for an utterance whose first media arrives after ``after_ms`` (default: now)."""
        since = self.now_ms() if after_ms is None else after_ms

        def found() -> LisaUtterance | None:
            for utt in reversed(self.utterances):
                if utt.first_media_ms >= since:
                    return utt
            return None

        deadline = time.monotonic() + timeout
        while (utt := found()) is None:
            if self.closed:
                raise ConnectionError("call ended before Lisa spoke")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"Lisa did not start speaking within {timeout:.1f} s")
            self._activity.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._activity.wait(), remaining)
        return utt

    async def wait_lisa_done(
        self,
        timeout: float = 30.0,  # noqa: ASYNC109
        *,
        settle: float = 0.4,
        new_utterance: bool = True,
    ) -> list[LisaUtterance]:
        """Wait until Lisa has finished: her audio has played, all her marks came back and nothing new
        arrived for ``settle`` seconds. With ``new_utterance`` she must first have started an utterance
        after the party's last :meth:`send_audio` began (so this waits for her reply). Returns when the
        call closes, too. Returns the utterances since that point; :class:`TimeoutError` otherwise."""
        since = self._last_audio_send_start
        deadline = time.monotonic() + timeout

        def replies() -> list[LisaUtterance]:
            return [u for u in self.utterances if u.first_media_ms >= since]

        while True:
            if self.closed:
                return replies()
            now = time.monotonic()
            quiet_for = now - max(self._play_end, self._last_media_at)
            if not self._pending_marks and quiet_for >= settle and (not new_utterance or replies()):
                return replies()
            remaining = deadline - now
            if remaining <= 0:
                what = "finish speaking" if replies() else "speak"
                raise TimeoutError(f"Lisa did not {what} within {timeout:.1f} s")
            wake = settle - quiet_for if quiet_for < settle else settle
            self._activity.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._activity.wait(), min(remaining, max(0.01, wake)))

    def received_audio(self) -> list[ReceivedChunk]:
        """Everything Lisa sent, chunk by chunk with arrival/playback times (μ-law; see :meth:`received_pcm`)."""
        return list(self.chunks)

    def received_pcm(self) -> bytes:
        """Everything Lisa sent as 16-bit PCM at 8 kHz."""
        return ulaw_to_pcm16(b"".join(c.ulaw for c in self.chunks))
