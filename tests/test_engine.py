"""The engine: sentence-sized streaming, fallback between brains, input guards, barge-in history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from conftest import ManualClock
from doubles.brains import CrashingBrain

from agent.brain import BrainUnavailable, TurnContext
from agent.business import load_business
from agent.calendar import InMemoryCalendar
from agent.conversation import Conversation, Status
from agent.engine import Engine
from agent.factory import build_engine
from agent.phrases import phrase
from agent.rule_brain import RuleBrain
from agent.settings import AgentSettings

CLOCK = "2026-11-23T09:00:00+01:00"


class TrickleBrain:
    """Streams a fixed reply in tiny pieces, the way an LLM streams tokens."""

    name = "trickle"

    def __init__(self, text: str, delay: float = 0.0) -> None:
        self.text = text
        self.delay = delay
        self.pieces_sent = 0

    async def reply(self, conv: Conversation, user_text: str | None, ctx: TurnContext) -> AsyncIterator[str]:
        for i in range(0, len(self.text), 3):
            self.pieces_sent += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            yield self.text[i : i + 3]


class BrokenBrain:
    """Says a little, or nothing, then becomes unavailable (like an LLM endpoint that keeps failing)."""

    name = "broken"

    def __init__(self, before: str = "") -> None:
        self.before = before

    async def reply(self, conv: Conversation, user_text: str | None, ctx: TurnContext) -> AsyncIterator[str]:
        if self.before:
            yield self.before
        raise BrainUnavailable("endpoint down")


def engine_with(brain, fallback=None) -> Engine:
    return Engine(brain, load_business(), ManualClock(CLOCK), InMemoryCalendar(), fallback=fallback)


async def test_replies_stream_as_sentences_before_the_brain_has_finished():
    brain = TrickleBrain("Hello, this is Lisa from the practice. How can I help you? I can also book.")
    engine = engine_with(brain)
    conv = engine.new_conversation("chat", "en")
    stream = engine.opening(conv)
    first = await anext(stream)
    assert first == "Hello, this is Lisa from the practice."
    assert brain.pieces_sent < len(brain.text) / 3  # the first sentence came out before the rest was produced
    rest = [s async for s in stream]
    assert rest == ["How can I help you?", "I can also book."]
    assert conv.lisa_lines() == [
        "Hello, this is Lisa from the practice. How can I help you? I can also book."
    ]


async def test_german_abbreviations_and_dates_do_not_split_sentences():
    engine = engine_with(TrickleBrain("Ihr Termin bei Dr. Müller ist am 25. November um 15 Uhr. Bis dann!"))
    conv = engine.new_conversation("chat", "de")
    assert [s async for s in engine.opening(conv)] == [
        "Ihr Termin bei Dr. Müller ist am 25. November um 15 Uhr.",
        "Bis dann!",
    ]


async def test_the_rule_brain_carries_on_when_the_first_brain_is_unavailable():
    engine = engine_with(BrokenBrain(), fallback=RuleBrain())
    conv = engine.new_conversation("chat", "en")
    opening = await engine.reply(conv, None)
    assert opening.startswith(phrase(conv.language, "engine.apology")) and "this is Lisa" in opening
    reply = await engine.reply(conv, "appointment on friday at 11, my name is Ann Lee")
    assert "Ann Lee" in reply and conv.outcome.status is Status.BOOKED


async def test_a_half_said_reply_is_finished_by_the_fallback_without_an_apology():
    engine = engine_with(BrokenBrain("Let me see. "), fallback=RuleBrain())
    conv = engine.new_conversation("inbound", "en")
    reply = await engine.reply(conv, "can I talk to a person")
    assert reply.startswith("Let me see.") and phrase(conv.language, "engine.apology") not in reply
    assert conv.outcome.status is Status.TRANSFERRED


async def test_without_a_fallback_lisa_still_says_something():
    engine = engine_with(BrokenBrain())
    conv = engine.new_conversation("chat", "en")
    assert await engine.reply(conv, "hello") == phrase(conv.language, "engine.repeat")


async def test_heard_keeps_only_what_the_caller_heard():
    engine = engine_with(RuleBrain())
    conv = engine.new_conversation("inbound", "en")
    full = await engine.reply(conv, None)
    engine.heard(conv, "Hello, this is Lisa")
    last = conv.history[-1]
    assert last.text == "Hello, this is Lisa" and last.meta["full_text"] == full and last.meta["interrupted"]


async def test_history_records_both_sides():
    engine = engine_with(RuleBrain())
    conv = engine.new_conversation("chat", "de")
    await engine.reply(conv, None)
    await engine.reply(conv, "Wann haben Sie offen?")
    assert [m.role for m in conv.history] == ["assistant", "user", "assistant"]
    assert "Montag bis Freitag von 8 bis 18 Uhr" in conv.history[-1].text


async def test_factory_builds_the_rule_brain_by_default_with_the_configured_clock():
    engine = build_engine(AgentSettings(lisa_brain="rule", lisa_clock=CLOCK, _env_file=None))
    assert engine.brain.name == "rule" and engine.fallback is None
    assert engine.clock.now().isoformat().startswith("2026-11-23T09:00")
    conv = engine.new_conversation("chat", "en")
    assert "Lisa" in await engine.reply(conv, None)


async def test_factory_llm_brain_falls_back_to_rules():
    settings = AgentSettings(
        lisa_brain="llm", openai_api_key="test-key", openai_base_url="http://127.0.0.1:9/v1", _env_file=None
    )
    engine = build_engine(settings)
    assert engine.brain.name != "rule" and engine.fallback is not None and engine.fallback.name == "rule"


async def test_toolbox_of_the_engine_settles_a_dropped_call():
    engine = engine_with(RuleBrain())
    conv = engine.new_conversation("inbound", "en")
    await engine.reply(conv, None)
    await engine.toolbox(conv).end_conversation("caller hung up")
    assert conv.outcome.status is Status.ABANDONED


async def test_a_crashing_brain_never_leaves_the_caller_in_silence(caplog):
    engine = engine_with(CrashingBrain())
    conv = engine.new_conversation("inbound", "en")
    assert await engine.reply(conv, None) == "Hello, this is Lisa."
    assert await engine.reply(conv, "hello?") == phrase(conv.language, "engine.repeat")
    assert "brain crashing failed" in caplog.text
    rescued = engine_with(CrashingBrain(), fallback=RuleBrain())
    conv = rescued.new_conversation("inbound", "en")
    assert "colleague" in await rescued.reply(conv, "can I talk to a person")
    assert conv.outcome.status is Status.TRANSFERRED


async def test_preview_is_the_first_sentence_of_the_real_reply_and_changes_nothing():
    engine = engine_with(RuleBrain())
    conv = engine.new_conversation("inbound", "en")
    await engine.reply(conv, None)
    for text in ["I'd like to book a massage.", "Wednesday at 3 pm.", "My name is Anna Miller."]:
        history, events = len(conv.history), len(conv.events)
        preview = await engine.preview(conv, text)
        assert (len(conv.history), len(conv.events), conv.outcome.status) == (history, events, Status.OPEN)
        assert not await engine.calendar.bookings_between(
            conv.history[0].at.replace(year=2020), conv.history[0].at.replace(year=2030)
        )
        first = [s async for s in engine.respond(conv, text)][0]
        assert preview == first
    assert conv.outcome.status is Status.BOOKED  # the real turn booked; the previews did not


async def test_no_preview_for_a_brain_that_is_not_deterministic():
    engine = engine_with(TrickleBrain("Sure. Anything else?"))
    conv = engine.new_conversation("inbound", "en")
    assert await engine.preview(conv, "hello") is None


class SameBrain:
    """Gives the same reply every turn, the way a stuck brain (or an LLM in a rut) does."""

    name = "same"

    def __init__(self, text: str) -> None:
        self.text = text

    async def reply(self, conv: Conversation, user_text: str | None, ctx: TurnContext) -> AsyncIterator[str]:
        for i in range(0, len(self.text), 7):
            yield self.text[i : i + 7]


async def _replies(engine: Engine, conv: Conversation, turns: int) -> list[str]:
    return [await engine.reply(conv, f"something else {i}") for i in range(turns)]


async def test_never_the_same_reply_three_times_in_a_row_for_any_brain_and_mode():
    offer = "How about Friday at ten? Would that suit you?"
    for mode, lang, way_out in [
        ("chat", "en", "take a message or put you through"),
        ("inbound", "de", "Nachricht"),
        ("outbound", "en", "call back another time"),
        ("outbound", "de", "ein andermal"),
    ]:
        engine = engine_with(SameBrain(offer))
        conv = engine.new_conversation(mode, lang)
        replies = await _replies(engine, conv, 7)
        assert replies[:2] == [offer, offer]
        assert replies[2] != offer and offer in replies[2] and way_out in replies[2]  # rephrased + a way out
        assert replies[3] not in (offer, replies[2]) and "?" in replies[3]  # the way out as a question
        for a, b, c in zip(replies, replies[1:], replies[2:], strict=False):
            assert not (a == b == c), replies
        kept = [m for m in conv.history if m.role == "assistant"]
        assert kept[2].meta == {"brain_text": offer, "loop": "rephrase"} and kept[2].text == replies[2]


async def test_near_identical_replies_count_as_the_same_and_streaming_is_untouched_otherwise():
    from agent.engine import same_reply

    assert same_reply("How about Friday at 10 am?", "how about friday at 10 am")
    assert same_reply("How about Friday, November 27 at 10 am?", "How about Friday, November 27, at 10 am?")
    assert not same_reply("How about Friday at 10 am?", "How about Monday at 9 am?")
    brain = TrickleBrain("First sentence here. Second one follows. And a third.")
    engine = engine_with(brain)
    conv = engine.new_conversation("chat", "en")
    await engine.reply(conv, "one")
    before = brain.pieces_sent
    stream = engine.respond(conv, "two")
    assert await anext(stream) == "First sentence here."  # not held back: only one earlier identical reply
    assert brain.pieces_sent - before < len(brain.text) / 3
    assert [s async for s in stream] == ["Second one follows.", "And a third."]


async def test_a_brain_with_its_own_loop_phrasing_is_asked_for_it():
    class PolitelyStuck(SameBrain):
        def loop_breaker(self, conv, reply, stage, ctx):
            return {"rephrase": "Put differently: Friday?", "escape": "Shall I take a message?"}[stage]

    engine = engine_with(PolitelyStuck("How about Friday?"))
    conv = engine.new_conversation("chat", "en")
    replies = await _replies(engine, conv, 4)
    assert replies == [
        "How about Friday?",
        "How about Friday?",
        "Put differently: Friday?",
        "Shall I take a message?",
    ]


async def test_the_words_heard_are_kept_with_the_user_message():
    engine = engine_with(RuleBrain())
    conv = engine.new_conversation("inbound", "en")
    await engine.reply(conv, None)
    _ = [s async for s in engine.respond(conv, "Joe Park", [("Joe", 0.91), ("Park", 0.42)])]
    assert conv.history[1].meta == {"words": [["Joe", 0.91], ["Park", 0.42]]}
