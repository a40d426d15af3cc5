"""README: "an exception in one call (engine, TTS, storage, hooks) is logged and never reaches another call",
and a refused transfer becomes a ``transfer_failed`` event. Two real calls at once on the embedded default
(Piper speech over real media WebSockets to a real uvicorn app); one of them meets the fault, the other one
goes on and completes; the failing one ends cleanly (closed, record and hooks as README says)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from call_support import app_stream
from doubles.app_calls import lisa_text
from doubles.call_hooks import ExplodingHooks, RecordingHooks
from doubles.carriers import RefusingCarrier
from doubles.party_voice import exchange, say

from api.state import Overrides
from pipelines import inference
from pipelines.settings import VoiceSettings
from simulation.media_stream_client import MediaStreamClient

pytestmark = [pytest.mark.voice, pytest.mark.timeout(150)]

GOOD_LINE = "What are your opening hours on Saturday?"
BAD_LINE = "How much does a session cost?"  # the failing call's question (its answer names the price)


async def start(app_server: Any, **overrides: Any) -> Any:
    """The app with the embedded voice and ``overrides`` (call hooks, a carrier…) set before it starts."""
    return await app_server(overrides=Overrides(voice_settings=VoiceSettings(_env_file=None), **overrides))


async def record_of(server: Any, call_sid: str) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(100):
            response = await client.get(f"/api/calls/{call_sid}")
            if response.status_code == 200 and response.json().get("ended_at"):
                return 200, response.json()
            await asyncio.sleep(0.1)
    return response.status_code, response.json()


async def good_call_completes(server: Any, call: MediaStreamClient) -> str:
    """The unaffected call: a question, an answer about Saturday, then the caller hangs up."""
    await call.wait_lisa_done(20, new_utterance=False)
    await exchange(call, GOOD_LINE)
    assert not call.closed
    return call.call_sid


@pytest.mark.parametrize("mid_reply", [False, True], ids=["on-call", "mid-reply"])
async def test_an_engine_exception_ends_only_its_call_with_an_apology(app_server, caplog, mid_reply):
    """The engine raises when asked (or after its first sentence): that call apologises and ends
    (``ended_by=system`` with the reason), the other call is served as if nothing happened."""
    hooks = RecordingHooks()
    server = await start(app_server, call_hooks=[hooks])
    engine = server.state.engine
    respond = engine.respond

    async def first_sentence_then_boom() -> Any:
        yield "Let me see."
        raise RuntimeError("engine exploded (injected)")

    def failing_respond(conv: Any, text: str, *args: Any, **kwargs: Any) -> Any:
        if "cost" in text.lower() or "session" in text.lower():
            if mid_reply:
                return first_sentence_then_boom()
            raise RuntimeError("engine exploded (injected)")
        return respond(conv, text, *args, **kwargs)

    engine.respond = failing_respond
    async with app_stream(server) as good, app_stream(server) as bad:
        await good.wait_lisa_speaking(5)
        await bad.wait_lisa_speaking(5)
        await bad.wait_lisa_done(20, new_utterance=False)
        await say(bad, BAD_LINE)
        good_sid = await good_call_completes(server, good)
        await bad.wait_closed(25)
        assert bad.closed_by_server
        bad_sid = bad.call_sid
    _, record = await record_of(server, bad_sid)
    assert record["ended_by"] == "system" and record["reason"] == "error: engine failed (RuntimeError)"
    assert "something went wrong" in lisa_text(record)  # she said so before hanging up
    assert ("Let me see." in lisa_text(record)) == mid_reply
    _, other = await record_of(server, good_sid)
    assert other["ended_by"] == "party" and "saturday" in " ".join(
        line["text"].lower() for line in other["transcript"] if line["speaker"] == "party"
    )
    ended = await hooks.ended_of(bad_sid, good_sid)
    assert ended[bad_sid].ended_by == "system" and ended[good_sid].ended_by == "party"
    assert any("engine failed" in r.getMessage() and bad_sid in r.getMessage() for r in caplog.records)


async def test_a_tts_exception_stays_in_its_call(app_server, monkeypatch, caplog):
    """One of Lisa's sentences cannot be synthesized in one call: that call goes on without it (the
    caller hears the rest), the other call is untouched."""
    server = await start(app_server)
    synthesize_8k = inference.synthesize_8k

    def failing(text: str) -> bytes:
        if "euro" in text.lower():  # only the price answer, said only in the failing call
            raise RuntimeError("tts exploded (injected)")
        return synthesize_8k(text)

    monkeypatch.setattr(inference, "synthesize_8k", failing)
    async with app_stream(server) as good, app_stream(server) as bad:
        await good.wait_lisa_speaking(5)
        await bad.wait_lisa_speaking(5)
        await bad.wait_lisa_done(20, new_utterance=False)
        await exchange(bad, BAD_LINE)  # she answers (what could be synthesized)
        good_sid = await good_call_completes(server, good)
        await exchange(bad, "Thank you, what are your opening hours on Saturday?")
        assert not bad.closed
        bad_sid = bad.call_sid
    _, record = await record_of(server, bad_sid)
    assert record["ended_by"] == "party"
    assert len([line for line in record["transcript"] if line["speaker"] == "lisa"]) >= 3  # she went on
    _, other = await record_of(server, good_sid)
    assert other["ended_by"] == "party"
    assert any("synthesis failed" in r.getMessage() for r in caplog.records)


class FailingStore:
    """The call store, failing every write of one call (a database hiccup for that call only)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.bad: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def started(self, **fields: Any) -> Any:
        if fields["call_sid"] in self.bad:
            raise ConnectionError("storage exploded (injected)")
        return await self.store.started(**fields)

    async def ended(self, call_sid: str, *args: Any, **fields: Any) -> Any:
        if call_sid in self.bad:
            raise ConnectionError("storage exploded (injected)")
        return await self.store.ended(call_sid, *args, **fields)


async def test_storage_and_hook_exceptions_stay_in_their_call(app_server, caplog):
    caplog.set_level(logging.ERROR)
    stores: list[FailingStore] = []

    def failing(records: Any) -> FailingStore:
        stores.append(FailingStore(records))
        return stores[-1]

    exploding, hooks = ExplodingHooks(), RecordingHooks()
    # the failing hook first
    server = await start(app_server, call_records=failing, call_hooks=[exploding, hooks])
    [store] = stores
    bad_sid = "CA" + "b" * 32
    store.bad.add(bad_sid)
    exploding.bad.add(bad_sid)
    async with app_stream(server) as good, app_stream(server, call_sid=bad_sid) as bad:
        await good.wait_lisa_speaking(5)
        await bad.wait_lisa_speaking(5)  # the call started although its record and hook failed
        await bad.wait_lisa_done(20, new_utterance=False)
        await exchange(bad, "Hi, I would like to book an appointment.")
        good_sid = await good_call_completes(server, good)
        assert not bad.closed
    status, _ = await record_of(server, bad_sid)
    assert status == 404  # nothing stored for it (the writes failed), and the call was served anyway
    status, other = await record_of(server, good_sid)
    assert status == 200 and other["ended_by"] == "party"
    # the other hook heard everything of both calls, the failing hook did not stop it
    assert set(hooks.started) == {good_sid, bad_sid}
    ended = await hooks.ended_of(bad_sid, good_sid)
    assert ended[bad_sid].ended_by == "party" and ended[good_sid].ended_by == "party"
    assert exploding.calls >= 4
    messages = [r.getMessage() for r in caplog.records]
    assert any("could not store the call start" in m for m in messages)
    assert any("could not store the call end" in m for m in messages)
    assert any("call hook ExplodingHooks.on_call_started failed" in m for m in messages)


@pytest.mark.parametrize(("status", "attempts"), [(503, 3), (400, 1)])
async def test_a_refused_transfer_is_reported_and_lisa_says_so(app_server, status, attempts):
    """README: ``carrier.transfer`` is retried, a failure becomes a ``transfer_failed`` event. The caller is
    not left hanging: Lisa says she could not put them through and the call goes on (a 4xx is not retried)."""
    carrier = RefusingCarrier(status=status)
    hooks = RecordingHooks()
    server = await start(app_server, carrier=carrier, call_hooks=[hooks])
    async with app_stream(server) as call:
        await call.wait_lisa_speaking(5)
        await call.wait_lisa_done(20, new_utterance=False)
        assert await call.send_dtmf("0")  # the caller asks for a human
        await asyncio.sleep(0.5)
        await call.wait_lisa_done(25, new_utterance=False, settle=1.5)
        assert not call.closed, "the caller was hung up on after a failed transfer"
        sid = call.call_sid
    assert len(carrier.transfers) == attempts and not carrier.hung_up and not carrier.placed
    assert "transfer_failed" in hooks.event_types(sid)
    _, record = await record_of(server, sid)
    said = lisa_text(record)
    assert "couldn't put you through" in said and record["reason"] != "transferred"
    assert record["ended_by"] == "party"


def test_the_apology_and_the_failed_transfer_line_exist_in_every_language():
    from agent.conversation import Language
    from agent.phrases import phrase

    for key in ("call.error_goodbye", "call.transfer_failed"):
        lines = {lang: phrase(lang, key) for lang in Language}
        assert set(lines) == set(Language) and len(set(lines.values())) == len(Language)
