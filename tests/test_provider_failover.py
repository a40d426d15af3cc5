"""An LLM failing or stalling during a phone call (issue 15): the call switches to the rule brain from the same
conversation state within about a second of silence, a ``provider_failover`` event says so, later turns go to
the rule brain directly, and the call can still book. Against the OpenAI protocol server (real HTTP)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from fakes.openai_protocol_server import OpenAIProtocolServer, error, hang, stream

from agent.calendar import InMemoryCalendar
from agent.clock import Clock
from agent.conversation import Language, Mode, Status
from agent.factory import build_engine
from agent.phrases import phrase
from agent.settings import AgentSettings

API_KEY = "sk-test-failover"
CLOCK = "2026-11-23T09:00:00+01:00"


@pytest.fixture
async def llm_server() -> AsyncIterator[OpenAIProtocolServer]:
    async with OpenAIProtocolServer(api_key=API_KEY) as server:
        yield server


def _engine(server: OpenAIProtocolServer, **values: object):
    settings = AgentSettings(
        _env_file=None,
        lisa_brain="llm",
        lisa_clock=CLOCK,
        openai_api_key=API_KEY,
        openai_base_url=server.url,
        openai_model="test-model",
        openai_timeout_s=10.0,
        openai_max_retries=0,
        **values,
    )
    return build_engine(settings, InMemoryCalendar(), Clock(CLOCK))


async def _say(engine, conv, text: str) -> str:
    return " ".join([s async for s in engine.respond(conv, text)])


async def test_a_stalled_llm_hands_the_call_to_the_rule_brain_which_books(llm_server) -> None:
    engine = _engine(llm_server, lisa_brain_stall_s=1.0)
    conv = engine.new_conversation(Mode.INBOUND, Language.EN)
    llm_server.script(stream("Hi! What can I do for you?"), hang(30))
    assert "What can I do" in await _say(engine, conv, "Hello?")
    started = time.monotonic()
    sentences = []
    async for sentence in engine.respond(conv, "I'd like to book an appointment on Thursday at ten am."):
        if not sentences:
            silence_s = time.monotonic() - started  # what the caller hears as silence
        sentences.append(sentence)
    # the stall limit (1 s), not the client's 10 s timeout, decided it (no speed figure: see bench/)
    assert 1.0 <= silence_s < 5.0
    said = " ".join(sentences)
    assert said.startswith(phrase(Language.EN, "engine.apology")) and "Thursday" in said
    assert [e.type for e in conv.events].count("provider_failover") == 1
    assert "no reply within 1 s" in next(e.message for e in conv.events if e.type == "provider_failover")
    requests = len(llm_server.requests)
    said = await _say(engine, conv, "Peter Brown.")  # straight to the rule brain now: no LLM request
    assert len(llm_server.requests) == requests
    assert "Peter Brown" in said and conv.outcome.status is Status.BOOKED
    await engine.aclose()


async def test_an_llm_error_mid_call_switches_once_and_chat_is_untouched(llm_server) -> None:
    engine = _engine(llm_server, lisa_brain_stall_s=1.0)
    conv = engine.new_conversation(Mode.INBOUND, Language.EN)
    llm_server.script(error(500, "upstream broke"))
    said = await _say(engine, conv, "Hi, how much does a session cost?")
    assert said.startswith(phrase(Language.EN, "engine.apology")) and len(said.split()) > 4
    assert [e.type for e in conv.events] == ["provider_failover"]
    # a chat keeps asking the LLM turn by turn (no stall limit, no switch)
    chat = engine.new_conversation(Mode.CHAT, Language.EN)
    llm_server.script(stream("A session costs 60 euros."))
    assert "60 euros" in await _say(engine, chat, "How much is a session?")
    assert not chat.events
    await engine.aclose()
