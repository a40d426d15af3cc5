"""The loopback carrier of the embedded default: "calls" a simulated party on our own media WebSocket.

``register_party(number, party)`` with ``party`` an ``async (call) -> None``; ``place_call`` then has its
``far_end`` (the app gives it :class:`simulation.far_end.SimulatedFarEnd`) open the call's stream to the app's
``/twilio/media`` with the call's parameters and run the party on it, reporting ``queued`` → ``ringing`` →
``in-progress`` (AnsweredBy ``human``) → ``completed`` to the call status listeners, as Twilio would. A number
with no party registered rings out: ``no-answer``. When the party returns, it hangs up; when Lisa hangs up
(``hangup``) the stream stops and the party's pending sends and waits end. ``call_in`` plays a call *to* our
number: the app's ``/twilio/voice`` answer, then the stream its TwiML names.

Streams are served only with a stream token (``telephony/stream_tokens.py``): the carrier issues it from
the app's token store (``tokens``) exactly where Twilio's carrier does (placing a call; answering one), puts it
into the stream's parameters and, when a ``TWILIO_AUTH_TOKEN`` is configured, signs the upgrade as Twilio
would. No stream store, no token: the app refuses the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Protocol, TypeVar

from telephony.carrier import CarrierError
from telephony.phone_numbers import mask_phone
from telephony.signature import SIGNATURE_HEADER, sign
from telephony.status import StatusBus
from telephony.stream_tokens import TOKEN_PARAMETER, StreamTokens
from telephony.twiml import connect_call, stream_of, voice_parameters

log = logging.getLogger(__name__)

DETECTION_S = 1.5  # how long simulated answering-machine detection listens before it says machine/fax


class LoopbackCall(Protocol):
    """What the carrier needs of a live call's stream (the far end's Twilio side of it)."""

    @property
    def call_sid(self) -> str: ...

    @property
    def closed(self) -> bool: ...

    @property
    def closed_by_server(self) -> bool: ...

    async def stop(self, *, remote: bool = False) -> None: ...

    def hear_digits(self, digits: str) -> None: ...


CallT = TypeVar("CallT", bound=LoopbackCall)


class FarEnd(Protocol[CallT]):
    """The other end of the loopback carrier's calls (:class:`simulation.far_end.SimulatedFarEnd`)."""

    def connect(
        self, url: str, *, custom_parameters: dict[str, str], call_sid: str, **connect: Any
    ) -> AbstractAsyncContextManager[CallT]:
        """The stream of one call, opened as Twilio would (``connect``: headers, numbers…)."""
        ...

    async def converse(
        self, call: CallT, party: Callable[[CallT], Awaitable[None]], answered: Callable[[], Awaitable[None]]
    ) -> None:
        """Run ``party`` on the answered ``call`` until it is done; ``answered`` once it runs."""
        ...


def normalize_number(number: str) -> str:
    return re.sub(r"[^\d+]", "", number or "")


class LoopbackCarrier(Generic[CallT]):
    name = "loopback"

    def __init__(
        self,
        media_url: str | Callable[[], str],
        *,
        far_end: FarEnd[CallT],
        tokens: StreamTokens | None = None,
        statuses: StatusBus | None = None,
        ring_s: float = 0.0,
        from_number: str = "+15005550006",
        no_answer_after_s: float = 0.0,
        auth_token: str | None = None,
    ) -> None:
        self._media_url = media_url
        self.far_end = far_end  # opens each call's stream and runs the party on it
        self.auth_token = auth_token  # signs stream upgrades as Twilio would (the app checks when it has one)
        self.tokens = tokens  # issues each call's stream token (None: the app would refuse the stream)
        self.statuses = statuses if statuses is not None else StatusBus()  # where call statuses go
        self.ring_s = ring_s
        self.from_number = from_number
        self.no_answer_after_s = no_answer_after_s
        self._parties: dict[str, Callable[[CallT], Awaitable[None]]] = {}
        self._answered_by: dict[str, str] = {}  # number -> what answering-machine detection reports
        self._calls: dict[str, CallT] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ended: dict[str, str] = {}  # call sid -> how it ended ("hangup" | "transfer")
        self.transfers: list[tuple[str, str]] = []  # (call sid, number) in order
        self.placed: list[tuple[str, str, dict[str, str]]] = []  # (call sid, to, parameters)
        self.digits: list[tuple[str, str]] = []  # (call sid, keys) pressed on our side, in order

    @property
    def media_url(self) -> str:
        return self._media_url() if callable(self._media_url) else self._media_url

    def register_party(
        self, number: str, party: Callable[[CallT], Awaitable[None]], *, answered_by: str = "human"
    ) -> None:
        """Whoever calls ``number`` (any formatting) reaches ``party``. ``answered_by``: what Twilio's
        answering-machine detection would report (``human``, ``machine_start``, ``fax``, ``unknown`` when the
        call is answered; ``machine_end_beep|silence|other`` once the party's first turn — the mailbox
        greeting — is over)."""
        self._parties[normalize_number(number)] = party
        self._answered_by[normalize_number(number)] = answered_by

    def unregister_party(self, number: str) -> None:
        self._parties.pop(normalize_number(number), None)

    def call(self, call_sid: str) -> CallT | None:
        """The live stream of a call (None before it is answered or after it ended)."""
        return self._calls.get(call_sid)

    async def place_call(self, to: str, parameters: dict[str, str]) -> str:
        if not normalize_number(to):
            raise CarrierError(f"not a phone number: {mask_phone(to)!r}", status=400)
        call_sid = "CA" + uuid.uuid4().hex
        params = {"direction": "outbound", **{k: str(v) for k, v in parameters.items() if v is not None}}
        params.setdefault("to", to)
        params.setdefault("from", self.from_number)
        self.placed.append((call_sid, to, params))
        stream_params = dict(params)
        tokens = self.tokens
        if tokens is not None:
            direction = "outbound" if params["direction"] == "outbound" else "inbound"
            stream_params[TOKEN_PARAMETER] = await tokens.issue(
                direction, request_id=params.get("request_id"), call_sid=call_sid
            )
        log.info("loopback call %s to %s placed", call_sid, mask_phone(to))
        self._tasks[call_sid] = asyncio.create_task(
            self._run(call_sid, to, params, stream_params), name=f"loopback-{call_sid}"
        )
        return call_sid

    @contextlib.asynccontextmanager
    async def connect_stream(
        self, custom_parameters: dict[str, str] | None = None, *, call_sid: str | None = None, **connect: Any
    ) -> AsyncIterator[CallT]:
        """The media stream of a call this carrier places, driven by the caller itself (no party, no ringing
        or statuses): the parameters get the stream token :meth:`place_call` would issue for them, and the
        upgrade is signed. ``connect``: further options of the far end's ``connect`` (numbers…)."""
        tokens = self.tokens
        if tokens is None:
            raise CarrierError("no stream tokens (the app's StreamTokens): the app would refuse the stream")
        sid = call_sid or "CA" + uuid.uuid4().hex
        params = {"direction": "inbound", **(custom_parameters or {})}
        direction = "outbound" if params["direction"] == "outbound" else "inbound"
        params[TOKEN_PARAMETER] = await tokens.issue(
            direction, request_id=params.get("request_id"), call_sid=sid
        )
        url = self.media_url
        async with self.far_end.connect(
            url, custom_parameters=params, call_sid=sid, headers=self.upgrade_headers(url), **connect
        ) as call:
            with self._in_progress(sid, call):
                yield call

    def upgrade_headers(self, stream_url: str) -> dict[str, str]:
        """``X-Twilio-Signature`` of the stream URL (empty without an auth token), as Twilio sends it."""
        return {SIGNATURE_HEADER: sign(self.auth_token, stream_url, {})} if self.auth_token else {}

    @contextlib.asynccontextmanager
    async def call_in(
        self,
        from_number: str,
        to_number: str,
        *,
        language: str | None = None,
        call_sid: str | None = None,
        **connect: Any,
    ) -> AsyncIterator[CallT]:
        """A call from ``from_number`` to our number ``to_number``, as Twilio would bring it in: the app's
        answer to ``/twilio/voice`` for it (the same parameters and a stream token, asked in process: the
        embedded default has no Twilio account to sign a webhook with), then the stream that TwiML names.
        ``connect``: further options of the far end's ``connect``."""
        tokens = self.tokens
        if tokens is None:
            raise CarrierError("no stream tokens (the app's StreamTokens): the app would refuse the stream")
        sid = call_sid or "CA" + uuid.uuid4().hex
        form = {"CallSid": sid, "From": from_number, "To": to_number, "Direction": "inbound"}
        parameters = voice_parameters(form, {"language": language} if language else {})
        twiml = await connect_call(tokens, self.media_url, parameters, call_sid=sid)
        stream_url, stream_params = stream_of(twiml)
        async with self.far_end.connect(
            stream_url,
            custom_parameters=stream_params,
            call_sid=sid,
            headers=self.upgrade_headers(stream_url),
            **connect,
        ) as call:
            with self._in_progress(sid, call):
                yield call

    @contextlib.contextmanager
    def _in_progress(self, call_sid: str, call: CallT) -> Iterator[None]:
        """Known as a live call while the caller drives it: it can be hung up and transferred, like Twilio's."""
        self._calls[call_sid] = call
        try:
            yield
        finally:
            self._ended.setdefault(call_sid, "completed")
            self._calls.pop(call_sid, None)

    def _info(self, to: str, params: dict[str, str], **extra: str) -> dict[str, Any]:
        return {"To": to, "From": params.get("from", ""), "Direction": "outbound-api", **params, **extra}

    async def _notify(self, call_sid: str, status: str, info: dict[str, Any]) -> None:
        await self.statuses.notify(call_sid, status, info)

    async def _run(
        self, call_sid: str, to: str, params: dict[str, str], stream_params: dict[str, str]
    ) -> None:
        began = time.monotonic()
        try:
            await self._notify(call_sid, "queued", self._info(to, params))
            await self._notify(call_sid, "ringing", self._info(to, params))
            if self.ring_s:
                await asyncio.sleep(self.ring_s)
            if call_sid in self._ended:  # hung up while ringing
                await self._notify(call_sid, "canceled", self._info(to, params))
                return
            party = self._parties.get(normalize_number(to))
            if party is None:
                if self.no_answer_after_s:
                    await asyncio.sleep(self.no_answer_after_s)
                await self._notify(call_sid, "no-answer", self._info(to, params))
                return
            await self._converse(call_sid, to, params, stream_params, party, began)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # report, never crash the app
            log.exception("loopback call %s failed", call_sid)
            await self._notify(call_sid, "failed", self._info(to, params, ErrorMessage=str(exc)))
        finally:
            self._ended.setdefault(call_sid, "completed")
            self._calls.pop(call_sid, None)
            self._tasks.pop(call_sid, None)

    async def _converse(
        self,
        call_sid: str,
        to: str,
        params: dict[str, str],
        stream_params: dict[str, str],
        party: Callable[[CallT], Awaitable[None]],
        began: float,
    ) -> None:
        url = self.media_url
        try:
            client_cm = self.far_end.connect(
                url,
                custom_parameters=stream_params,
                call_sid=call_sid,
                from_number=params.get("from"),
                to_number=to,
                headers=self.upgrade_headers(url),
            )
            call = await client_cm.__aenter__()
        except Exception as exc:  # the media WebSocket is not reachable
            log.error("loopback call %s: media stream %s unreachable: %s", call_sid, url, exc)
            await self._notify(
                call_sid, "failed", self._info(to, params, ErrorMessage=f"media stream: {exc}")
            )
            return
        self._calls[call_sid] = call
        answered = time.monotonic()

        answered_by = self._answered_by.get(normalize_number(to), "human")
        detection: asyncio.Task[None] | None = None

        async def in_progress() -> None:
            nonlocal detection
            if answered_by == "human":
                await self._notify(call_sid, "in-progress", self._info(to, params, AnsweredBy="human"))
                return
            # asynchronous detection, as Twilio's: the answer first, the machine's verdict later
            await self._notify(call_sid, "in-progress", self._info(to, params))
            detection = asyncio.create_task(self._detected(call_sid, to, params, party, answered_by))

        try:
            await self.far_end.converse(call, party, in_progress)
        finally:
            if detection is not None:
                detection.cancel()
            with contextlib.suppress(BaseException):
                await client_cm.__aexit__(None, None, None)
        ended = self._ended.get(call_sid)
        info = self._info(
            to,
            params,
            CallDuration=str(round(time.monotonic() - answered)),
            Duration=str(round(time.monotonic() - began)),
            EndedBy="lisa" if ended or call.closed_by_server else "party",
        )
        if ended == "transfer":
            info["TransferredTo"] = next((n for sid, n in reversed(self.transfers) if sid == call_sid), "")
        await self._notify(call_sid, "completed", info)

    async def _detected(
        self, call_sid: str, to: str, params: dict[str, str], party: Any, answered_by: str
    ) -> None:
        """Asynchronous answering-machine detection: ``machine_start``/``fax``/``unknown`` after
        :data:`DETECTION_S`, ``machine_end_*`` once the mailbox greeting is over (the party's first turn done;
        a party that keeps no record of its turns: after 3 s)."""
        record = getattr(party, "record", None)
        if not answered_by.startswith("machine_end"):
            await asyncio.sleep(DETECTION_S)
        elif record is None:
            await asyncio.sleep(3.0)
        else:
            deadline = time.monotonic() + 60
            while not getattr(record, "turns", None) and time.monotonic() < deadline:  # noqa: ASYNC110 - a record, no event
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
        if call_sid not in self._ended:
            await self._notify(call_sid, "in-progress", self._info(to, params, AnsweredBy=answered_by))

    async def send_digits(self, call_sid: str, digits: str) -> None:
        """Press keys on a live call (DTMF, ``w`` = 0.5 s pause): the far end hears them."""
        call = self._calls.get(call_sid)
        if call is None or call.closed:
            raise CarrierError(
                f"call {call_sid} is not in progress; cannot send digits", status=400, code=21220
            )
        self.digits.append((call_sid, digits))
        log.info("loopback call %s: keys %s pressed", call_sid, digits)
        call.hear_digits(digits)

    async def hangup(self, call_sid: str) -> None:
        """End the call: its stream stops (harmless if it already ended or never existed)."""
        self._ended.setdefault(call_sid, "hangup")
        call = self._calls.get(call_sid)
        if call is not None and not call.closed:
            log.info("loopback call %s: hang-up", call_sid)
            await call.stop(remote=True)

    async def transfer(self, call_sid: str, number: str) -> None:
        """Hand the call to ``number``: recorded in :attr:`transfers`; the media stream ends as with Twilio.
        A call this carrier does not drive (a caller that rang ``/twilio/voice`` from another process) is
        handed over too: the app ends its side of the stream, as after a Twilio redirect."""
        call = self._calls.get(call_sid)
        if (call is not None and call.closed) or (call is None and call_sid in self._ended):
            raise CarrierError(f"call {call_sid} is not in progress; cannot transfer", status=400, code=21220)
        self.transfers.append((call_sid, number))
        if call is None:
            log.info(
                "loopback call %s: transfer to %s (stream ended by the app)", call_sid, mask_phone(number)
            )
            return
        self._ended[call_sid] = "transfer"
        log.info("loopback call %s: transfer to %s", call_sid, mask_phone(number))
        await call.stop(remote=True)

    async def wait_idle(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until every call placed so far has ended (tests, demo)."""
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)

    async def close(self) -> None:
        for call in list(self._calls.values()):
            with contextlib.suppress(Exception):
                await call.stop()
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(BaseException):
                await task
