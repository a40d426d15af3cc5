"""Replays scenarios end to end and checks their expectations.

Chat: the party's ``say`` lines are typed into the chat API (``/api/v1/sessions``). Inbound: the party calls
``WS /twilio/media`` through :class:`~simulation.media_stream_client.MediaStreamClient` with the stream token
of the app's TwiML for the call, as Twilio would (Lisa greets first). Outbound: the party is registered with
the app's loopback carrier for the request's number, the request is POSTed to ``/api/process-request`` and
the runner waits for it to settle. Outcomes come from the app's own API
(``/api/v1/sessions/{id}``, ``/api/calls/{sid}``, ``/api/requests/{id}``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from api.replay.expectations import check
from api.replay.result import ScenarioResult
from api.replay.scenario import Scenario
from simulation.scripted_party import ScriptedParty
from telephony.loopback import LoopbackCarrier

if TYPE_CHECKING:
    from api.state import AppState

log = logging.getLogger(__name__)

# Outbound request statuses after which nothing more happens without a new event.
SETTLED = frozenset(
    {"booked", "failed", "canceled", "waiting_for_callback", "outside_business_hours", "scheduled"}
)
CALLER_NUMBER = "+4915112345678"
BUSINESS_NUMBER = "+4930123456"


@dataclass
class Target:
    """Where a scenario is replayed: an in-process app (``state`` set) or a running deployment."""

    url: str
    state: AppState | None = None

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


class ReplayError(RuntimeError):
    """The replay itself could not be carried out (the reason is in the message)."""


async def _json(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise ReplayError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        raise ReplayError(f"{what}: not JSON: {response.text[:200]}") from None


def _first(data: Any, *keys: str, default: Any = None) -> Any:
    """The first present key of ``data`` (also looking one level down in ``session``/``request``/``call``)."""
    if not isinstance(data, dict):
        return default
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    for nest in ("session", "request", "call", "data"):
        inner = data.get(nest)
        if isinstance(inner, dict):
            found = _first(inner, *keys)
            if found is not None:
                return found
    return default


def _outcome(data: Any) -> dict[str, Any]:
    """``{status, appointment, summary}`` from a session / call / request record."""
    nested = _first(data, "outcome")
    source = nested if isinstance(nested, dict) else data
    appointment = _first(source, "appointment") or _first(data, "appointment")
    if isinstance(appointment, dict):
        appointment = appointment.get("start") or appointment.get("local")
    if isinstance(appointment, str) and len(appointment) > 16:
        appointment = appointment[:16]  # "2026-11-30T10:30:00+01:00" -> local "2026-11-30T10:30"
    return {
        "status": _first(source, "status") or _first(data, "status"),
        "appointment": appointment,
        "summary": _first(source, "summary") or _first(data, "summary") or "",
    }


def _event_types(data: Any) -> list[str]:
    events = _first(data, "events") or []
    out: list[str] = []
    for event in events:
        if isinstance(event, str):
            out.append(event)
        elif isinstance(event, dict) and (event.get("type") or event.get("event_type")):
            out.append(str(event.get("type") or event.get("event_type")))
    return out


# --------------------------------------------------------------------------------------------- chat


async def replay_chat(scenario: Scenario, target: Target, client: httpx.AsyncClient) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.kind)
    t0 = time.monotonic()

    def ms() -> int:
        return round((time.monotonic() - t0) * 1000)

    created = await _json(
        await client.post("/api/v1/sessions", json={"language": scenario.language}), "POST /api/v1/sessions"
    )
    session_id = _first(created, "session_id", "id", "sessionId")
    if not session_id:
        raise ReplayError(f"POST /api/v1/sessions: no session id in {created!r}")
    result.ids["session_id"] = str(session_id)
    greeting = _first(created, "greeting", "reply", "message", "response")
    if isinstance(greeting, str) and greeting:
        result.transcript.append({"speaker": "lisa", "text": greeting, "start_ms": ms(), "end_ms": ms()})
    for turn in scenario.party:
        if turn.hangup:  # the user leaves: the session is ended (an undecided chat is abandoned)
            await _json(
                await client.delete(f"/api/v1/sessions/{session_id}"), f"DELETE /api/v1/sessions/{session_id}"
            )
            result.transcript.append(
                {"speaker": "party", "text": "[leaves]", "start_ms": ms(), "end_ms": ms()}
            )
            result.ended_by = "party"
            break
        if turn.say is None:
            continue  # audio, silence and dtmf have no meaning in a chat
        start = ms()
        result.transcript.append({"speaker": "party", "text": turn.say, "start_ms": start, "end_ms": start})
        answer = await _json(
            await client.post(f"/api/v1/sessions/{session_id}/chat", json={"message": turn.say}),
            f"POST /api/v1/sessions/{session_id}/chat",
        )
        reply = _first(answer, "reply", "response", "message", "text")
        end = ms()
        result.turn_latency_ms.append(end - start)
        if isinstance(reply, str) and reply:
            result.transcript.append({"speaker": "lisa", "text": reply, "start_ms": end, "end_ms": end})
        if isinstance(answer, dict) and answer.get("status") == "ended":
            result.ended_by = "lisa"
            break
    session = await _json(
        await client.get(f"/api/v1/sessions/{session_id}"), f"GET /api/v1/sessions/{session_id}"
    )
    result.outcome = _outcome(session)
    result.events = _event_types(session)
    if result.ended_by is None:
        result.ended_by = (
            "lisa" if isinstance(session, dict) and session.get("status") == "ended" else "party"
        )
    result.duration_ms = ms()
    return result


# --------------------------------------------------------------------------------------------- calls


def _party(scenario: Scenario) -> ScriptedParty:
    from api.replay.settings import ReplaySettings

    settings = ReplaySettings()
    return ScriptedParty(
        scenario.party,
        scenario.language,
        channel=scenario.channel.channel() if scenario.channel else None,
        first_speaker=scenario.first_speaker,
        base_dir=scenario.base_dir,
        reply_timeout_s=settings.lisa_replay_reply_timeout_s,
        linger_s=settings.lisa_replay_linger_s,
        settle_s=settings.lisa_replay_settle_s,
    )


async def _call_record(client: httpx.AsyncClient, call_sid: str, timeout_s: float) -> dict[str, Any] | None:
    """GET /api/calls/{sid} once the call has ended (``ended_at`` set), or the last record seen."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] | None = None
    while True:
        response = await client.get(f"/api/calls/{call_sid}")
        if response.status_code == 200:
            last = response.json()
            if _first(last, "ended_at", "ended", "ended_by"):
                return last
        if time.monotonic() >= deadline:
            return last
        await asyncio.sleep(0.2)


def _whole_ms(entry: dict[str, Any]) -> dict[str, Any]:
    """A transcript entry with ``start_ms``/``end_ms`` as whole milliseconds (as in SCENARIOS.md)."""
    out = dict(entry)
    for key in ("start_ms", "end_ms"):
        if isinstance(out.get(key), float):
            out[key] = round(out[key])
    return out


def _fill_from_call(result: ScenarioResult, party: ScriptedParty, record: dict[str, Any] | None) -> None:
    """Transcript, timings, audio and the call's outcome from the party's records and the call record."""
    call = party.call
    record_ = party.record
    result.party_lines = list(record_.lines)
    result.turn_latency_ms = party.turn_latency_ms
    result.party_turn_ends_ms = [t.end_ms for t in record_.turns if t.action in ("say", "audio", "dtmf")]
    result.lisa_first_audio_ms = [
        t.lisa_first_audio_ms for t in record_.turns if t.action in ("say", "audio", "dtmf")
    ]
    result.party_audio = [(a.at_ms, a.pcm) for a in record_.sent_audio]
    if call is not None:
        result.ids["call_sid"] = call.call_sid
        result.clears_ms = list(call.clears)
        result.dtmf_sent = _presses(getattr(call, "digits_heard", []))
        result.lisa_audio = [(u.play_start_ms, u.played_pcm()) for u in call.utterances]
        result.duration_ms = round(call.now_ms())
    if record_.error:
        result.error = f"party: {record_.error}"
    if record is not None:
        result.transcript = [
            _whole_ms(t) for t in (_first(record, "transcript") or []) if isinstance(t, dict)
        ]
        result.server_turns = [dict(t) for t in (_first(record, "turns") or [])]
        result.ended_by = _first(record, "ended_by")
        result.outcome = _outcome(record)
        result.events = _event_types(record)
    if not result.transcript:  # no call record: at least what the party said
        result.transcript = list(record_.lines)
    if result.ended_by is None:
        result.ended_by = "lisa" if record_.lisa_hung_up else ("party" if record_.hung_up else None)


def _presses(digits: list[tuple[str, float]], gap_ms: float = 400.0) -> list[str]:
    """Keys as pressed: digits heard within ``gap_ms`` of each other are one press ("12")."""
    presses: list[str] = []
    last = None
    for digit, at in digits:
        if last is not None and at - last <= gap_ms and presses:
            presses[-1] += digit
        else:
            presses.append(digit)
        last = at
    return presses


def _call_in(scenario: Scenario, target: Target) -> Any:
    """The inbound call as Twilio would bring it (TwiML with a stream token, then that stream): in process
    through the app's loopback carrier; against a ``--server`` by ringing its ``/twilio/voice``, signed with
    ``TWILIO_AUTH_TOKEN`` from this environment (the server's own token)."""
    if target.state is not None:
        carrier = target.state.telephony.carrier
        if not isinstance(carrier, LoopbackCarrier):
            raise ReplayError("inbound scenarios in process need the app's loopback carrier")
        return carrier.call_in(CALLER_NUMBER, BUSINESS_NUMBER, language=scenario.language)
    from simulation import inbound_call
    from telephony.settings import TwilioSettings

    return inbound_call.call_in(
        target.url,
        auth_token=TwilioSettings().twilio_auth_token,
        from_number=CALLER_NUMBER,
        to_number=BUSINESS_NUMBER,
        language=scenario.language,
    )


async def replay_inbound(scenario: Scenario, target: Target, client: httpx.AsyncClient) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.kind)
    party = _party(scenario)
    await party.prepare()
    async with _call_in(scenario, target) as call:
        try:
            await asyncio.wait_for(party(call), scenario.timeout_s)
        except TimeoutError:
            result.error = f"the call was still going after {scenario.timeout_s:g} s (timeout_s)"
    record = await _call_record(client, call.call_sid, 15)
    error = result.error
    _fill_from_call(result, party, record)
    result.error = "; ".join(dict.fromkeys(e for e in (error, result.error) if e)) or None
    if record is None:
        result.error = (result.error + "; " if result.error else "") + f"no call record for {call.call_sid}"
    return result


def _request_number(request: dict[str, Any]) -> str:
    from api.requests.models import normalize_phone

    return normalize_phone(str(request["number_to_call"]))


async def _cancel(client: httpx.AsyncClient, request_id: str) -> None:
    """Cancel a request as a user would (``POST /api/requests/{id}/cancel``); a request that is already
    final answers 409, which is fine: the expectation check shows the status."""
    response = await client.post(f"/api/requests/{request_id}/cancel")
    if response.status_code >= 400 and response.status_code != 409:
        raise ReplayError(
            f"POST /api/requests/{request_id}/cancel: HTTP {response.status_code}: {response.text[:200]}"
        )


async def replay_outbound(scenario: Scenario, target: Target, client: httpx.AsyncClient) -> ScenarioResult:
    if target.state is None:
        raise ReplayError(
            "outbound scenarios need the in-process runner: the party must be registered with the app's "
            "loopback carrier, which a remote --server does not expose"
        )
    assert scenario.request is not None
    result = ScenarioResult(scenario.name, scenario.kind)
    request_id = str(scenario.request["request_id"])
    result.ids["request_id"] = request_id
    party = _party(scenario)
    await party.prepare()
    carrier = target.state.telephony.carrier
    if not isinstance(carrier, LoopbackCarrier):
        raise ReplayError("outbound scenarios in process need the app's loopback carrier")
    if scenario.answer:
        carrier.register_party(_request_number(scenario.request), party, answered_by=scenario.answered_by)
    t0 = time.monotonic()
    accepted = await client.post("/api/process-request", json=scenario.request)
    await _json(accepted, "POST /api/process-request")
    cancel_after_ms = scenario.cancel_after_ms
    canceled = cancel_after_ms is None
    data: Any = None
    deadline = t0 + scenario.timeout_s
    while True:
        if cancel_after_ms is not None and not canceled and time.monotonic() - t0 >= cancel_after_ms / 1000:
            await _cancel(client, request_id)
            canceled = True
        data = await _json(await client.get(f"/api/requests/{request_id}"), f"GET /api/requests/{request_id}")
        status = _outcome(data)["status"]
        call_over = not party.started.is_set() or party.done.is_set()
        if status in SETTLED and call_over and canceled:
            break
        if time.monotonic() >= deadline:
            result.error = f"timed out after {scenario.timeout_s:g} s (request status {status!r})"
            break
        await asyncio.sleep(0.2)
    if party.started.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(party.done.wait(), 30)
        await asyncio.sleep(0.3)  # let the call's last events land
        data = await _json(await client.get(f"/api/requests/{request_id}"), f"GET /api/requests/{request_id}")
    record = await _call_record(client, party.call_sid, 10) if party.call_sid else None
    _fill_from_call(result, party, record)
    result.outcome = _outcome(data)
    result.events = _event_types(data)
    if not party.started.is_set():
        result.duration_ms = round((time.monotonic() - t0) * 1000)
    return result


# --------------------------------------------------------------------------------------------- all


async def replay_scenario(
    scenario: Scenario, server: str | None = None, *, check_latency: bool = True
) -> ScenarioResult:
    """Replay one scenario (in-process app unless ``server``), check it, never raise."""
    from api.replay.local_server import start_local_server

    started = time.monotonic()
    local = None
    try:
        if server:
            target = Target(server.rstrip("/"))
        else:
            local = await start_local_server(scenario)
            target = Target(local.url, local.state)
        headers = {}
        if server:
            from api.replay.settings import ReplaySettings

            token = ReplaySettings().lisa_replay_token
            if token:
                headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(base_url=target.url, timeout=30, headers=headers) as client:
            if scenario.kind == "chat":
                coro = replay_chat(scenario, target, client)
            elif scenario.kind == "inbound":
                coro = replay_inbound(scenario, target, client)
            else:
                coro = replay_outbound(scenario, target, client)
            result = await asyncio.wait_for(coro, scenario.timeout_s + 60)
    except Exception as exc:  # one broken scenario must not stop the others
        log.debug("scenario %s failed to replay", scenario.name, exc_info=True)
        result = ScenarioResult(scenario.name, scenario.kind)
        result.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        result.duration_ms = round((time.monotonic() - started) * 1000)
    finally:
        if local is not None:
            await local.stop()
    result.failures = check(scenario.expect, result, voice=scenario.kind != "chat", latency=check_latency)
    if result.error:
        result.failures.insert(0, f"replay: {result.error}")
    result.passed = not result.failures
    return result


async def warm_up_speech() -> None:
    """Load the embedded speech models and run each once, so the first turn of the first call measures
    Lisa, not model loading (the in-process app shares the process's models)."""
    from pipelines.local_models import PARTY_STYLE, synthesize, transcribe, warm_up

    await warm_up()
    pcm, rate = await asyncio.to_thread(synthesize, "Hello there.", PARTY_STYLE)
    from pipelines.audio import pcm16_to_float
    from telephony.audio_codec import resample_pcm16

    await asyncio.to_thread(transcribe, pcm16_to_float(resample_pcm16(pcm, rate, 16000)))


async def replay_all(
    scenarios: list[Scenario],
    *,
    server: str | None = None,
    concurrency: int = 1,
    on_result: Any = None,
    check_latency: bool = True,
) -> list[ScenarioResult]:
    """Replay every scenario, ``concurrency`` at once; results in the order of ``scenarios``."""
    gate = asyncio.Semaphore(max(1, concurrency))
    if any(s.kind != "chat" for s in scenarios):
        try:
            await warm_up_speech()
        except Exception:  # a replay against cloud providers needs no local models
            log.warning("could not warm up the local speech models", exc_info=True)

    async def one(scenario: Scenario) -> ScenarioResult:
        async with gate:
            result = await replay_scenario(scenario, server, check_latency=check_latency)
        if on_result is not None:
            on_result(result)
        return result

    if server:
        return list(await asyncio.gather(*(one(s) for s in scenarios)))
    from api.cli.inprocess_server import loopback_telephony

    with loopback_telephony():
        return list(await asyncio.gather(*(one(s) for s in scenarios)))
