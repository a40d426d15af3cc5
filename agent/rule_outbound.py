"""The rule brain on an outbound booking call: Lisa phones a business on behalf of a user (seed 002).

The callee speaks first. Lisa introduces herself with the request's purpose and preferred time, accepts an
offered slot that fits (asks once for a better one otherwise), gives the user's name and, only when asked,
the callback number, records the confirmation, and handles "fully booked" and "call back later".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agent import rule_nlu as nlu
from agent.brain import TurnContext
from agent.conversation import Conversation, Status
from agent.rule_turn import RuleTurn, capital

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "intro": "Hello, this is Lisa. I'm calling on behalf of {user}. I'd like to book {purpose} — would {preferred} work?",
        "intro_no_time": "Hello, this is Lisa. I'm calling on behalf of {user}. I'd like to book {purpose} — when would you have time?",
        "accept": "{when} would be great, thank you.",
        "accept_second": "Alright, {when} works too, thank you.",
        "prefer": "Unfortunately {when} doesn't suit {user} so well. Would you have something {preferred}?",
        "ask_time": "What time would work on {day}? Ideally {preferred}.",
        "name": "The name is {user}.",
        "phone": "The callback number is {phone}.",
        "private": "I'm afraid I can't give that out on the phone; {user} will bring it along to the appointment.",
        "confirmed": "Perfect, thank you very much.",
        "confirmed_bye": "Perfect, thank you very much. Goodbye!",
        "confirmed_nothing_else": "Perfect, thank you very much. No, that's all.",
        "no_availability": "I understand, nothing is free {day}. Thank you, I'll let {user} know.",
        "call_later": "Of course, I'll call back {when}. Thank you!",
        "bye": "Thank you, goodbye!",
        "nothing_else": "No, that's all. Thank you very much!",
        "hold": "Sure, I'll wait.",
        "thanks": "Thank you.",
        "dont_know": "I'm afraid I don't know that; {user} can tell you at the appointment.",
        "ai": "Yes, I'm Lisa, an AI assistant calling on behalf of {user}.",
        "restate": "I'm calling to book {purpose} for {user}. Would {preferred} work?",
        "restate_booked": "Thank you, that's all I needed.",
        "which_slot": "Which day and time could you offer?",
        "give_up": "Sorry, the line seems to be bad. I'll let {user} know to get in touch. Goodbye!",
    },
    "de": {
        "intro": "Hallo, hier ist Lisa. Ich rufe im Auftrag von {user} an. Ich hätte gern {purpose} – ginge {preferred}?",
        "intro_no_time": "Hallo, hier ist Lisa. Ich rufe im Auftrag von {user} an. Ich hätte gern {purpose} – wann hätten Sie Zeit?",
        "accept": "{when} wäre prima, vielen Dank.",
        "accept_second": "Gut, dann passt {when} auch, vielen Dank.",
        "prefer": "{when} passt {user} leider nicht so gut. Hätten Sie etwas {preferred}?",
        "ask_time": "Um wie viel Uhr ginge es am {day}? Am liebsten {preferred}.",
        "name": "Der Name ist {user}.",
        "phone": "Die Rückrufnummer ist {phone}.",
        "private": "Das kann ich am Telefon leider nicht herausgeben; {user} bringt es zum Termin mit.",
        "confirmed": "Prima, vielen Dank.",
        "confirmed_bye": "Prima, vielen Dank. Auf Wiederhören!",
        "confirmed_nothing_else": "Prima, vielen Dank. Nein, das war alles.",
        "no_availability": "Verstehe, {day} ist nichts frei. Vielen Dank, ich gebe {user} Bescheid.",
        "call_later": "Gern, ich rufe {when} noch einmal an. Vielen Dank!",
        "bye": "Vielen Dank, auf Wiederhören!",
        "nothing_else": "Nein, das war alles. Vielen Dank!",
        "hold": "Gern, ich warte.",
        "thanks": "Danke schön.",
        "dont_know": "Das weiß ich leider nicht; {user} kann es Ihnen beim Termin sagen.",
        "ai": "Ja, ich bin Lisa, eine KI-Assistentin, und rufe im Auftrag von {user} an.",
        "restate": "Ich rufe an, um für {user} {purpose} zu vereinbaren. Ginge {preferred}?",
        "restate_booked": "Danke, mehr brauche ich nicht.",
        "which_slot": "Welchen Tag und welche Uhrzeit könnten Sie anbieten?",
        "give_up": "Entschuldigung, die Verbindung scheint schlecht zu sein. Ich gebe {user} Bescheid, sich zu melden. Auf Wiederhören!",
    },
}


class _Outbound(RuleTurn):
    """One turn of an outbound booking call."""

    def __init__(self, conv: Conversation, ctx: TurnContext) -> None:
        super().__init__(conv, ctx)
        self.request = conv.request

    def t(self, key: str, **values: Any) -> str:
        values.setdefault("user", self.user)
        return PHRASES["de" if self.lang == "de" else "en"][key].format(**values)

    @property
    def user(self) -> str:
        name = self.request.user_name if self.request else ""
        return name or ("meinen Kunden" if self.lang == "de" else "my client")

    @property
    def preferred(self) -> str:
        return nlu.spoken_preference(self.request.preferred_time, self.lang) if self.request else ""

    def local(self, iso: str) -> datetime:
        return datetime.fromisoformat(iso).replace(tzinfo=self.ctx.business.tz)

    # ------------------------------------------------------------------ the turn
    async def turn(self, text: str | None) -> str:
        if text is None:  # the callee speaks first; nothing to say before that
            return ""
        parts = await self._understand(text.strip())
        return " ".join(p for p in parts if p)

    def _intro(self, text: str) -> list[str]:
        self.st["intro_done"] = True
        callee = nlu.callee_name(text)
        if callee:
            self.conv.slots["callee"] = callee
        purpose = nlu.purpose(self.request, self.lang) if self.request else ""
        if nlu.ANY_TIME.search(self.preferred or ""):
            soon = "so bald wie möglich" if self.lang == "de" else "as soon as possible"
            return [self.t("intro_no_time", purpose=f"{purpose}, {soon}")]
        if self.preferred:
            return [self.t("intro", purpose=purpose, preferred=self.preferred)]
        return [self.t("intro_no_time", purpose=purpose)]

    def _intro_not_heard(self, text: str) -> bool:
        """The callee talked over the introduction (e.g. "Good morning." … "Miller dental, how can I help?")
        before it named the user, and is still greeting: introduce again."""
        if self.st.get("intro_repeated"):
            return False
        last = next((m for m in reversed(self.conv.history) if m.role == "assistant"), None)
        if last is None or not last.meta.get("interrupted") or self.user.lower() in last.text.lower():
            return False
        if len(self.conv.lisa_lines()) != 1:  # only the first reply is the introduction
            return False
        when = nlu.safe_parse_when(text, self.now, self.lang)
        if when is not None and not when.is_empty:
            return False
        if nlu.NO_AVAILABILITY.search(text) or nlu.CALL_LATER.search(text):
            return False
        self.st["intro_repeated"] = True
        return True

    async def _understand(self, text: str) -> list[str]:
        st = self.st
        if not st.get("intro_done") or self._intro_not_heard(text):
            return self._intro(text)
        goodbye = bool(nlu.GOODBYE.search(text)) and not nlu.ANYTHING_ELSE.search(text)
        booked = self.conv.outcome.status is Status.BOOKED
        when = nlu.safe_parse_when(text, self.now, self.lang)
        has_when = when is not None and not when.is_empty
        parts: list[str] = []

        if nlu.AI_QUESTION.search(text):
            parts.append(self.t("ai"))
        elif (
            st.get("declined")
            and not has_when_offer(when)
            and (nlu.NO.search(text) or nlu.NOTHING.search(text))
        ):
            start = self.local(st.pop("declined"))
            st["accepted"] = start.strftime("%Y-%m-%dT%H:%M")
            parts.append(self.t("accept_second", when=self.spoken(start)))
        elif nlu.NO_AVAILABILITY.search(text) and not booked and not has_when_offer(when):
            await self.tools.report_no_availability(reason=text[:160])
            day = nlu.preferred_day_phrase(self.request.preferred_time if self.request else "", self.lang)
            parts.append(self.t("no_availability", day=day))
        elif nlu.CALL_LATER.search(text) and not booked and not _confirms(text):
            phrase = (when.text if has_when and when.text else "") or (
                "später" if self.lang == "de" else "later"
            )
            await self.tools.request_callback(when=phrase)
            parts.append(self.t("call_later", when=phrase))
        elif _confirms(text) and not booked and (st.get("accepted") or has_when_offer(when)):
            start = self._slot_from(when) or (self.local(st["accepted"]) if st.get("accepted") else None)
            if start is not None:
                result = await self.tools.book_appointment(
                    start=start, name=self.user, business_name=self.conv.slots.get("callee")
                )
                if result.get("ok"):
                    parts.append(self.t("confirmed_bye" if goodbye else "confirmed"))
                    if goodbye:
                        await self.tools.end_conversation(reason="booked; the business said goodbye")
                    elif nlu.ANYTHING_ELSE.search(text):
                        parts[-1] = self.t("confirmed_nothing_else")
                    return parts
        elif has_when and not booked and (when.day or when.time or when.first_day):
            parts += await self._offer(when)
        if nlu.NAME_QUESTION.search(text) and not parts:
            parts.append(self.t("name"))
        elif nlu.PRIVATE_QUESTION.search(text) and not parts:
            parts.append(self.t("private"))
        elif nlu.PHONE_QUESTION.search(text) and not parts:
            result = await self.tools.get_callback_number()
            if result.get("ok"):
                parts.append(self.t("phone", phone=result["callback_number"]))
        if goodbye:
            parts.append(self.t("bye"))
            await self.tools.end_conversation(reason="the business said goodbye")
            return parts
        if parts:
            st["misses"] = 0
            return parts
        if nlu.ANYTHING_ELSE.search(text) or (booked and nlu.THANKS.search(text)):
            return [self.t("nothing_else")]
        if nlu.HOLD.search(text) and len(text.split()) <= 8:
            return [self.t("hold")]
        if text.rstrip().endswith("?") and not nlu.HOW_CAN_I_HELP.search(text) and len(text.split()) > 2:
            st["misses"] = 0
            return [self.t("dont_know")]  # a question Lisa has no answer to from the brief
        if nlu.ACK_ONLY.search(text) and (booked or st.get("accepted")):
            return [self.t("thanks")]
        if booked:
            return [self.t("restate_booked")]
        if nlu.YES.search(text) and st.get("asked_time_day"):
            return [self.t("which_slot")]
        st["misses"] = st.get("misses", 0) + 1
        if st["misses"] >= 3:
            await self.tools.end_conversation(reason="could not understand the business")
            return [self.t("give_up")]
        purpose = nlu.purpose(self.request, self.lang) if self.request else ""
        if nlu.HOW_CAN_I_HELP.search(text) or st["misses"] == 1:
            return [self.t("restate", purpose=purpose, preferred=self.preferred or self.t("which_slot"))]
        return [self.t("which_slot")]

    def _slot_from(self, when: Any) -> datetime | None:
        """A concrete start from an offer; a missing day is taken from earlier offers or the preferred day."""
        if when is None or when.time is None:
            return None
        day = when.day
        if day is None and self.st.get("offer_day"):
            day = datetime.fromisoformat(self.st["offer_day"]).date()
        if day is None:
            preferred = self.tools.preferred_window()
            if preferred is not None:
                day = preferred.day or preferred.first_day
        if day is None:
            return None
        return datetime.combine(day, when.time, tzinfo=self.ctx.business.tz)

    async def _offer(self, when: Any) -> list[str]:
        st = self.st
        if when.day is not None:
            st["offer_day"] = when.day.isoformat()
        start = self._slot_from(when)
        if start is None:
            if when.day is not None:
                st["asked_time_day"] = when.day.isoformat()
                return [self.t("ask_time", day=self.spoken_day(when.day), preferred=self.preferred)]
            return [self.t("which_slot")]
        check = await self.tools.check_availability(start=start)
        if check.get("fits_preferred_time"):
            st["accepted"] = start.strftime("%Y-%m-%dT%H:%M")
            return [self.t("accept", when=capital(self.spoken(start)))]
        if st.get("declined_once") or check.get("reason") == "past":
            if check.get("reason") == "past":
                return [self.t("which_slot")]
            st["accepted"] = start.strftime("%Y-%m-%dT%H:%M")
            return [self.t("accept_second", when=self.spoken(start))]
        st["declined_once"] = True
        st["declined"] = start.strftime("%Y-%m-%dT%H:%M")
        return [self.t("prefer", when=capital(self.spoken(start)), preferred=self.preferred)]


def has_when_offer(when: Any) -> bool:
    """Whether a parsed phrase names a concrete slot (a time), not just "later"/"next week"."""
    return when is not None and when.time is not None


def _confirms(text: str) -> bool:
    """Whether a sentence of ``text`` states that the appointment is booked (not a question or an offer)."""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        offer = sentence.rstrip().endswith("?") or re.search(
            r"\b(can|could|would|shall|should|könnte|kann|soll)\b", sentence, re.I
        )
        if nlu.CONFIRM.search(sentence) and not offer:
            return True
    return False


async def outbound_turn(conv: Conversation, text: str | None, ctx: TurnContext) -> str:
    """Lisa's reply on an outbound call (empty before the callee has spoken)."""
    return await _Outbound(conv, ctx).turn(text)
