"""The LLM brain against a local server that speaks the OpenAI chat-completions protocol (real HTTP, SSE).

Every test scripts what the endpoint answers and then checks what Lisa said, what the conversation's state
became (through the real Toolbox and Engine) and what the endpoint received.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fakes.openai_protocol_server import OpenAIProtocolServer, error, hang, stream, tool_call

from agent import persona
from agent.brain import BrainUnavailable, TurnContext
from agent.business import load_business
from agent.calendar import InMemoryCalendar
from agent.clock import Clock
from agent.conversation import BookingRequest, Conversation, Language, Message, Mode, Status
from agent.llm_brain import ROUNDS_KEY, LLMBrain, endpoint_host
from agent.rate_limit import RateLimiter, shared_limiter
from agent.settings import AgentSettings
from agent.tools import Toolbox

API_KEY = "sk-test-Zq8uV1dontLeakMe0123456789"
CLOCK_START = "2026-11-23T09:00:00+01:00"  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")


_BRAINS: list[LLMBrain] = []


@pytest.fixture
async def llm_server() -> AsyncIterator[OpenAIProtocolServer]:
    async with OpenAIProtocolServer(api_key=API_KEY) as server:
        yield server
        for brain in _BRAINS:  # close their HTTP clients while the test's loop still runs
            await brain.aclose()
        _BRAINS.clear()


def settings_for(server: OpenAIProtocolServer, **values: object) -> AgentSettings:
    base: dict[str, object] = {
        "lisa_brain": "llm",
        "lisa_clock": CLOCK_START,
        "openai_api_key": API_KEY,
        "openai_base_url": server.url,
        "openai_model": "test-model",
        "openai_timeout_s": 2.0,
        "openai_max_retries": 2,
        "openai_backoff_base_s": 0.01,
        "openai_backoff_max_s": 0.05,
    }
    base.update(values)
    return AgentSettings(_env_file=None, **base)


class Setup:
    """The LLM brain built from settings, a real Toolbox per turn, and (on first use) a real Engine with the
    rule brain as fallback, all on one calendar and clock."""

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.clock = Clock(CLOCK_START)
        self.calendar = InMemoryCalendar()
        self.business = load_business(None)
        self.brain = LLMBrain.from_settings(settings)
        _BRAINS.append(self.brain)
        self._engine = None

    @property
    def engine(self):  # agent.engine.Engine
        if self._engine is None:
            from agent.engine import Engine
            from agent.rule_brain import RuleBrain

            self._engine = Engine(self.brain, self.business, self.clock, self.calendar, fallback=RuleBrain())
        return self._engine

    def conversation(self, mode: Mode = Mode.INBOUND, language: Language = Language.EN) -> Conversation:
        return Conversation(mode=mode, language=language)

    def context(self, conv: Conversation) -> TurnContext:
        return TurnContext(
            clock=self.clock,
            business=self.business,
            tools=Toolbox(conv, self.business, self.calendar, self.clock),
        )

    def user(self, conv: Conversation, text: str) -> None:
        conv.history.append(Message("user", text, self.clock.now()))

    async def brain_reply(self, conv: Conversation, text: str) -> list[str]:
        self.user(conv, text)
        return [piece async for piece in self.brain.reply(conv, text, self.context(conv))]


def make(server: OpenAIProtocolServer, **values: object) -> Setup:
    return Setup(settings_for(server, **values))


# -- the requests-per-minute limiter ----------------------------------------------------------------------


class FakeTime:
    """A clock that only moves when the test moves it; sleep() records the wait and returns at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


async def test_limiter_queues_a_burst_in_order_with_a_fake_clock() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2, 60.0, time_fn=fake.time, sleep=fake.sleep)
    admitted: dict[int, float] = {}

    async def request(n: int) -> None:
        admitted[n] = fake.now + await limiter.acquire()

    waiters = [asyncio.ensure_future(request(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert limiter.waiting == 3  # parked in the queue, none refused
    await asyncio.gather(*waiters)
    assert limiter.waiting == 0
    assert admitted == {0: 0.0, 1: 0.0, 2: 60.0, 3: 60.0, 4: 120.0}  # queued first come, first served
    assert fake.sleeps == [60.0, 60.0, 120.0]  # waited, none failed
    fake.now = 500.0  # after a quiet window the full burst is free again
    assert [await limiter.acquire() for _ in range(3)] == [0, 0, pytest.approx(60.0)]


async def test_limiter_never_admits_more_than_the_rate_in_any_window() -> None:
    fake = FakeTime()
    limiter = RateLimiter.per_minute(15, time_fn=fake.time, sleep=fake.sleep)
    assert limiter is not None and (limiter.max_requests, limiter.window_s) == (15, 60.0)
    times: list[float] = []

    async def request() -> None:
        start = fake.now
        times.append(start + await limiter.acquire())

    for burst in range(4):  # 4 bursts of 20 requests, 10 s apart
        fake.now = burst * 10.0
        await asyncio.gather(*(request() for _ in range(20)))
    times.sort()
    assert len(times) == 80
    assert times[:15] == [0.0] * 15 and times[15] == 60.0
    for i in range(len(times) - 15):
        assert times[i + 15] - times[i] >= 60.0 - 1e-9


async def test_limiter_pause_holds_everyone_back() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, 60.0, time_fn=fake.time, sleep=fake.sleep)
    assert await limiter.acquire() == 0
    limiter.pause(5.0)  # e.g. a 429 with Retry-After: 5
    assert limiter.paused_for == 5.0
    assert await limiter.acquire() == 5.0
    fake.now = 2.0
    limiter.pause(1.0)  # a shorter pause never shortens the running one
    assert await limiter.acquire() == 3.0
    fake.now = 6.0
    assert await limiter.acquire() == 0


async def test_retry_after_pauses_the_shared_limiter(llm_server: OpenAIProtocolServer) -> None:
    """One conversation gets a 429 with Retry-After: another one that starts meanwhile waits as well."""
    setup = make(llm_server, openai_backoff_base_s=0.001)
    setup.brain.limiter = RateLimiter(100, 60.0)
    llm_server.script(error(429, retry_after=0.5), stream("First."), stream("Second."))
    started = time.monotonic()
    first = asyncio.ensure_future(setup.brain_reply(setup.conversation(Mode.CHAT), "Hello?"))
    for _ in range(500):  # until the 429 is in and has paused the limiter
        if setup.brain.limiter.paused_for > 0 or first.done():
            break
        await asyncio.sleep(0.01)
    assert setup.brain.limiter.paused_for > 0
    second = await setup.brain_reply(setup.conversation(Mode.CHAT), "Hi?")
    assert "".join(await first) in {"First.", "Second."} and "".join(second) in {"First.", "Second."}
    later = [r.at - started for r in llm_server.requests[1:]]
    assert len(later) == 2 and min(later) >= 0.5  # nobody hammered the endpoint during the Retry-After


def test_limiter_rates_and_sharing() -> None:
    assert RateLimiter.per_minute(0) is None
    half = RateLimiter.per_minute(0.5)
    assert half is not None and (half.max_requests, half.window_s) == (1, 120.0)
    odd = RateLimiter.per_minute(7.5)
    assert odd is not None and (odd.max_requests, odd.window_s) == (7, 56.0)
    assert shared_limiter("http://a.example/v1", 0) is None
    one = shared_limiter("http://a.example/v1", 15)
    assert one is shared_limiter("http://a.example/v1", 15)
    assert one is not shared_limiter("http://b.example/v1", 15)
    with pytest.raises(ValueError):
        RateLimiter(0)


async def test_limiter_queues_a_burst_of_llm_requests(llm_server: OpenAIProtocolServer) -> None:
    """Five conversations at once through a 2-per-0.4 s limiter: the endpoint sees them spaced out."""
    setup = make(llm_server)
    setup.brain.limiter = RateLimiter(2, 0.4)
    llm_server.script(*(stream(f"Answer {n}.") for n in range(5)))
    convs = [setup.conversation(Mode.CHAT) for _ in range(5)]
    started = time.monotonic()
    replies = await asyncio.gather(*(setup.brain_reply(conv, "Hello?") for conv in convs))
    assert sorted("".join(r) for r in replies) == [f"Answer {n}." for n in range(5)]  # queued, none failed
    arrivals = sorted(r.at - started for r in llm_server.requests)
    assert len(arrivals) == 5
    # two go at once, the next two only when the first window has passed, the fifth after the second
    assert 0.4 <= arrivals[2] <= arrivals[3] and 0.8 <= arrivals[4] < 10


# -- streaming and the requests -----------------------------------------------------------------------------


async def test_plain_answer_streams_in_pieces(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(stream("Sure, ", "we're open until six today.", " Anything else?", delay_s=0.15))
    conv = setup.conversation()
    setup.user(conv, "How long are you open today?")
    arrived: list[tuple[str, float]] = []
    async for piece in setup.brain.reply(conv, "How long are you open today?", setup.context(conv)):
        arrived.append((piece, time.monotonic()))
    assert [p for p, _ in arrived] == ["Sure, ", "we're open until six today.", " Anything else?"]
    # the first piece was with us before the server had even sent the rest
    assert arrived[0][1] < llm_server.requests[0].chunk_times[-1]
    assert arrived[-1][1] - arrived[0][1] >= 0.2


async def test_engine_speaks_the_first_sentence_before_the_stream_ends(
    llm_server: OpenAIProtocolServer,
) -> None:
    setup = make(llm_server)
    llm_server.script(stream("We're open ", "until six. ", "Can I ", "book you in?", delay_s=0.1))
    conv = setup.conversation()
    sentences: list[tuple[str, float]] = []
    async for sentence in setup.engine.respond(conv, "How long are you open?"):
        sentences.append((sentence, time.monotonic()))
    assert [s for s, _ in sentences] == ["We're open until six.", "Can I book you in?"]
    assert sentences[0][1] < llm_server.requests[0].chunk_times[-1]
    assert conv.history[-1].role == "assistant"
    assert conv.history[-1].text == "We're open until six. Can I book you in?"


async def test_request_carries_system_prompt_history_and_tool_schemas(
    llm_server: OpenAIProtocolServer,
) -> None:
    setup = make(llm_server)
    llm_server.script(stream("Of course."))
    conv = setup.conversation(Mode.INBOUND, Language.DE)
    conv.history.append(Message("assistant", "Praxis am Park, hier ist Lisa.", setup.clock.now()))
    setup.user(conv, "Hallo, ich brauche einen Termin.")
    conv.history.append(Message("assistant", "Gern. Für welchen Tag?", setup.clock.now()))
    await setup.brain_reply(conv, "Am Mittwoch um 15 Uhr.")

    (received,) = llm_server.requests
    body = received.body
    assert received.headers["authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == "test-model" and body["stream"] is True
    messages = body["messages"]
    assert messages[0] == {
        "role": "system",
        "content": persona.system_prompt(conv, setup.business, setup.clock),
    }
    assert messages[0]["content"].strip()
    assert messages[1:] == [
        {"role": "assistant", "content": "Praxis am Park, hier ist Lisa."},
        {"role": "user", "content": "Hallo, ich brauche einen Termin."},
        {"role": "assistant", "content": "Gern. Für welchen Tag?"},
        {"role": "user", "content": "Am Mittwoch um 15 Uhr."},
    ]
    schemas = setup.context(conv).tools.schemas()
    assert body["tools"] == json.loads(json.dumps(schemas))
    assert {"check_availability", "book_appointment"} <= set(received.tool_names)
    assert "tool_choice" not in body


async def test_history_is_capped_to_the_most_recent_messages(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server, openai_max_history_messages=6)
    llm_server.script(stream("Okay."))
    conv = setup.conversation(Mode.CHAT)
    for n in range(30):
        setup.user(conv, f"user {n}")
        conv.history.append(Message("assistant", f"lisa {n}", setup.clock.now()))
    await setup.brain_reply(conv, "latest")
    sent = llm_server.requests[0].messages
    assert sent[0]["role"] == "system"
    assert [m["content"] for m in sent[1:]] == ["user 28", "lisa 28", "user 29", "lisa 29", "latest"]


async def test_manager_messages_and_stored_tool_rounds_survive_the_session_store(
    llm_server: OpenAIProtocolServer,
) -> None:
    """A chat is stored between messages (conversation codec): the next request still carries the earlier
    tool round, and what a manager wrote during a takeover is marked as a colleague's words."""
    from agent.conversation_codec import dumps, loads

    setup = make(llm_server)
    conv = setup.conversation(Mode.CHAT)
    llm_server.script(
        stream(tool_call("check_availability", {"day": "2026-11-24"})),
        stream("Tuesday has free slots from 8 am."),
    )
    await setup.engine.reply(conv, "Anything free on Tuesday?")
    conv.history.append(
        Message("manager", "Hi, Tom here. 8 am works best.", setup.clock.now(), {"manager": "Tom"})
    )
    restored = loads(dumps(conv))
    llm_server.script(stream("Shall I book 8 am for you?"))
    await setup.engine.reply(restored, "Great, thanks.")
    sent = llm_server.requests[-1].messages
    assert [m["role"] for m in sent] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "assistant",
        "user",
    ]
    assert sent[2]["tool_calls"] == llm_server.requests[1].messages[2]["tool_calls"]
    assert sent[3] == llm_server.requests[1].messages[3]
    assert sent[5] == {"role": "assistant", "content": "[Tom, a colleague:] Hi, Tom here. 8 am works best."}


async def test_opening_line_without_user_message(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(stream("Parkside Physiotherapy, this is Lisa. ", "How can I help?"))
    conv = setup.conversation()
    assert await setup.engine.reply(conv, None) == "Parkside Physiotherapy, this is Lisa. How can I help?"
    sent = llm_server.requests[0].messages
    assert [m["role"] for m in sent] == ["system", "user"]  # a cue, since some endpoints need a user turn
    assert conv.lisa_lines() == ["Parkside Physiotherapy, this is Lisa. How can I help?"]


# -- tool calls ---------------------------------------------------------------------------------------------


def _tool_messages(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["role"] == "tool"]


async def test_tool_call_round_trip_books(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    conv = setup.conversation()
    llm_server.script(
        stream("Let me check. ", tool_call("check_availability", {"start": "2026-11-24T10:00"})),
        stream(
            tool_call(
                "book_appointment",
                {"start": "2026-11-24T10:00", "name": "Anna Schmidt", "service": "appointment"},
            )
        ),
        stream("You're booked for Tuesday at 10 am, ", "Anna. ", "See you then!"),
    )
    said = [s async for s in setup.engine.respond(conv, "Could I come in tomorrow at ten? I'm Anna Schmidt.")]

    assert said == ["Let me check.", "You're booked for Tuesday at 10 am, Anna.", "See you then!"]
    assert conv.outcome.status is Status.BOOKED
    assert conv.outcome.appointment == datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
    bookings = await setup.calendar.bookings_between(
        datetime(2026, 11, 24, tzinfo=BERLIN), datetime(2026, 11, 25, tzinfo=BERLIN)
    )
    assert [(b.start, b.name) for b in bookings] == [
        (datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN), "Anna Schmidt")
    ]

    first, second, third = llm_server.requests
    assert _tool_messages(first.messages) == []
    check_call = second.messages[-2]
    assert check_call["role"] == "assistant" and check_call["tool_calls"][0]["function"]["name"] == (
        "check_availability"
    )
    (check_result,) = _tool_messages(second.messages)
    assert check_result["tool_call_id"] == check_call["tool_calls"][0]["id"]
    assert json.loads(check_result["content"])  # the toolbox's answer went back to the model
    book_result = _tool_messages(third.messages)[-1]
    assert third.messages[-2]["tool_calls"][0]["function"]["name"] == "book_appointment"
    assert json.loads(book_result["content"])
    assert conv.history[-1].text == "Let me check. You're booked for Tuesday at 10 am, Anna. See you then!"
    # the next turn still shows the model the tool rounds of this one
    llm_server.script(stream("You're welcome!"))
    await setup.engine.reply(conv, "Thanks!")
    fourth = llm_server.requests[-1].messages
    assert [m["role"] for m in fourth[1:]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert ROUNDS_KEY in conv.state


async def test_parallel_tool_calls_without_delta_index(llm_server: OpenAIProtocolServer) -> None:
    """Some OpenAI-compatible servers send tool-call deltas without ``index``: calls are told apart by id."""
    setup = make(llm_server)
    conv = setup.conversation()
    llm_server.script(
        stream(
            tool_call("check_availability", {"start": "2026-11-24T10:00"}, "call_a"),
            tool_call("check_availability", {"start": "2026-11-24T11:00"}, "call_b"),
            no_tool_index=True,
        ),
        stream("Both are free."),
    )
    assert await setup.engine.reply(conv, "Ten or eleven tomorrow?") == "Both are free."
    assistant, *results = llm_server.requests[1].messages[-3:]
    calls = [(c["id"], json.loads(c["function"]["arguments"])["start"]) for c in assistant["tool_calls"]]
    assert calls == [("call_a", "2026-11-24T10:00"), ("call_b", "2026-11-24T11:00")]
    assert [r["tool_call_id"] for r in results] == ["call_a", "call_b"]
    assert all(json.loads(r["content"])["ok"] for r in results)


async def test_goodbye_with_end_conversation_needs_no_second_request(
    llm_server: OpenAIProtocolServer,
) -> None:
    setup = make(llm_server)
    conv = setup.conversation()
    setup.user(conv, "What's your address?")
    conv.history.append(Message("assistant", "Parkstraße 12 in Berlin.", setup.clock.now()))
    llm_server.script(
        stream("Goodbye, ", "have a nice day!", tool_call("end_conversation", {"reason": "done"}))
    )
    assert await setup.engine.reply(conv, "Thanks, bye!") == "Goodbye, have a nice day!"
    assert len(llm_server.requests) == 1
    assert conv.end_requested and conv.outcome.status is Status.ANSWERED


async def test_transfer_said_and_done_in_one_request(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    conv = setup.conversation(Mode.INBOUND, Language.DE)
    llm_server.script(
        stream("Ich verbinde Sie mit einer Kollegin.", tool_call("transfer_to_human", {"reason": "Wunsch"}))
    )
    said = [s async for s in setup.engine.respond(conv, "Kann ich bitte mit einem Menschen sprechen?")]
    assert said == ["Ich verbinde Sie mit einer Kollegin."]
    assert conv.transfer_to == setup.business.transfer_number
    assert conv.outcome.status is Status.TRANSFERRED
    assert len(llm_server.requests) == 1


async def test_outbound_booking_call_gives_out_no_personal_data_unasked(
    llm_server: OpenAIProtocolServer,
) -> None:
    """Outbound: the callee offers a slot, Lisa checks it against the preferred time and records the booking;
    the user's callback number reaches the model only through get_callback_number."""
    setup = make(llm_server)
    request = BookingRequest(
        request_id="req-1",
        user_id="user-1",
        title="Haircut",
        description="Wash, cut and blow-dry.",
        callback_number="+4915112345678",
        number_to_call="+49305550120",
        preferred_time="Tuesday morning",
        user_profile={"username": "Max Mustermann", "address": "Geheimweg 1"},
    )
    conv = Conversation(mode=Mode.OUTBOUND, language=Language.EN, request=request)
    llm_server.script(stream("Hello, this is Lisa. ", "I'm calling on behalf of Max Mustermann."))
    await setup.engine.reply(conv, "Salon Schnitt, good morning!")
    llm_server.script(
        stream(tool_call("check_availability", {"start": "2026-11-24T10:00"})),
        stream(
            tool_call("book_appointment", {"start": "2026-11-24T10:00", "business_name": "Salon Schnitt"})
        ),
        stream("Tuesday at ten is perfect, thank you!"),
    )
    said = await setup.engine.reply(conv, "We could do Tuesday at ten. Shall I put him down?")
    assert said == "Tuesday at ten is perfect, thank you!"
    assert conv.outcome.status is Status.BOOKED
    assert conv.outcome.appointment == datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)
    assert [e.type for e in conv.events] == ["booking_in_progress", "booking_confirmed"]
    check = json.loads(_tool_messages(llm_server.requests[2].messages)[0]["content"])
    assert check["fits_preferred_time"] is True
    sent = json.dumps([r.body for r in llm_server.requests], ensure_ascii=False)
    assert "Max Mustermann" in sent and "Tuesday morning" in sent  # the brief is there
    assert "15112345678" not in sent and "Geheimweg" not in sent  # no personal data beyond it
    assert set(llm_server.requests[0].tool_names) >= {"get_callback_number", "report_no_availability"}
    assert "transfer_to_human" not in llm_server.requests[0].tool_names


async def test_a_retried_round_does_not_run_its_tools_twice(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    conv = setup.conversation()
    llm_server.script(
        stream(tool_call("book_appointment", {"start": "2026-11-24T10:00", "name": "Anna Schmidt"})),
        error(503),
        stream("Booked for Tuesday at ten."),
    )
    assert await setup.engine.reply(conv, "Tuesday at ten for Anna Schmidt.") == "Booked for Tuesday at ten."
    second, third = llm_server.requests[1:]
    assert second.messages == third.messages  # the same follow-up request, not a new booking round
    day = (datetime(2026, 11, 24, tzinfo=BERLIN), datetime(2026, 11, 25, tzinfo=BERLIN))
    assert len(await setup.calendar.bookings_between(*day)) == 1
    assert [e.type for e in conv.events] == ["booking_confirmed"]


async def test_malformed_tool_arguments_go_back_to_the_model_as_an_error(
    llm_server: OpenAIProtocolServer,
) -> None:
    setup = make(llm_server)
    conv = setup.conversation()
    llm_server.script(
        stream(tool_call("book_appointment", '{"start": "2026-11-24T10:00", "name": ')),
        stream("Sorry, could you give me your name again?"),
    )
    said = await setup.engine.reply(conv, "Book me in tomorrow at ten.")
    assert said == "Sorry, could you give me your name again?"
    (result,) = _tool_messages(llm_server.requests[1].messages)
    assert "not valid JSON" in json.loads(result["content"])["error"]
    assert conv.outcome.status is Status.OPEN


async def test_tool_rounds_are_bounded(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server, openai_max_tool_rounds=2)
    conv = setup.conversation()
    llm_server.script(
        stream(tool_call("check_availability", {"start": "2026-11-24T10:00"})),
        stream(tool_call("check_availability", {"start": "2026-11-24T11:00"})),
        stream(
            "Tuesday at ten or eleven are free.",
            tool_call("book_appointment", {"start": "2026-11-24T10:00", "name": "Anna Schmidt"}),
        ),
    )
    assert (
        await setup.engine.reply(conv, "When are you free tomorrow?") == "Tuesday at ten or eleven are free."
    )
    assert [r.body.get("tool_choice") for r in llm_server.requests] == [None, None, "none"]
    assert len(llm_server.requests) == 3
    assert conv.outcome.status is Status.OPEN and conv.events == []  # a call beyond the bound is not run


# -- failures, retries, fallback ---------------------------------------------------------------------------


async def test_429_with_retry_after_then_success(llm_server: OpenAIProtocolServer, caplog) -> None:
    setup = make(llm_server, openai_backoff_base_s=0.001)
    llm_server.script(error(429, "Rate limit reached", retry_after=0.3), stream("Hello again."))
    conv = setup.conversation(Mode.CHAT)
    with caplog.at_level(logging.WARNING, logger="agent.llm_brain"):
        assert "".join(await setup.brain_reply(conv, "Hi")) == "Hello again."
    first, second = llm_server.requests
    assert second.at - first.at >= 0.3 - 0.02  # Retry-After honoured (backoff alone would be ~1 ms)
    assert second.messages == first.messages
    assert f"LLM endpoint {endpoint_host(llm_server.url)}: status 429; retry 1/2" in caplog.text


async def test_500_then_success(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(error(500, "upstream exploded"), error(503), stream("All good."))
    conv = setup.conversation(Mode.CHAT)
    assert await setup.engine.reply(conv, "Hello?") == "All good."
    assert len(llm_server.requests) == 3


async def test_stream_broken_before_any_content_is_retried(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(stream("lost", break_after=0), stream("Second try."))
    conv = setup.conversation(Mode.CHAT)
    assert await setup.engine.reply(conv, "Hello?") == "Second try."
    assert len(llm_server.requests) == 2


async def test_malformed_stream_is_retried(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(stream("never seen", garbage=True), stream("Clean answer."))
    conv = setup.conversation(Mode.CHAT)
    assert "".join(await setup.brain_reply(conv, "Hello?")) == "Clean answer."
    assert len(llm_server.requests) == 2


async def test_stream_broken_after_content_ends_the_turn_gracefully(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(stream("Let me see. ", "Tuesday is", " free.", break_after=2))
    conv = setup.conversation(Mode.CHAT)
    assert await setup.engine.reply(conv, "Anything on Tuesday?") == "Let me see. Tuesday is"
    assert len(llm_server.requests) == 1  # nothing said twice
    assert conv.lisa_lines() == ["Let me see. Tuesday is"]


async def test_timeout_retries_then_rule_brain_carries_on(llm_server: OpenAIProtocolServer, caplog) -> None:
    from agent.phrases import phrase

    apology = phrase(Language.EN, "engine.apology")

    setup = make(llm_server, openai_timeout_s=0.3, openai_max_retries=2)
    llm_server.script(hang(10), hang(10), hang(10))
    conv = setup.conversation()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        sentences = [s async for s in setup.engine.respond(conv, "I'd like to talk to a person, please.")]
    assert time.monotonic() - started < 5
    assert len(llm_server.requests) == 3  # first try + 2 retries
    assert sentences[0] == apology
    # the rule brain answered the same turn: the caller is not left in silence, and is put through
    assert "put you through" in " ".join(sentences[1:])
    assert conv.outcome.status is Status.TRANSFERRED
    assert conv.transfer_to == setup.business.transfer_number
    assert conv.history[-1].role == "assistant" and conv.history[-1].text == " ".join(sentences)
    host = endpoint_host(llm_server.url)
    assert f"LLM endpoint {host}: timeout after 0.3s after 2 retries" in caplog.text


async def test_booking_made_by_the_llm_survives_a_later_outage(llm_server: OpenAIProtocolServer) -> None:
    from agent.phrases import phrase

    apology = phrase(Language.EN, "engine.apology")

    setup = make(llm_server)
    conv = setup.conversation()
    llm_server.script(
        stream(tool_call("book_appointment", {"start": "2026-11-24T10:00", "name": "Anna Schmidt"})),
        stream("Done, Anna: Tuesday at 10 am."),
    )
    assert await setup.engine.reply(conv, "Tuesday at ten for Anna Schmidt, please.") == (
        "Done, Anna: Tuesday at 10 am."
    )
    booked = (conv.outcome.status, conv.outcome.appointment)
    assert booked == (Status.BOOKED, datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN))
    llm_server.script(error(500), error(500), error(500))
    reply = await setup.engine.reply(conv, "Thank you, that's all. Goodbye!")
    assert reply.startswith(apology) and len(reply) > len(apology)
    assert (conv.outcome.status, conv.outcome.appointment) == booked  # the rule brain went on from there
    day = (datetime(2026, 11, 24, tzinfo=BERLIN), datetime(2026, 11, 25, tzinfo=BERLIN))
    assert len(await setup.calendar.bookings_between(*day)) == 1
    assert [m.role for m in conv.history] == ["user", "assistant", "user", "assistant"]


async def test_factory_builds_the_llm_engine_with_the_rule_brain_behind_it(
    llm_server: OpenAIProtocolServer,
) -> None:
    from agent.factory import build_engine
    from agent.rule_brain import RuleBrain

    engine = build_engine(settings_for(llm_server), InMemoryCalendar(), Clock(CLOCK_START))
    assert isinstance(engine.brain, LLMBrain) and isinstance(engine.fallback, RuleBrain)
    _BRAINS.append(engine.brain)
    llm_server.script(stream("Parkside Physiotherapy, this is Lisa. ", "How can I help?"))
    conv = engine.new_conversation(Mode.INBOUND, Language.EN)
    assert [s async for s in engine.opening(conv)] == [
        "Parkside Physiotherapy, this is Lisa.",
        "How can I help?",
    ]
    assert llm_server.requests[0].body["model"] == "test-model"
    client = engine.brain._client()
    assert not client.is_closed()
    await engine.aclose()  # what the app's shutdown does: the brain's connections are released
    assert client.is_closed()


async def test_brain_unavailable_names_host_status_and_retries(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(error(502), error(502), error(502))
    conv = setup.conversation(Mode.CHAT)
    with pytest.raises(BrainUnavailable) as info:
        await setup.brain_reply(conv, "Hello?")
    assert str(info.value) == f"LLM endpoint {endpoint_host(llm_server.url)}: status 502 after 2 retries"
    assert len(llm_server.requests) == 3


async def test_client_errors_are_not_retried(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(error(400, "bad model"))
    conv = setup.conversation(Mode.CHAT)
    with pytest.raises(BrainUnavailable, match="status 400 \\(not retried\\)"):
        await setup.brain_reply(conv, "Hello?")
    assert len(llm_server.requests) == 1


async def test_overlong_retry_after_hands_over_at_once(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server, openai_max_retry_after_s=1.0)
    llm_server.script(error(429, retry_after=60))
    conv = setup.conversation(Mode.CHAT)
    started = time.monotonic()
    reply = await setup.engine.reply(conv, "Hello, when are you open?")
    assert time.monotonic() - started < 2
    assert reply.startswith("Sorry, one moment.") and len(reply) > len("Sorry, one moment.")
    assert len(llm_server.requests) == 1
    llm_server.script(error(429, retry_after=60))
    with pytest.raises(
        BrainUnavailable, match="status 429 with Retry-After 60s \\(over 1s\\) after 0 retries"
    ):
        await setup.brain_reply(conv, "Hello?")


async def test_empty_answer_falls_back(llm_server: OpenAIProtocolServer) -> None:
    setup = make(llm_server)
    llm_server.script(stream())
    conv = setup.conversation(Mode.CHAT)
    reply = await setup.engine.reply(conv, "Hello, when are you open?")
    assert reply.startswith("Sorry, one moment.") and len(reply) > len("Sorry, one moment.")


async def test_api_key_never_in_logs_or_errors(llm_server: OpenAIProtocolServer, caplog) -> None:
    wrong_key = "sk-test-WRONGkeyThatMustNotLeak987"
    setup = make(llm_server, openai_api_key=wrong_key)
    conv = setup.conversation(Mode.CHAT)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(BrainUnavailable) as info:  # the server rejects the key with a 401
            await setup.brain_reply(conv, "Hello?")
        llm_server.script(error(429, retry_after=0.01), error(500), error(500))
        setup.brain._api_key = API_KEY
        setup.brain._clients.clear()
        with pytest.raises(BrainUnavailable) as second:
            await setup.brain_reply(conv, "Hello?")
        reply = await setup.engine.reply(conv, "Are you there?")  # falls back; logs the failure
    assert "status 401" in str(info.value) and endpoint_host(llm_server.url) in str(info.value)
    assert "after 2 retries" in str(second.value)
    assert reply
    assert llm_server.requests[0].headers["authorization"] == f"Bearer {wrong_key}"  # it was really sent
    for secret in (wrong_key, API_KEY):
        assert secret not in caplog.text
        assert secret not in str(info.value) and secret not in repr(info.value)
        assert secret not in str(second.value)
        assert secret not in repr(setup.brain)
    assert "Bearer" not in caplog.text


def test_from_settings_requires_a_key_or_a_local_endpoint() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        LLMBrain.from_settings(AgentSettings(_env_file=None, lisa_brain="llm", openai_api_key=None))
    brain = LLMBrain.from_settings(AgentSettings(_env_file=None, openai_api_key=API_KEY))
    assert brain.host == "api.openai.com" and API_KEY not in repr(brain)
    assert endpoint_host("https://user:pw@llm.example:8443/v1") == "llm.example:8443"
    # one limiter per endpoint for the whole process: every conversation queues on the same one
    limited = AgentSettings(_env_file=None, openai_api_key=API_KEY, openai_requests_per_minute=15)
    first, second = LLMBrain.from_settings(limited), LLMBrain.from_settings(limited)
    assert first.limiter is not None and first.limiter is second.limiter
    assert (first.limiter.max_requests, first.limiter.window_s) == (15, 60.0)
    assert brain.limiter is None  # 0 = off
