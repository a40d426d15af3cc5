"""The rule brain on an outbound call when the user cannot move from the wished time ("Saturday only", "it has to
be a Saturday", "nur samstags"), en + de: an offer outside it is turned down once with the wish, and when the
business has nothing else Lisa says the user can only make the wish and books nothing. A wish without such a
word keeps the old rule (the nearest offer is taken after asking once), and a day said again alone ("Also
Dienstag?") is the slot of that day Lisa turned down."""

from __future__ import annotations

import pytest
from test_rule_brain_outbound import Call, dentist

from agent import outbound_nlu as onlu
from agent.conversation import BookingRequest, Status


def haircut(lang: str, preferred: str, description: str) -> BookingRequest:
    request = dentist(lang)
    request.title = "Haarschnitt" if lang == "de" else "Haircut"
    request.preferred_time, request.description = preferred, description
    return request


HELLO = {"en": "Hair by Kim, hi.", "de": "Salon Kim, hallo."}
BYE = {"en": "Alright, no worries. Bye.", "de": "Gut, tschüss."}
STRICT = [
    ("en", "Saturday only, 10-14", "A haircut. I work Monday to Friday, so it has to be a Saturday.",
     ["We're closed on Saturdays, sorry. I could give him Tuesday at half five.",
      "No, we never open on Saturdays. So, Tuesday then?"], "can only make it Saturday between 10 and 14"),
    ("en", "Saturday", "A haircut; I can only come on Saturdays.",
     ["Saturdays we're closed. Tuesday at 5:30?", "No, sorry. Tuesday is all I have."], "can only make it Saturday"),
    ("en", "mornings only", "A haircut",
     ["I could do Thursday at 3 pm.", "No, we only have afternoons this week."], "can only make it mornings"),
    ("de", "nur samstags", "Haarschnitt",
     ["Samstags haben wir zu. Dienstag um halb sechs?", "Nein, samstags nie. Also Dienstag?"], "kann leider nur samstags"),
    ("de", "Samstag", "Haarschnitt, es muss ein Samstag sein, ich arbeite unter der Woche.",
     ["Samstags haben wir geschlossen. Dienstag um 17:30?", "Nein, leider nicht. Dienstag hätte ich."], "kann leider nur Samstag"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "preferred", "description", "offers", "said"), STRICT)
async def test_a_strict_wish_is_never_traded_for_the_nearest_offer(
    lang, preferred, description, offers, said
):
    call = Call(lang, haircut(lang, preferred, description))
    await call(HELLO[lang])
    first = await call(offers[0])
    assert "?" in first  # the wish asked for once
    reply = await call(offers[1])
    assert said in reply
    await call(BYE[lang])
    assert call.conv.end_requested and call.status is not Status.BOOKED
    assert call.outcome["appointment"] is None
    assert "no_availability" in [e.type for e in call.conv.events]


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_an_offer_inside_a_strict_wish_is_taken(lang):
    call = Call(lang, haircut(lang, "nur samstags" if lang == "de" else "Saturday only", "Haircut"))
    await call(HELLO[lang])
    reply = await call("Samstag um 11 ginge." if lang == "de" else "Saturday at 11 would work.")
    assert ("wäre prima" if lang == "de" else "would be great") in reply


@pytest.mark.parametrize(
    ("lang", "offers", "start"),
    [
        ("en", ["Saturdays we're closed. Tuesday at 5:30?", "No, sorry. So, Tuesday then?"], "2026-11-24T17:30"),
        ("de", ["Samstags haben wir zu. Dienstag um halb sechs?", "Nein, samstags nie. Also Dienstag?"], "2026-11-24T17:30"),
    ],
)  # fmt: skip
async def test_without_a_strict_word_the_nearest_is_taken_and_a_day_again_is_its_slot(lang, offers, start):
    call = Call(lang, haircut(lang, "samstags" if lang == "de" else "Saturday", "Haircut"))
    await call(HELLO[lang])
    await call(offers[0])
    await call(offers[1])
    await call("Gut, bis dann." if lang == "de" else "Great, see you then.")
    assert call.status is Status.BOOKED and call.outcome["appointment"] == start


@pytest.mark.parametrize(
    ("said", "strict"),
    [
        ("Saturday only", True),
        ("it has to be a Saturday", True),
        ("I can only come in the mornings", True),
        ("nur samstags", True),
        ("es muss ein Samstag sein", True),
        ("I only need a quick trim", False),
        ("Saturday if possible", False),
        ("only if it's not too expensive", False),
    ],
)
def test_strict_wish_words(said, strict):
    assert bool(onlu.STRICT_WISH.search(said)) is strict
