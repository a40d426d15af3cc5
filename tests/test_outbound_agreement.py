"""The invariant of outbound calls (agent/outcome_check.py): Lisa's last words and the stored outcome agree,
and the outcome is what was agreed in the call (agent/agreement.py).

Explicit cases, then a property test over a few hundred generated dialogues (seeded, so a failure names the
seed that reproduces it), then the issue-10 outbound scenarios as text conversations.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ManualClock
from doubles.conversations import Talk, rule_engine
from scenario_text import failures, load_scenario, run_text

from agent.agreement import Agreement, agreed_slot, on_hangup
from agent.conversation import BookingRequest, Conversation, Language, Mode, Status
from agent.outcome_check import mismatches, names_slot, settle
from agent.when import say_datetime

CLOCK = "2026-11-23T09:15:00+01:00"  # Monday
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


def request(preferred: str, lang: str = "en", user: str = "Max Mustermann") -> BookingRequest:
    return BookingRequest(
        request_id="3f0c7c1e",
        user_id="9b2d4c8e",
        title="Zahnreinigung" if lang == "de" else "Book a dental cleaning",
        description="Ich brauche einen Termin für eine Zahnreinigung"
        if lang == "de"
        else "I need an appointment for a dental cleaning",
        callback_number="+49 30 1234567",
        number_to_call="+49 30 7654321",
        preferred_time=preferred,
        user_profile={"username": user},
    )


class Call(Talk):
    """An outbound call about ``request(preferred, lang)``, on a fresh engine at ``CLOCK``."""

    def __init__(self, preferred: str, lang: str = "en") -> None:
        super().__init__(rule_engine(ManualClock(CLOCK)), "outbound", lang, request(preferred, lang))

    @property
    def now(self) -> datetime:
        return self.engine.business.local(self.engine.clock.now())

    @property
    def appointment(self) -> str | None:
        return self.conv.outcome.as_dict()["appointment"]


# --------------------------------------------------------------------------------------------- explicit cases


@pytest.mark.parametrize(
    "closing",
    [
        "Lovely, Friday at ten then, bye!",
        "Great, see you Friday at 10, bye bye",
        "Alright, I've put her down for Friday 10am. Goodbye!",
        "Okay, bye!",  # a plain goodbye after Lisa's yes: the offer stands (see README)
        "Perfect, thank you, have a nice day!",
    ],
)
async def test_confirmation_and_goodbye_in_one_breath_books_and_lisa_says_it_back(closing):
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    assert "would be great" in await call("We could do Friday at ten.")
    last = await call(closing)
    assert call.conv.end_requested and call.conv.outcome.status is Status.BOOKED
    assert call.appointment == "2026-11-27T10:00"
    assert last.startswith("Friday, November 27 at 10 am, perfect") and "Goodbye" in last
    assert mismatches(call.conv, last, call.now) == []


async def test_nothing_free_and_goodbye_fails_and_lisa_accepts_nothing():
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    last = await call("Sorry, we are fully booked this week. Bye!")
    assert call.conv.end_requested and call.conv.outcome.status is Status.FAILED
    assert "would be great" not in last and mismatches(call.conv, last, call.now) == []


async def test_an_offer_taken_back_before_the_goodbye_is_not_booked():
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    await call("We could do Friday at ten.")
    await call("Oh sorry, I see now we're fully booked on Friday.")
    assert Agreement.of(call.conv).standing is None
    last = await call("Bye.")
    assert call.conv.outcome.status is Status.FAILED and mismatches(call.conv, last, call.now) == []


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_mismatches_names_what_contradicts(lang):
    conv = Conversation(Mode.OUTBOUND, Language(lang), request=request("Friday morning", lang))
    engine = rule_engine(ManualClock(CLOCK))
    tools = engine.toolbox(conv)
    now = engine.business.local(engine.clock.now())
    slot = datetime(2026, 11, 27, 10, 0, tzinfo=engine.business.tz)
    Agreement.of(conv).accept(slot)
    assert any("stands" in m for m in mismatches(conv, "Thank you, goodbye!", now))
    Agreement.of(conv).confirm(slot)
    await tools.book_appointment(start=slot)
    words = "Thank you, goodbye!"
    assert any("do not name" in m for m in mismatches(conv, words, now))
    fixed = await settle(conv, tools, words, now, "Max Mustermann")
    assert mismatches(conv, fixed, now) == [] and fixed.endswith(words)
    assert names_slot(fixed, slot, now, lang)
    assert not names_slot(say_datetime(slot.replace(hour=11), lang, now), slot, now, lang)


async def test_settle_books_an_agreed_slot_nobody_recorded_and_releases_an_unconfirmed_yes():
    engine = rule_engine(ManualClock(CLOCK))
    now = engine.business.local(engine.clock.now())
    slot = datetime(2026, 11, 27, 10, 0, tzinfo=engine.business.tz)
    conv = Conversation(Mode.OUTBOUND, Language.EN, request=request("Friday morning"))
    Agreement.of(conv).confirm(slot)
    words = await settle(conv, engine.toolbox(conv), "Thank you, goodbye!", now, "Max")
    assert conv.outcome.status is Status.BOOKED and "Friday, November 27 at 10 am" in words
    conv = Conversation(Mode.OUTBOUND, Language.EN, request=request("Friday morning"))
    Agreement.of(conv).accept(slot)  # Lisa said yes, the line broke down before the business confirmed
    tools = engine.toolbox(conv)
    await tools.end_conversation(reason="could not understand the business")
    words = await settle(conv, tools, "Sorry, the line seems to be bad. Goodbye!", now, "Max")
    assert conv.outcome.status is Status.FAILED and "please don't keep it" in words
    assert mismatches(conv, words, now) == []


async def test_end_conversation_derives_the_booking_from_the_agreement():
    engine = rule_engine(ManualClock(CLOCK))
    conv = Conversation(Mode.OUTBOUND, Language.EN, request=request("Friday morning"))
    slot = datetime(2026, 11, 27, 10, 0, tzinfo=engine.business.tz)
    Agreement.of(conv).accept(slot)
    assert agreed_slot(conv) is None  # accepted is not agreed
    Agreement.of(conv).confirm(slot)
    await engine.toolbox(conv).end_conversation(reason="done")
    assert (
        conv.outcome.status is Status.BOOKED and conv.outcome.as_dict()["appointment"] == "2026-11-27T10:00"
    )


# ------------------------------------------------------------------ a slot taken back (holdout h24's class)

_WITHDRAW_BYE = [
    ("en", "Oh wait, I'm sorry, my colleague just took that one. We're full on Friday now. Sorry, bye."),
    ("en", "Hang on — actually that one's gone, sorry. Bye!"),
    ("en", "Sorry, we can't do Friday after all. Goodbye."),
    ("en", "Oh no, somebody just booked it. Sorry about that, bye bye."),
    ("en", "Actually it's no longer available, I'm afraid. Thanks, bye."),
    ("de", "Oh, Moment, das ist doch schon vergeben. Tut mir leid, auf Wiederhören."),
    ("de", "Ach nein, leider doch nicht, da ist jetzt voll. Tschüss!"),
    ("de", "Entschuldigung, der Termin ist nicht mehr frei. Auf Wiederhören."),
    ("de", "Oh, meine Kollegin hat ihn gerade genommen. Tschüss."),
]


@pytest.mark.parametrize(("lang", "retraction"), _WITHDRAW_BYE)
async def test_a_slot_taken_back_with_a_goodbye_fails_and_lisa_accepts_nothing(lang, retraction):
    call = Call("Freitagvormittag" if lang == "de" else "Friday morning", lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    accepted = await call(
        "Freitag um zehn wäre möglich." if lang == "de" else "Friday at ten would be possible."
    )
    assert ("wäre prima" if lang == "de" else "would be great") in accepted
    last = await call(retraction)
    assert call.conv.end_requested and call.conv.outcome.status is Status.FAILED, last
    assert ("Bescheid" if lang == "de" else "let Max Mustermann know") in last
    assert "10" not in last and "ten" not in last.lower()
    assert Agreement.of(call.conv).withdrawn == ["2026-11-27T10:00"]
    assert agreed_slot(call.conv) is None and mismatches(call.conv, last, call.now) == []


@pytest.mark.parametrize(
    ("lang", "retraction", "offer", "slot"),
    [
        (
            "en",
            "Oh, sorry, that slot has just been taken.",
            "Would Friday at eleven work?",
            "2026-11-27T11:00",
        ),
        ("en", "Hmm, no, we can't manage Friday after all.", "I could do Thursday at 9.", "2026-11-26T09:00"),
        ("de", "Oh, das ist leider doch schon vergeben.", "Ginge Freitag um elf?", "2026-11-27T11:00"),
        (
            "de",
            "Nein, das geht doch nicht, tut mir leid.",
            "Donnerstag um neun hätte ich.",
            "2026-11-26T09:00",
        ),
    ],
)
async def test_a_slot_taken_back_without_a_goodbye_lisa_asks_for_another(lang, retraction, offer, slot):
    call = Call("Freitagvormittag" if lang == "de" else "Friday morning", lang)
    await call("Praxis Müller, guten Tag." if lang == "de" else "Miller dental, hello?")
    await call("Freitag um zehn wäre möglich." if lang == "de" else "Friday at ten would be possible.")
    asked = await call(retraction)
    assert ("anderen Termin" if lang == "de" else "another time") in asked and not call.conv.end_requested
    assert Agreement.of(call.conv).standing is None
    await call(offer)
    assert Agreement.of(call.conv).standing == slot
    last = await call("Gut, dann bis dann. Tschüss!" if lang == "de" else "Great, see you then. Bye!")
    assert call.conv.outcome.status is Status.BOOKED and call.appointment == slot
    assert mismatches(call.conv, last, call.now) == []


async def test_a_slot_taken_back_with_a_new_one_in_the_same_breath_is_a_new_offer():
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    await call("We could do Friday at ten.")
    reply = await call("Oh wait, my colleague just took Friday at ten — but Friday at 11 is still free.")
    assert "Friday, November 27 at 11 am would be great" in reply
    assert Agreement.of(call.conv).standing == "2026-11-27T11:00"


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_a_confirmed_booking_taken_back_is_released(lang):
    de = lang == "de"
    call = Call("Freitagvormittag" if de else "Friday morning", lang)
    await call("Praxis Müller." if de else "Miller dental.")
    await call("Freitag um zehn wäre frei." if de else "Friday at ten would be free.")
    await call(
        "Gut, Freitag um zehn, ist eingetragen." if de else "Lovely, Friday at ten then, that's booked."
    )
    assert call.conv.outcome.status is Status.BOOKED
    await call(
        "Oh nein, Moment — der ist doch schon vergeben." if de else "Oh no, wait — that one's already gone."
    )
    assert call.conv.outcome.status is Status.OPEN and call.appointment is None
    last = await call("Auf Wiederhören." if de else "Sorry. Bye.")
    assert call.conv.outcome.status is Status.FAILED and mismatches(call.conv, last, call.now) == []


async def test_a_question_about_the_slot_being_taken_is_no_withdrawal():
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    await call("We could do Friday at ten.")
    await call("Is that one taken already? No — it's free, fine.")
    assert Agreement.of(call.conv).standing == "2026-11-27T10:00"


# ------------------------------------------------------------------ several offers, none fits (holdout h27's class)


@pytest.mark.parametrize(
    ("lang", "offers", "refusal", "nearest"),
    [
        ("en", "I could do Tuesday at three or Wednesday at five.", "No, Monday is impossible this week, sorry.",
         "Tuesday, November 24 at 3 pm"),
        ("en", "Wednesday at five, or Tuesday at three.", "Sorry, no mornings on Monday at all.",
         "Tuesday, November 24 at 3 pm"),
        ("en", "There's Friday at eight or Thursday at noon.", "No, nothing on Monday, I'm afraid.",
         "Friday, November 27 at 8 am"),
        ("de", "Ich hätte Dienstag um 15 Uhr oder Mittwoch um 17 Uhr.", "Nein, Montag geht leider nicht.",
         "Dienstag, 24. November um 15 Uhr"),
        ("de", "Mittwoch um 17 Uhr oder Dienstag um 15 Uhr.", "Montag ist leider nichts frei.",
         "Dienstag, 24. November um 15 Uhr"),
    ],
)  # fmt: skip
async def test_none_of_several_offers_fits_lisa_takes_the_nearest_and_says_so(lang, offers, refusal, nearest):
    call = Call("Montagvormittag" if lang == "de" else "Monday morning", lang)
    await call("Praxis Meyer." if lang == "de" else "Doctor Meyer's office.")
    asked = await call(offers)
    assert ("Hätten Sie etwas" if lang == "de" else "Would you have something") in asked
    took = await call(refusal)
    assert nearest in took and ("am nächsten" if lang == "de" else "the closest to") in took, took
    last = await call("Gut, bis dann. Tschüss!" if lang == "de" else "Okay, see you then. Bye.")
    assert call.conv.outcome.status is Status.BOOKED and mismatches(call.conv, last, call.now) == []


@pytest.mark.parametrize(
    ("lang", "pick", "slot"),
    [
        ("en", "Okay, Wednesday at five then. Bye.", "2026-11-25T17:00"),
        ("en", "Let's say Wednesday at 5 pm. See you.", "2026-11-25T17:00"),
        ("en", "Alright, Tuesday at three it is.", "2026-11-24T15:00"),
        ("de", "Also gut, dann Mittwoch um 17 Uhr. Tschüss.", "2026-11-25T17:00"),
        ("de", "Machen wir Dienstag um 15 Uhr.", "2026-11-24T15:00"),
    ],
)
async def test_the_business_settling_on_one_of_its_own_offers_is_the_agreement(lang, pick, slot):
    """Lisa took the nearest of two offers; before confirming it the business settles on one of its own
    offers (the other one, or the same): that is the agreement, booked and said back — never "A or B?"."""
    de = lang == "de"
    call = Call("Montagvormittag" if de else "Monday morning", lang)
    await call("Praxis Meyer." if de else "Doctor Meyer's office.")
    await call(
        "Ich hätte Dienstag um 15 Uhr oder Mittwoch um 17 Uhr."
        if de
        else "I could do Tuesday at three or Wednesday at five."
    )
    await call("Nein, Montag geht leider nicht." if de else "No, Monday is impossible, sorry.")
    assert Agreement.of(call.conv).standing == "2026-11-24T15:00"
    said = await call(pick)
    assert " or " not in said and " oder " not in said, said
    assert call.conv.outcome.status is Status.BOOKED and call.appointment == slot
    assert names_slot(said, datetime.fromisoformat(slot), call.now, lang)


# ------------------------------------------------------------------ the business hangs up after agreeing


@pytest.mark.parametrize("confirmed", [True, False])
async def test_a_hang_up_after_an_agreement_books_it(confirmed):
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    await call("We could do Friday at ten.")
    if confirmed:
        await call("Lovely, Friday at ten then.")
    assert not call.conv.end_requested
    assert on_hangup(call.conv) == "2026-11-27T10:00"
    await call.engine.toolbox(call.conv).end_conversation(reason="the business hung up")
    assert call.conv.outcome.status is Status.BOOKED and call.appointment == "2026-11-27T10:00"


@pytest.mark.parametrize(
    "lines",
    [
        ["We could do Friday at ten.", "Oh, sorry, that one's just been taken."],  # withdrawn
        ["I could do Thursday at five or Friday at four."],  # Lisa asked for another time: nothing accepted
        ["Friday at ten?", "Okay, Friday at two fifty then."],  # misheard confirmation, not settled
    ],
)
async def test_a_hang_up_without_an_agreement_books_nothing(lines):
    call = Call("Friday morning")
    await call("Miller dental, hello?")
    for line in lines:
        await call(line)
    assert on_hangup(call.conv) is None
    assert call.conv.outcome.status is not Status.BOOKED


# --------------------------------------------------------------------------------------------- property test

_DAYS = [("Tuesday", 24), ("Wednesday", 25), ("Thursday", 26), ("Friday", 27)]
_TIMES = [  # (said, hour, minute, a misheard variant said, its hour, minute)
    ("ten", 10, 0, "eleven", 11, 0),
    ("quarter past two", 14, 15, "two fifty", 14, 50),
    ("three thirty", 15, 30, "three thirteen", 15, 13),
    ("nine", 9, 0, "five", 17, 0),
    ("half past eleven", 11, 30, "eleven fifty", 11, 50),
    ("4 pm", 16, 0, "2 pm", 14, 0),
]
_PREFERRED = [
    "Friday morning",
    "Wednesday afternoon",
    "this week",
    "Tuesday morning",
    "ASAP",
    "Thursday, 9-12",
]


class _Dialogue:
    """A random business side of an outbound call; remembers every slot it named (day and time together)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.named: set[str] = set()
        self.withdrawn: set[str] = set()  # slots it took back by name and did not name again since
        self.last: tuple[str, str] | None = None  # (day word, time said) of the latest offer

    def slot(self) -> tuple[str, str, int, int, int]:
        day, dom = self.rng.choice(_DAYS)
        said, h, m, *_ = self.rng.choice(_TIMES)
        self.named.add(f"2026-11-{dom:02d}T{h:02d}:{m:02d}")
        self.withdrawn.discard(f"2026-11-{dom:02d}T{h:02d}:{m:02d}")
        return day, said, dom, h, m

    def phrase(self, day: str, said: str) -> str:
        return f"{day} at {said}"

    def line(self) -> str:
        r = self.rng
        kind = r.choice(
            ["offer", "offer", "several", "correction", "confirm", "confirm", "misheard", "plain_confirm",
             "question", "question", "filler", "none", "later", "bye", "pick", "withdraw", "withdraw"]
        )  # fmt: skip
        if kind == "withdraw" and self.last and r.random() < 0.5:  # by name: that slot is never booked
            day, said = self.last
            _, h, m, *_ = next(t for t in _TIMES if t[0] == said)
            self.withdrawn.add(f"2026-11-{dict(_DAYS)[day]:02d}T{h:02d}:{m:02d}")
            return r.choice(
                ["Oh sorry, {} has just been taken.", "Wait, my colleague just took {}. Sorry, bye.",
                 "Actually {} is gone, I'm afraid.", "Sorry, {} is no longer free."]
            ).format(self.phrase(day, said))  # fmt: skip
        if kind == "withdraw":  # the slot talked about, unnamed
            return r.choice(
                ["Oh wait, I'm sorry, my colleague just took that one. We're full now. Sorry, bye.",
                 "Hmm, actually that one's gone.", "Sorry, we can't do that after all.",
                 "Oh, somebody just booked it, sorry."]
            )  # fmt: skip
        if kind == "offer":
            day, said, *_ = self.slot()
            self.last = (day, said)
            return r.choice(["We could do {}.", "{} would be free.", "How about {}?", "I have {}."]).format(
                self.phrase(day, said)
            )
        if kind == "several":
            a, b = self.slot(), self.slot()
            self.last = (b[0], b[1])
            return r.choice(["I have {} or {}.", "We could do {}, or {}.", "There's {} and {}."]).format(
                self.phrase(a[0], a[1]), self.phrase(b[0], b[1])
            )
        if kind == "correction":
            a, b = self.slot(), self.slot()
            self.last = (b[0], b[1])
            return r.choice(["{} — no, sorry, {}.", "{}. No, sorry, I mean {}.", "{}, or rather {}."]).format(
                self.phrase(a[0], a[1]), self.phrase(b[0], b[1])
            )
        if kind in ("confirm", "misheard") and self.last:
            day, said = self.last
            _, h, m, *_ = next(t for t in _TIMES if t[0] == said)
            if kind == "confirm":
                self.withdrawn.discard(f"2026-11-{dict(_DAYS)[day]:02d}T{h:02d}:{m:02d}")  # named anew
            if kind == "misheard":
                variant = next((v for s, *_, v, _h, _m in _TIMES if s == said), said)
                dom = dict(_DAYS)[day]
                _, _, _, _, vh, vm = next(t for t in _TIMES if t[0] == said)
                self.named.add(f"2026-11-{dom:02d}T{vh:02d}:{vm:02d}")
                said = variant
            return r.choice(
                ["Lovely, {} then, bye!", "Great, see you {}.", "Alright, I've put him down for {}. Goodbye!",
                 "Okay, {} it is.", "So that's {}, see you then."]
            ).format(self.phrase(day, said))  # fmt: skip
        if kind == "plain_confirm":
            return r.choice(["That's booked then.", "You're all set.", "Okay, I've noted it.", "Perfect."])
        if kind == "question":
            return r.choice(
                ["What's the name, please?", "What's the sir name for the cooking?", "And who's it under?",
                 "What's his date of birth?", "Is he privately insured?", "Has he been with us before?",
                 "And a phone number?", "Does he have a referral?", "Are you a robot?"]
            )  # fmt: skip
        if kind == "filler":
            return r.choice(["One moment please.", "Okay.", "Mhm.", "Let me check."])
        if kind == "none":
            return r.choice(["Sorry, we're fully booked.", "No, nothing on that day, sorry."])
        if kind == "later":
            return "Please call back tomorrow."
        if kind == "pick" and self.last:  # a time alone: the day of the slot being talked about
            said, h, m, *_ = r.choice(_TIMES)
            self.named.add(f"2026-11-{dict(_DAYS)[self.last[0]]:02d}T{h:02d}:{m:02d}")
            return f"{said[:1].upper()}{said[1:]}."
        if kind == "pick":
            return r.choice(["The first one.", "Yes.", "No.", "The second one, please."])
        return r.choice(["Bye!", "Okay, thank you, goodbye.", "Thanks, bye bye."])


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("PROP_SEEDS", "300"))))
async def test_property_last_words_and_outcome_always_agree(seed):
    rng = random.Random(seed)
    call = Call(rng.choice(_PREFERRED))
    business = _Dialogue(rng)
    await call("Miller dental practice, good morning.")
    for _ in range(rng.randint(1, 7)):
        if call.conv.end_requested:
            break
        await call(business.line())
    if not call.conv.end_requested:
        await call("Okay, thank you, goodbye.")
    assert call.conv.end_requested, call.said
    last = call.said[-1]
    lines = [m.text for m in call.conv.history]
    assert mismatches(call.conv, last, call.now) == [], lines
    status = call.conv.outcome.status
    if status is Status.BOOKED:
        # only a slot the business named (day and time together), never the day of one and time of another
        assert call.appointment in business.named, lines
        assert call.appointment not in business.withdrawn, lines  # a slot taken back is never booked
        assert agreed_slot(call.conv) == call.appointment, lines
    else:
        assert status in (Status.FAILED, Status.WAITING_FOR_CALLBACK), lines
        assert Agreement.of(call.conv).standing is None, lines


# --------------------------------------------------------------------------------------------- the scenarios


def _needs_the_line(scenario: dict) -> bool:
    """Sounds (music, beeps, a recorded greeting) or answering-machine detection: only a voice replay has them."""
    return "answered_by" in scenario or any("audio" in turn for turn in scenario.get("party") or [])


def _issue10_scenarios() -> list[Path]:
    return sorted(
        p
        for p in SCENARIO_DIR.glob("outbound_*.yaml")
        if "classes:" in p.read_text(encoding="utf-8") and not _needs_the_line(load_scenario(p))
    )


@pytest.mark.parametrize("path", _issue10_scenarios(), ids=lambda p: p.stem)
async def test_issue10_outbound_scenarios_pass_as_text(path):
    scenario = load_scenario(path)
    assert scenario["classes"], "an issue-10 scenario names its failure classes"
    run = await run_text(scenario)
    assert failures(scenario, run) == [], run.transcript
