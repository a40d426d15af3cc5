"""The rule brain on an outbound call for a request without a preferred time, en + de: wherever Lisa says the
request again (an unclear answer, "how can I help?", small talk, the way out, a slot taken back, a day without a
time, "when would he like to come?") she asks what the business can offer — never "Would Which day and time
could you offer? work?" or "ideally ." with nothing in it."""

from __future__ import annotations

import re

import pytest
from test_rule_brain_outbound import Call, dentist

from agent.conversation import BookingRequest, Status
from agent.phrases import phrase

GREETING = {"en": "Miller dental, hello?", "de": "Praxis Müller, guten Tag."}
PURPOSE = {"en": "an appointment for a dental cleaning", "de": "einen Termin für eine Zahnreinigung"}

# business lines after the greeting where Lisa says what she wants once more; the last reply is checked
SCENARIOS = {
    "en": [
        ("unclear", ["Right, the system is a bit slow today."]),
        ("how_can_i_help", ["Sorry, how can I help you?"]),
        ("small_talk", ["Busy day today, isn't it?"]),
        ("way_out", ["Oh, we've just moved into the new building, you know.", "Everything is still in boxes here.",
                     "And the new computer system is a nightmare."]),
        ("way_out_again", ["Oh, we've just moved into the new building, you know.", "Everything is still in boxes here.",
                           "And the new computer system is a nightmare.", "Honestly, I don't know where the day went."]),
        ("withdrawn", ["We could do Monday at 10.", "Oh wait, my colleague just took that one."]),
        ("ask_time", ["Tuesday is possible."]),
        ("preference", ["When would he like to come?"]),
        ("again", ["Sorry, what was it you needed again?"]),
        ("message", ["I can take a message and the doctor will call him back."]),
    ],
    "de": [
        ("unclear", ["Ja, also, das System hier ist etwas langsam."]),
        ("how_can_i_help", ["Entschuldigung, wie kann ich Ihnen helfen?"]),
        ("small_talk", ["Heute ist viel los, oder?"]),
        ("way_out", ["Ach, hier ist die Hölle los, wissen Sie.", "Das Telefon klingelt ununterbrochen.",
                     "Und zwei Kolleginnen sind krank."]),
        ("way_out_again", ["Ach, hier ist die Hölle los, wissen Sie.", "Das Telefon klingelt ununterbrochen.",
                           "Und zwei Kolleginnen sind krank.", "Ich weiß gar nicht, wo der Tag geblieben ist."]),
        ("withdrawn", ["Wir könnten Montag um 10 Uhr anbieten.", "Oh, Moment, den hat eine Kollegin gerade vergeben."]),
        ("ask_time", ["Dienstag ginge."]),
        ("preference", ["Welcher Tag wäre ihm denn recht?"]),
        ("again", ["Entschuldigung, worum ging es noch mal?"]),
        ("message", ["Ich kann der Ärztin gern etwas ausrichten, sie ruft dann zurück."]),
    ],
}  # fmt: skip
CASES = [(lang, kind, lines) for lang, scenarios in SCENARIOS.items() for kind, lines in scenarios]
# what Lisa says last in each scenario when the request names no time
EXPECTED = {
    "unclear": ("restate_no_time", {"purpose": True}),
    "how_can_i_help": ("restate_no_time", {"purpose": True}),
    "small_talk": ("small_talk_no_time", {}),
    "way_out": ("way_out_no_time", {"purpose": True}),
    "way_out_again": ("way_out_again_no_time", {}),
    "withdrawn": ("withdrawn_ask_no_time", {}),
    "ask_time": ("ask_time_no_time", {"day": True}),
    "preference": ("preference_no_time", {}),
}
NO_TIME = ["", "  ", "?", "-"]


def without_time(lang: str, preferred: str = "") -> BookingRequest:
    request = dentist(lang)
    request.preferred_time = preferred
    return request


def natural(reply: str) -> bool:
    """No placeholder filled with a question or with nothing: a question mark only ends a sentence, no
    "Would  work", "ideally ." or "Which" in the middle of a sentence."""
    return not (
        re.search(r"\?(?!\s+[A-ZÄÖÜ0-9]|\s*$)", reply)  # "… offer? work?"
        or re.search(r"\s[?.!,;]|\s{2}|[?!][.,]|[,—–]\s*[?.]", reply)  # an empty placeholder
        or re.search(
            r"\b(?:would|ideally|ginge|liebsten|something|etwas)\s+(?:which|welche[nrs]?|[?.])",
            reply,
            re.IGNORECASE,
        )  # fmt: skip
    )


async def converse(lang: str, request: BookingRequest, lines: list[str]) -> list[str]:
    call = Call(lang, request)
    said = [await call(GREETING[lang])]
    for line in lines:
        said.append(await call(line))
    return said


@pytest.mark.parametrize("preferred", NO_TIME)
@pytest.mark.parametrize(("lang", "kind", "lines"), CASES)
async def test_without_a_preferred_time_every_reply_is_a_natural_sentence(lang, kind, lines, preferred):
    said = await converse(lang, without_time(lang, preferred), lines)
    for reply in said:
        assert reply and natural(reply), (kind, reply)


@pytest.mark.parametrize(("lang", "kind", "lines"), [c for c in CASES if c[1] in EXPECTED])
async def test_without_a_preferred_time_lisa_asks_what_the_business_can_offer(lang, kind, lines):
    call = Call(lang, without_time(lang))
    await call(GREETING[lang])
    for line in lines:
        reply = await call(line)
    key, values = EXPECTED[kind]
    filled = {"user": "Max Mustermann"}
    if values.get("purpose"):
        filled["purpose"] = PURPOSE[lang]
    if values.get("day"):  # the day as Lisa says it is the engine's business; the rest is the phrase
        filled["day"] = "\x00"
        pattern = re.escape(phrase(lang, f"outbound.{key}", **filled)).replace(
            "\x00", r"(?i:tuesday|dienstag|tomorrow|morgen)\b.*"
        )
        assert re.fullmatch(pattern, reply), reply
    else:
        assert reply == phrase(lang, f"outbound.{key}", **filled)
    assert not call.conv.end_requested


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_without_a_preferred_time_a_message_asks_for_the_soonest(lang):
    said = await converse(lang, without_time(lang), [SCENARIOS[lang][-1][1][0]])
    assert ("so bald wie möglich" if lang == "de" else "as soon as possible") in said[-1]


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_without_a_preferred_time_an_offer_is_taken_as_it_comes(lang):
    call = Call(lang, without_time(lang))
    await call(GREETING[lang])
    reply = await call("Wir hätten Donnerstag um 15 Uhr." if lang == "de" else "We'd have Thursday at 3 pm.")
    assert ("wäre prima" if lang == "de" else "would be great") in reply
    await call("Gut, ist eingetragen. Auf Wiederhören!" if lang == "de" else "Great, you're booked. Bye!")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == "2026-11-26T15:00"


@pytest.mark.parametrize(
    ("lang", "asap", "lines"),
    [
        ("en", "ASAP", ["Sorry, how can I help you?"]),
        ("en", "as soon as possible", ["Right, the system is a bit slow today."]),
        ("en", "whenever", ["Busy day today, isn't it?"]),
        ("en", "any time", ["When would he like to come?"]),
        ("en", "ASAP", SCENARIOS["en"][4][1]),
        ("de", "so bald wie möglich", ["Entschuldigung, wie kann ich Ihnen helfen?"]),
        ("de", "schnellstmöglich", ["Ja, also, das System hier ist etwas langsam."]),
        ("de", "egal", ["Heute ist viel los, oder?"]),
        ("de", "jederzeit", ["Welcher Tag wäre ihm denn recht?"]),
        ("de", "so bald wie möglich", SCENARIOS["de"][4][1]),
    ],
)
async def test_any_time_is_never_put_into_would_it_work(lang, asap, lines):
    said = await converse(lang, without_time(lang, asap), lines)
    for reply in said:
        assert natural(reply), reply
        assert not re.search(rf"(?i)\b(?:would|ginge|denn) {re.escape(asap)}\b", reply), reply
