"""The rule brain: deterministic intents, slot filling and dialogue policy (en + de), no keys, no network.

Inbound calls and chats: greet, book (day/time, name; nearest free alternative when taken/closed/past),
answer opening hours and FAQ, hand over to a human, take a message, arrange a callback, say goodbye.
Outbound booking calls are handled by :mod:`agent.rule_outbound`. State lives in ``conv.state["rule"]``
as plain JSON values; the outcome is only ever changed through the turn's tools.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from agent import rule_nlu as nlu
from agent.brain import TurnContext
from agent.conversation import Conversation, Language, Mode, Status
from agent.phrases import phrase
from agent.rule_turn import RuleTurn, capital

if TYPE_CHECKING:  # agent.when is imported where it is used
    from agent.when import When


def say(lang: str, key: str, **values: Any) -> str:
    """An inbound phrase (``inbound.<key>`` in ``prompts/<lang>/phrases.yaml``) filled with ``values``."""
    return phrase(lang, f"inbound.{key}", **values)


def _when_to_state(when: When) -> dict[str, str | None]:
    def fmt(v: date | time | None) -> str | None:
        return v.isoformat() if v is not None else None

    return {k: fmt(getattr(when, k)) for k in ("day", "time", "earliest", "latest", "first_day", "last_day")}


def _when_from_state(data: dict[str, str | None] | None) -> When:
    from agent.when import When

    data = data or {}

    def d(key: str) -> date | None:
        value = data.get(key)
        return date.fromisoformat(value) if value else None

    def t(key: str) -> time | None:
        value = data.get(key)
        return time.fromisoformat(value) if value else None

    return When(
        day=d("day"), time=t("time"), earliest=t("earliest"), latest=t("latest"),
        first_day=d("first_day"), last_day=d("last_day"),
    )  # fmt: skip


class RuleBrain:
    """Deterministic Lisa: good enough to book, answer, hand over and run an outbound booking call."""

    name = "rule"
    deterministic = True  # the same conversation and text always give the same reply (Engine.preview)

    async def reply(self, conv: Conversation, user_text: str | None, ctx: TurnContext) -> AsyncIterator[str]:
        if conv.mode is Mode.OUTBOUND:
            from agent.rule_outbound import outbound_turn

            text = await outbound_turn(conv, user_text, ctx)
        else:
            text = await _Inbound(conv, ctx).turn(user_text)
        if text:
            yield text

    def loop_breaker(self, conv: Conversation, reply: str, stage: str, ctx: TurnContext) -> str | None:
        """The engine's hook against loops (the same reply a third time): ``stage`` "rephrase" says what Lisa
        is after in other words and offers a way out; "escape" asks whether to take a message or put the
        caller through. Outbound calls keep the engine's phrasing (offer to call back another time)."""
        if conv.mode is Mode.OUTBOUND:
            return None
        return _Inbound(conv, ctx).loop_breaker(reply, stage)


# what leads up to a name at the end of a message ("8 then. Name's", "um neun, mein Name ist")
_NAME_LEAD_TAIL = re.compile(
    r"[\s,.;:!-]*\b(?:my name is|my name's|name'?s|name is|i'?m|i am|this is|it'?s|mein name ist|ich bin|"
    r"hier ist|ich heiße)?[\s,.;:!-]*$",
    re.IGNORECASE,
)
_NAME_LEAD = re.compile(r"^\W*(that'?s all|that is all|das war'?s|das war alles)\W*", re.IGNORECASE)


# "last Sunday", "the first time I came": not a pick among the offered times
_NOT_A_CHOICE = re.compile(
    r"\b(first|last|second|erste\w*|letzte\w*|zweite\w*) (week|weekend|month|year|time|night|day|sunday|saturday|"
    r"monday|tuesday|wednesday|thursday|friday|woche|wochenende|monat|jahr|mal|nacht|tag|montag|dienstag|"
    r"mittwoch|donnerstag|freitag|samstag|sonntag)\b",
    re.IGNORECASE,
)


def _signed_name(text: str, typed_lower: bool = False) -> str | None:
    """A full name the message ends with, after its last sentence mark or comma ("…? Kurt Vogel", "…, Rob
    Stark"; with ``typed_lower`` also "…? priya nair"); None when it ends otherwise."""
    body = text.strip().rstrip(" .!")
    tail = re.split(r"[.?!,;:]\s*", body)[-1].strip()
    if not tail or tail == body:
        return None
    return nlu.bare_full_name(tail.title() if typed_lower and tail.islower() else tail)


# a month or weekday is never part of a name (months that are also names, "April", "June", "March", are left out)
_CALENDAR_WORD = re.compile(
    r"\b(?:january|february|september|october|november|december|januar|februar|märz|oktober|dezember|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|"
    r"samstag|sonntag)\b",
    re.IGNORECASE,
)
# the reasons for the end that say "the caller", and their wording for a chat (a visitor, no caller)
_CHAT_REASONS = {
    "reason_bye": "reason_bye_chat",
    "reason_left_booking": "reason_left_booking_chat",
    "reason_bye_after_message": "reason_bye_after_message_chat",
    "reason_bye_after_booking": "reason_bye_after_booking_chat",
}
# asking to be put through in so many words (a callback wish without them is a callback)
_PUT_THROUGH = re.compile(
    r"\b(?:put me through|transfer|connect me|(?:talk|speak) (?:to|with)|verbinden|durchstellen|weiterleiten|"
    r"(?:sprechen|reden) mit|give me|geben sie mir)\b",
    re.IGNORECASE,
)
# a second appointment, not the booked one moved ("another one", "also", "noch einen", "zusätzlich")
_ANOTHER_BOOKING = re.compile(
    r"\b(?:another|also|as well|too|second|additional|one more|noch einen|noch einer?|auch noch|zusätzlich\w*|"
    r"zweiten|weiteren)\b",
    re.IGNORECASE,
)
# "same time", "gleiche Uhrzeit", "zur selben Zeit": the time of the booked appointment on another day
_SAME_TIME = re.compile(
    r"\b(?:same time|same hour|gleiche\w* (?:uhrzeit|zeit)|selbe\w* (?:uhrzeit|zeit)|gleiche\w* stunde)\b",
    re.IGNORECASE,
)
# two appointments asked for at once: "two sessions", "both appointments", "zwei Termine"
_TWO_BOOKINGS = re.compile(
    r"\b(?:two|2|both|zwei|beide) (?:appointments|sessions|massages|bookings|slots|termine|behandlungen|massagen)\b",
    re.IGNORECASE,
)
# an hour on its own beside a day: " 10?", " um 11", "at 9"
_BARE_HOUR = re.compile(
    r"\W*(?:(?:at|um|gegen|so gegen|around) )?\d{1,2}(?:[:.]\d\d)?(?: ?(?:uhr|h))?\W*", re.I
)
# a pick changed ("actually", "rather", "make it", "ach nee", "lieber doch", "doch eher")
_REPICK = re.compile(
    r"\b(?:actually|rather|instead|make it|change|better|on second thought|wait|hmm+|lieber|doch|eher|"
    r"stattdessen|besser|ach|nee|nein|no)\b",
    re.IGNORECASE,
)


class _Inbound(RuleTurn):
    """One turn of an inbound call or chat."""

    def t(self, key: str, **values: Any) -> str:
        return say(self.lang, key, **values)

    async def turn(self, text: str | None) -> str:
        if text is None:
            return self.t("greeting", business=self.ctx.business.name)
        switched = self._switch_language(text)
        misses, pending = self.st.get("misses", 0), self.st.get("pending")
        out = await self._understand(text.strip())
        if switched:  # "can we do this in English?": said in the new language, with what else was asked
            if self.st.get("misses", 0) > misses:  # nothing else was: no miss, the same question open
                self.st["misses"], self.st["pending"] = misses, pending
                out = [self.t("language_switched")]
            else:
                out = [self.t("language_now"), *out]
        return " ".join(p for p in out if p)

    def _switch_language(self, text: str) -> bool:
        """A chat asked to go on in the other language ("do you speak English?", "auf Deutsch bitte"): the
        conversation's language becomes it. Calls keep theirs (speech recognition and voice are set for it)."""
        wanted = nlu.wanted_language(text)
        if self.conv.mode is not Mode.CHAT or wanted is None or wanted == self.lang:
            return False
        self.conv.language = Language(wanted)
        self.lang = wanted
        return True

    # ------------------------------------------------------------------ routing
    async def _understand(self, text: str) -> list[str]:
        st = self.st
        text = nlu.strip_fillers(nlu.fix_typos(nlu.strip_emoji(text)))
        if not text:  # "Hang on.", "Moment mal", "uh, let me think": wait, and never take it as an answer
            return [self.t("take_time")]
        low = text.lower()
        pending = st.get("pending")
        said = nlu.parse_when_corrected(text, self.now, self.lang)  # all days and times (an hours question)
        # a day told of in a story is no wish: "The bus is painted green on Sunday", "am Sonntag war ich wandern"
        when = nlu.wished_when(text, self.now, self.lang, said)
        when = self._with_bare_hour(text, when)
        has_when = when is not None and not when.is_empty
        if has_when and when is not None and when.time is None and nlu.past_story(text):
            has_when = False  # "my dog pulled me over on the ice yesterday" is a story, no wish
        goodbye = bool(nlu.GOODBYE.search(text))
        wants_human = (
            bool(nlu.HUMAN.search(text))
            and (bool(nlu.TALK.search(text)) or len(text.split()) <= 4)
            # "could somebody call me back?" is a callback, "call me back or put me through!" a transfer
            and not (nlu.CALLBACK.search(text) and not _PUT_THROUGH.search(text))
        ) or (text.strip() == "0")
        books = bool(nlu.BOOK.search(text) or nlu.NEXT_FREE.search(text))

        self.conv.slots.setdefault("answered", False)  # only real answers (lookups) count as "answered"
        just_booked = st.pop("just_booked", None)
        if just_booked and pending == "anything_else" and not (has_when or books):
            fixed = nlu.name_correction(text, just_booked["name"])
            if fixed:  # "sorry typo, it's John Smith" right after the booking
                return await self._correct_name(just_booked, fixed)
        booked = self.conv.slots.get("booked")
        second_open = pending == "booking" and st.get("first_booking")  # the second of two still needs a name
        if booked and not has_when and not second_open and nlu.ASKS_BOOKED.search(text):
            # "wait, what day is that booked for?", "wann war das nochmal?": the booking of this conversation
            start = datetime.fromisoformat(booked["start"]).replace(tzinfo=self.ctx.business.tz)
            st["pending"] = "anything_else"
            if (first := st.get("booked_before")) and st.get("booking", {}).get("when") is None:
                earlier = datetime.fromisoformat(first).replace(tzinfo=self.ctx.business.tz)
                return [self.t("booked_both", first=self.spoken(earlier), second=self.spoken(start))]
            return [self.t("booked_reminder", when=self.spoken(start), name=booked.get("name") or "")]
        if booked and pending != "booking":
            moved_to = self._moved_booking(text, when if has_when else None, booked)
            if moved_to is not None:  # "can we make that Friday at 10 instead?", "half an hour later?"
                return await self._move(booked, moved_to)
            if not has_when and nlu.CANCEL_THIS.search(text) and not nlu.ASKS_HOW.search(text):
                return await self._cancel_booked(booked)  # "actually cancel it", "stornieren Sie das wieder"
        if nlu.HEAR_CHECK.search(text):  # "Hello? Can you hear me?": yes, and the open question again
            st["misses"] = 0
            last = self.conv.lisa_lines()[-1:]
            if pending in (None, "anything_else") or not last:
                return [self.t("still_here")]
            return [self.t("still_here_short"), last[0]]
        if nlu.GREETING_ONLY.search(text):
            return [self.t("hello")]
        if pending is None and nlu.PLEASANTRY.search(text):
            return [self.t("pleasantry")]
        if nlu.AI_QUESTION.search(text) and not wants_human:
            st["misses"] = 0
            return [self.t("ai", business=self.ctx.business.name)]
        if wants_human:  # "are you a bot?? I want a real person": said what she is, and put through
            ai = [self.t("ai_short")] if nlu.AI_QUESTION.search(text) else []
            return [*ai, *await self._transfer(text)]
        if pending in (None, "anything_else") and not (books or has_when) and nlu.asks_which_business(text):
            st["misses"] = 0  # "is this Luigi's? I'd like to order …": which business this is
            return [self.t("this_is", business=self.ctx.business.name)]
        if pending == "booking" and not (has_when or books) and nlu.DEFERS.search(text):
            # "ok, shame. I'll think about it and get back to you", "cancel that, I need to check first"
            return [self.t("defer_ok"), await self._farewell("reason_left_booking")]
        if (shifted := self._shifted_slot(text)) is not None:  # "could it be an hour later?": that time
            return await self._booking(text, shifted)
        passes_on = bool(nlu.PASS_ON.search(text))
        about_existing = bool(nlu.CANCEL_OR_MOVE.search(text) or nlu.ASKS_EXISTING.search(text)) or (
            bool(nlu.EXISTING_APPOINTMENT.search(text)) and not nlu.BOOK_REQUEST.search(text)
        )
        if about_existing and nlu.ASKS_HOW_TO.search(text):
            about_existing = False  # "How do I cancel an appointment?": the policy asked, no message
        message_intent = bool(
            nlu.STRONG_MESSAGE.search(text)
            or nlu.SHORT_MESSAGE.search(text)
            or passes_on
            or (nlu.MESSAGE.search(text) and not books)
            or about_existing
        )
        # a request to book with a day or time is a booking, whatever a loose FAQ match says; so is the answer
        # to "Joe Park — P-A-R-K, is that right?"
        confirming = pending == "booking" and (st.get("booking") or {}).get("asked") == "name_confirm"
        # "Park, Joe Park" to "Which day would suit you?" is a name, not a question about parking; so are "Park",
        # "Sarah Price" or "Preis" to "May I have your name?" while booking or taking a message
        asked = (st.get("booking") or {}).get("asked") if pending == "booking" else None
        if pending == "message":
            asked = (st.get("message") or {}).get("asked")
        named = "?" not in text and (
            (pending == "booking" and asked in ("when", "day", "time") and nlu.name_instead(text) is not None)
            or (asked == "name" and nlu.name_answer(text) is not None)
        )
        faq = None
        # "… massage Thursday at 3? And is there somewhere to park?": the question answered, and booked on
        side = self._side_answer(text) if (books or has_when) and not confirming else None
        # "… he gave me a prescription, and I was wondering if you have anything Thursday": a wish told with a
        # story that asks nothing is a booking, whatever FAQ word the story holds
        told_wish = has_when and when is not None and (when.day or when.time) and not nlu.asks(text)
        if side is None and not (
            confirming or named or nlu.BOOK_REQUEST.search(text) or (books and has_when) or told_wish
        ):
            faq = self.ctx.business.faq_answer(text, self.lang)
        new_request = bool(
            books or has_when or message_intent or nlu.CALLBACK.search(text) or nlu.HOURS.search(text)
        ) or bool(nlu.SERVICES.search(text) or faq)
        if pending in ("offer_human", "offer_escape"):
            if goodbye and not new_request:  # "Nein, danke, tschüss" to "Shall I put you through?"
                return [await self._farewell("reason_bye")]
            if new_request:  # "Okay, then book me for Friday at nine" is a booking, not a yes (class 7)
                st["pending"] = pending = None
            elif pending == "offer_escape" and re.search(r"\b(message|note|nachricht|notiz)\b", low):
                return await self._message("", started=True)
            elif nlu.YES.search(text):
                if pending == "offer_escape" or not self.ctx.business.transfer_number:
                    return await self._message("", started=True)
                return await self._transfer("the caller was not understood")
            elif nlu.NO.search(text):
                st["pending"] = None
                return [self.t("what_else")]
        if nlu.SHORT_MESSAGE.search(text) and pending != "message":
            return await self._message("", started=True)  # "A message, please." asks for one, is none
        if pending == "message_phone":
            answer = await self._message_phone(text, goodbye)
            if answer is not None:
                return answer
            pending = None
        if pending == "message" and nlu.BOOK_REQUEST.search(text) and not message_intent:
            st["pending"] = pending = None  # the caller would rather book after all
            st["message"] = {}
        if pending == "message" and asked == "name" and faq and not message_intent and nlu.asks(text):
            # "Is there parking?" to "May I have your name?": answered, and the name asked for again
            result = await self.tools.lookup_business_info(question=text)
            st["misses"] = 0
            return [result.get("answer", ""), self.t("ask_message_name")]
        if pending == "message" or message_intent:
            parts = await self._message(text, started=pending != "message")
            if goodbye and st.get("pending") == "message" and (st.get("message") or {}).get("text"):
                # "That's all, bye." to "May I have your name?": the message is kept, without a name
                msg = st["message"]
                msg["name"] = msg.get("name") or msg.get("unsure_name") or self.t("unknown_caller")
                await self._take_message(msg)
                st["message"] = {}
                return [await self._farewell("reason_bye_after_message")]
            if goodbye and st.get("pending") in ("message_phone", "anything_else"):
                st["message"] = {}
                parts = [parts[0].rsplit(". ", 1)[0] + ".", await self._farewell("reason_bye_after_message")]
            return parts
        if pending == "callback" or nlu.CALLBACK.search(text):
            return await self._callback(text, started=pending != "callback")
        if nlu.HOURS.search(text) and not books and pending != "booking":
            hours = await self._hours(text, said)
            if has_when and self._wish_beside_question(text):
                # "Are you open on Friday? Could I get a massage at 10 that day?": answered, and offered
                return [hours[0], *await self._booking(text, when)]
            return hours
        if nlu.SERVICES.search(text) and pending != "booking":
            return await self._faq(text)
        if faq and not (pending == "booking" and has_when):
            return await self._faq(text)
        if nlu.PRICE.search(text) and not (books or has_when or goodbye or named):
            return await self._price()
        if (
            goodbye
            and pending == "booking"
            and not confirming
            and not has_when
            and not nlu.YES.search(text)
            and not books
        ):
            return [await self._farewell("reason_left_booking")]
        if books or pending == "booking" or (when and has_when and (when.day or when.time or when.first_day)):
            if pending != "booking" and (second := self._second_wish(text)) is not None:
                st["second_wish"] = _when_to_state(second)  # "two sessions: Tuesday at 9 and Thursday at 9"
            parts = await self._booking(text, when if has_when else None)
            if side:
                parts.insert(0, side)
            # "is Markus working on Friday?": no rosters here, the wish noted for the team
            if staff := nlu.staff_wish(text):
                st["staff"] = staff
                parts.insert(0, self.t("staff_unseen", staff=staff))
            if goodbye and st.get("pending") != "booking":
                parts.append(await self._farewell("reason_bye_after_booking"))
            return parts
        if goodbye or (pending == "anything_else" and nlu.NO.search(text)):
            return [await self._farewell("reason_bye")]
        if pending == "anything_else" and nlu.THANKS.search(text) and nlu.acknowledges_only(text):
            return [await self._farewell("reason_bye")]  # "perfect, thank you!" to "Anything else?": done
        if pending == "anything_else" and nlu.YES.search(text) and len(low.split()) <= 3:
            st["pending"] = None
            return [self.t("what_else")]
        if nlu.THANKS.search(text) and len(low.split()) <= 6:
            st["pending"] = "anything_else"
            return [self.t("welcome")]
        if pending == "anything_else" and st.get("name") and nlu.name_answer(text) == st["name"]:
            return [self.t("anything_else")]  # the name said again after it was booked: nothing new
        if nlu.UPSET.search(text):  # "Ihr seid doch alle unfähig!": sorry, and a person offered
            st["misses"] = 0
            if self.ctx.business.transfer_number:
                st["pending"] = "offer_human"
                return [self.t("upset_offer_human")]
            return [self.t("upset")]
        return self._not_understood()

    def _not_understood(self) -> list[str]:
        self.st["misses"] = self.st.get("misses", 0) + 1
        if self.st["misses"] >= 2 and self.ctx.business.transfer_number:
            self.st["pending"] = "offer_human"
            return [self.t("offer_human")]
        return [self.t("not_understood")]

    async def _farewell(self, reason: str) -> str:
        """The goodbye; ``reason`` names the phrase that says why the call ended (in the caller's language)."""
        if self.conv.mode is Mode.CHAT:  # no "caller" in a chat's summary
            reason = _CHAT_REASONS.get(reason, reason)
        await self.tools.end_conversation(reason=self.t(reason))
        self.st["pending"] = None
        return self.t("farewell_chat" if self.conv.mode is Mode.CHAT else "farewell")

    # ------------------------------------------------------------------ simple intents
    async def _transfer(self, text: str) -> list[str]:
        self.st["pending"] = None
        result = await self.tools.transfer_to_human(reason=text[:120])
        if not result.get("ok"):  # nobody to put through: a message, and no_transfer has asked for the name
            self.st["pending"] = "message"
            self.st["message"] = {"asked": "name"}
            return [self.t("no_transfer")]
        return [self.t("transfer_chat" if self.conv.mode is Mode.CHAT else "transfer")]

    async def _hours(self, text: str, when: When | None) -> list[str]:
        day = when.day if when is not None else None
        result = await self.tools.lookup_business_info(question=text, day=day)
        self.st["pending"] = "anything_else"
        self.st["misses"] = 0
        return [
            result.get("answer") or self.ctx.business.opening_hours_text(self.lang),
            self.t("anything_else"),
        ]

    async def _faq(self, text: str) -> list[str]:
        result = await self.tools.lookup_business_info(question=text)
        self.st["misses"] = 0
        if self.st.get("pending") == "booking":
            return [result.get("answer", ""), self._booking_prompt()]
        self.st["pending"] = "anything_else"
        return [result.get("answer", ""), self.t("anything_else")]

    async def _price(self) -> list[str]:
        """A price question the FAQ did not match by its wording ("Wie teuer ist eine Massage?"): the
        profile's price answer, or honestly none, with what Lisa can do instead."""
        question = self.t("price_question")
        for entry in self.ctx.business.faq_entries(question):
            words = " ".join([entry.key, *(k for ks in entry.keywords.values() for k in ks)])
            if nlu.PRICE.search(words):  # the profile's entry about prices, not the nearest other one
                return await self._faq(question)
        self.st["misses"] = 0
        if self.st.get("pending") == "booking":
            return [self.t("no_prices_short"), self._booking_prompt()]
        self.st["pending"] = "offer_escape"
        return [self.t("no_prices")]

    async def _message(self, text: str, started: bool) -> list[str]:
        """Take a message: what, who (a name heard unsure is confirmed) and a number to call back. A message
        about an appointment the caller already has never books or offers a slot (issue 10, class 8)."""
        st = self.st
        if started:
            st["message"] = {}
        msg = st.setdefault("message", {})
        if started and nlu.ASKS_EXISTING.search(text):
            msg["unseen"] = True  # "can you confirm my appointment time?": said that Lisa cannot see it
        st["pending"] = "message"
        asked = msg.get("asked")
        recipient = nlu.message_recipient(text)
        if recipient and not msg.get("for"):
            msg["for"] = recipient
        phone = nlu.extract_phone(text)
        if phone:
            msg["phone"] = phone
        name: str | None = None
        if asked == "name_confirm" and msg.get("unsure_name"):
            confirmed = self._name_answer(text, msg["unsure_name"])
            if confirmed == "spell":
                return [self.t("spell_name")]
            if isinstance(confirmed, tuple):
                name, sure = confirmed
                msg.pop("unsure_name", None)
                if sure or not self._unsure(name):
                    msg["name"] = name
                else:
                    msg["unsure_name"] = name
            body = ""
        else:
            name = nlu.extract_name(text, expecting=asked == "name")
            if name and msg.get("name") and asked != "name":
                name = None  # the name is known: "… im Wartezimmer vergessen" names no one new
            signed = None if name or msg.get("name") or not started else _signed_name(text)
            if signed:  # "can I move my Wednesday appointment to Friday? Kurt Vogel": signed at the end
                name, text = signed, text[: text.rstrip(" .!").rfind(signed)].rstrip(" ,;-")
            if name:
                if self._unsure(name):
                    msg["unsure_name"] = name
                else:
                    msg["name"] = name
            body = text
            if started:
                body = nlu.message_body(text)
            if asked == "name" and name:  # the answer to "What's your name?": the name, no message
                body = "" if msg.get("text") else nlu.said_besides_name(text, name)
        body = nlu.remove_name_clause(body) if body else ""
        fresh = bool(body and len(body.split()) >= 2 and not msg.get("text"))
        if fresh:
            msg["text"] = body
        if not msg.get("text"):
            msg["asked"] = "text"
            if asked == "name" and msg.get("name"):  # the name asked first (no_transfer): now the message
                return [self.t("ask_message_named", name=msg["name"])]
            return [self.t("ask_message")]
        if not msg.get("name"):
            if msg.get("unsure_name"):
                msg["asked"] = "name_confirm"
                return [self._confirm_name(msg["unsure_name"])]
            msg["asked"] = "name"
            if fresh and msg.pop("unseen", None):
                return [self.t("existing_unseen"), self.t("ask_message_name")]
            if fresh:
                return [self.t("ask_message_name_ack", to=msg.get("for") or self.t("team"))]
            return [self.t("ask_message_name")]
        return await self._take_message(msg)

    def _message_text(self, msg: dict[str, Any]) -> str:
        text: str = msg["text"]
        to = msg.get("for")
        if to and to.lower() not in text.lower():
            text = f"{text} ({'für' if self.lang == 'de' else 'for'} {to})"
        return text

    async def _take_message(self, msg: dict[str, Any]) -> list[str]:
        st = self.st
        result = await self.tools.take_message(
            name=msg["name"], message=self._message_text(msg), phone=msg.get("phone")
        )
        if not result.get("ok"):
            st["message"] = {}
            st["message"]["asked"] = "text"
            return [self.t("ask_message")]
        st["name"] = msg["name"]  # known from now on ("yep" to the name question of a booking after it)
        to = msg.get("for") or self.t("team")
        if msg.get("phone"):
            st["message"] = {}
            st["pending"] = "anything_else"
            return [self.t("message_taken", name=msg["name"], to=to)]
        st["message"] = {k: msg[k] for k in ("name", "text", "for") if msg.get(k)}
        st["pending"] = "message_phone"
        return [self.t("message_taken_phone", name=msg["name"], to=to)]

    async def _message_phone(self, text: str, goodbye: bool) -> list[str] | None:
        """The answer to "Which number can we call you back on?" after a message; None = something else."""
        st = self.st
        msg = st.get("message") or {}
        phone = nlu.extract_phone(text)
        if phone and msg.get("name") and msg.get("text"):
            msg["phone"] = phone
            await self.tools.take_message(name=msg["name"], message=self._message_text(msg), phone=phone)
            st["message"] = {}
            st["pending"] = "anything_else"
            parts = [self.t("phone_noted", phone=phone)]
            if goodbye:
                parts = [await self._farewell("reason_bye_after_message")]
            return parts
        heard = None if phone else nlu.name_answer(text)
        if heard and msg.get("name") and set(heard.lower().split()) & set(msg["name"].lower().split()):
            return [self.t("ask_phone")]  # "Park" (the name again, never parking) to "Which number …?"
        st["message"] = {}
        if goodbye:
            return [await self._farewell("reason_bye")]
        declines = (
            nlu.NO.search(text) or nlu.YES.search(text) or nlu.PASS_ON.search(text) or nlu.THANKS.search(text)
        )
        if declines or re.search(
            r"\b(same|this|that|my) (number|one)\b|\byou have (it|my number)\b|\bdiese(lbe)? nummer\b|"
            r"\bhaben sie\b|\bnicht nötig\b|\bbrauchen sie nicht\b",
            text,
            re.IGNORECASE,
        ):
            st["pending"] = "anything_else"
            return [self.t("anything_else")]
        st["pending"] = None
        return None

    # ------------------------------------------------------------------ names heard unsure (class 11)
    def _heard_words(self) -> list[list[Any]] | None:
        for message in reversed(self.conv.history):
            if message.role == "user":
                return message.meta.get("words")
        return None

    def _unsure(self, name: str) -> bool:
        """Whether speech recognition heard the words of ``name`` with low confidence (typed text never)."""
        confidence = nlu.name_confidence(name, self._heard_words())
        return confidence is not None and confidence < nlu.NAME_CONFIDENCE

    def _confirm_name(self, name: str) -> str:
        return self.t("confirm_name", name=name, spelled=nlu.spell(name.split()[-1]))

    def _name_answer(self, text: str, unsure: str) -> tuple[str, bool] | str | None:
        """The answer to "Joe Park — P-A-R-K, is that right?": (name, sure) for a yes or a correction
        ("No, it's Clark, C-L-A-R-K", "Clark", "No, Joe Clark"), "spell" for a bare no, None otherwise."""
        spelled = nlu.spelled_word(text)
        rest = re.sub(
            r"^\W*(no|nope|nah|nein|nee|not quite|nicht ganz|falsch|wrong|sorry|entschuldigung)\b\W*",
            "",
            text.strip(),
            flags=re.IGNORECASE,
        )
        said_no = rest != text.strip()
        parts = unsure.split()

        def with_surname(surname: str) -> str:
            return " ".join(parts[:-1] + [surname]) if len(parts) > 1 else surname

        if spelled:
            without = re.sub(r"(?<![^\W\d_])[^\W\d_](?:[\s.,\-–]+[^\W\d_](?![^\W\d_]))+", " ", rest)
            named = nlu.extract_name(without, expecting=True)
            if named and len(named.split()) > 1:
                return " ".join(named.split()[:-1] + [spelled]), True
            return with_surname(spelled), True
        if not said_no and (
            nlu.YES.search(text)
            or re.search(
                r"^\W*(that'?s|that is|it'?s|it is|das ist|ist) (right|correct|richtig|it)\b", text, re.I
            )
            or re.search(r"^\W*(stimmt|exactly|exakt|korrekt)\b", text, re.I)
        ):
            return unsure, True
        if nlu.GOODBYE.search(text) and not nlu.extract_name(_NAME_LEAD.sub("", rest), expecting=False):
            # "No, that's all. Bye." to "Joe Park — P-A-R-K, is that right?": the caller is leaving; the slot
            # was agreed, so it is booked under the name as heard rather than lost
            return unsure, True
        if said_no and not re.search(r"[^\W\d_]", rest):
            return "spell"
        named = nlu.extract_name(rest, expecting=True)
        if named:
            return (with_surname(named), False) if len(named.split()) == 1 else (named, False)
        return None

    # ------------------------------------------------------------------ loops (class 9, engine hook)
    def loop_breaker(self, reply: str, stage: str) -> str:
        st = self.st
        transfer = bool(self.ctx.business.transfer_number)
        if stage == "escape":
            st["pending"] = "offer_escape"
            return self.t("escape" if transfer else "escape_message")
        b = st.get("booking") or {}
        pending = st.get("pending")
        if reply == self.t("take_time"):
            return self.t("rephrase_time")
        if pending == "booking" and b.get("offered"):
            text = self.t("rephrase_offer", when=self.spoken(datetime.fromisoformat(b["offered"])))
        elif pending == "booking" and b.get("asked") in ("name", "name_confirm"):
            text = self.t("rephrase_name")
        elif pending == "booking" and b.get("asked") in ("when", "day", "time"):
            text = self.t("rephrase_when")
        elif pending == "message" and (st.get("message") or {}).get("asked") == "text":
            text = self.t("rephrase_message")
        elif reply.startswith(phrase(self.lang, "engine.repeat")):  # the engine's "say it again"
            text = self.t("rephrase_repeat")
        else:
            text = self.t("rephrase", reply=reply)
        return f"{text} {self.t('way_out' if transfer else 'way_out_message')}"

    async def _callback(self, text: str, started: bool) -> list[str]:
        st = self.st
        cb = st.setdefault("callback", {})
        st["pending"] = "callback"
        phone = nlu.extract_phone(text) or (self.conv.slots.get("caller_number") if started else None)
        if phone:
            cb["phone"] = phone
        # the answer to "Which number can we call you back on?" may bring the name too: "Rachel Green, 07700 …"
        rest = text.replace(phone, " ") if phone and phone in text else text
        asked_name = cb.get("asked") == "name"
        name = (
            nlu.extract_name(rest, expecting=asked_name or (not started and bool(phone)))
            or nlu.name_instead(rest)
            # signed after the question, before the number: "… or only 6? priya nair, +49 151 …"
            or (_signed_name(rest.rstrip(" ,;:-"), typed_lower=True) if phone else None)
        )
        if name and asked_name and nlu.GOODBYE.search(text) and not nlu.extract_name(text):
            name = None  # "No, that's all. Goodbye." to the name question: leaving, no name
        if name:
            cb["name"] = name
        if not cb.get("topic") and (topic := nlu.callback_topic(rest)):
            cb["topic"] = topic.replace(name, "").strip(" ,") if name else topic
        when = nlu.safe_parse_when(rest, self.now, self.lang)
        if when is not None and not when.is_empty and not asked_name:
            cb["when"] = when.text or text
        if not cb.get("phone"):
            return [self.t("ask_phone")]
        if asked_name and not name:  # no name to the name question: the callback stands as noted
            st["callback"] = {}
            if nlu.GOODBYE.search(text):
                return [await self._farewell("reason_bye")]
            st["pending"] = "anything_else"
            return [self.t("anything_else")]
        result = await self.tools.request_callback(
            phone=cb["phone"],
            when=cb.get("when"),
            name=cb.get("name") or st.get("name"),
            topic=cb.get("topic"),
        )
        if not result.get("ok"):
            st["callback"] = {}
            return [self.t("ask_phone")]
        when_text = f" ({cb['when']})" if cb.get("when") else ""
        if not cb.get("name") and not st.get("name"):
            cb["asked"] = "name"  # noted already; the name asked once, for whom to ask when calling back
            return [self.t("callback_ask_name", phone=cb["phone"], when=when_text)]
        st["callback"] = {}
        st["pending"] = "anything_else"
        if cb.get("name"):
            return [self.t("callback_named", name=cb["name"], phone=cb["phone"], when=when_text)]
        return [self.t("callback", phone=cb["phone"], when=when_text)]

    # ------------------------------------------------------------------ booking
    def _booking_prompt(self) -> str:
        b = self.st.get("booking") or {}
        if b.get("options"):
            return self._day_options([datetime.fromisoformat(o) for o in b["options"]])
        if b.get("offered"):
            return self.t("offer", when=self.spoken(datetime.fromisoformat(b["offered"])))
        if b.get("start"):
            return self.t("ask_name")
        return self.t("ask_when")

    def _service(self) -> str | None:
        return (self.st.get("booking") or {}).get("service")

    async def _booking(self, text: str, when: When | None) -> list[str]:
        st = self.st
        st["misses"] = 0
        b: dict[str, Any] = st.setdefault("booking", {})
        if st.get("pending") != "booking":
            day = _when_from_state(b["when"]).day if b.get("when") else None
            if day is not None:
                st["talked_day"] = day.isoformat()  # for a bare weekday later (_same_weekday)
            b.clear()
        st["pending"] = "booking"
        if lean := nlu.time_lean(text):
            b["lean"] = lean  # "as late as possible", "morning": picks among offered times on a plain yes
        service = self.ctx.business.find_service(text)
        if service is not None and (
            service.key != self.ctx.business.default_service.key or not b.get("service")
        ):
            b["service"] = service.key
        if (moved := await self._other_than_the_slot(text, when)) is not None:
            return moved
        confirmed = (
            self._name_answer(text, b["unsure_name"])
            if b.get("asked") == "name_confirm" and b.get("unsure_name")
            else None
        )
        if confirmed == "spell":
            return [self.t("spell_name")]
        # "actually make it the first one", "ach nee, lieber doch die erste": the pick changed, no name
        repick = self._repick(text)
        # "yep", "ja genau", "ok thanks" or "are both booked?" to "May I have your name?": no name
        no_name = b.get("asked") == "name" and (nlu.acknowledges_only(text) or nlu.asks(text) or repick)
        name: str | None = None
        new_name = False  # a name said for the first time in this booking (thanked for once)
        if isinstance(confirmed, tuple):
            name, sure = confirmed
            b.pop("unsure_name", None)
            b["asked"] = None
            if sure or not self._unsure(name):
                b["name"] = st["name"] = name
            else:
                b["unsure_name"] = name
        elif b.get("asked") != "name_confirm":
            # a loose answer is a name only when no day or time was said ("Actually Wednesday"), never a question
            name = nlu.extract_name(text, expecting=b.get("asked") == "name" and when is None and not no_name)
            if name and _CALENDAR_WORD.search(name):
                name = None  # "im Dezember meine ich": a month, not "Dezember Meine"
            if not name and not b.get("name"):
                name = self._name_in_request(text)  # "tomorrow at 10 for Carla Jensen please"
            if not name and no_name and nlu.acknowledges_only(text) and not b.get("for_other"):
                name = st.get("name")  # "yep" to "May I have your name?" after the caller gave it before
            if not name and b.get("offered") and when is None:
                name = nlu.bare_full_name(text)  # "Sam Ortiz" while a time is still to be agreed
            if not name and b.get("asked") in ("when", "day", "time"):
                name = nlu.name_instead(text)  # "Joe Park" (, Tuesday at ten) to "Which day would suit you?"
            if name and self._unsure(name):
                b["unsure_name"] = name
                b.pop("name", None)
            elif name:
                new_name = name != b.get("name")
                b["name"] = name
                st["name"] = name
        other = nlu.booking_for_other(text)
        if other is not None and not b.get("for_other"):
            b["for_other"] = True  # "for my husband": the appointment is his, the caller's name is not it
            if name and nlu.introduces_self(text, name) and name != other[1]:
                b["caller"] = name
                b.pop("name", None)
                name = None
            if other[1]:
                b["name"] = other[1]
        phone = nlu.extract_phone(text)
        if phone:
            b["phone"] = phone
        parts: list[str] = []
        if nlu.PAST_DAY.search(text) and (when is None or when.day is None) and not nlu.past_story(text):
            b.pop("when", None)
            b.pop("offered", None)
            b["asked"] = "when"
            return [self.t("past"), self.t("ask_when_again")]

        when = self._in_named_week(text, when)
        when = self._in_named_month(text, when)
        slot = b.get("start") or b.get("offered")
        if when is None and slot and not nlu.NO.search(text):
            # "ok, 12 then", "9", "um 9" (also one of the times not offered): that time, on the day talked about
            when = nlu.time_alone(text, self.now, self.lang)
            if (
                when is None and name and name in text
            ):  # "8 then. Name's Ruth Adler": the time besides the name
                rest = _NAME_LEAD_TAIL.sub("", text[: text.find(name)])
                when = nlu.time_alone(rest, self.now, self.lang)
        choice = self._pick(text, when)
        if choice is not None:
            options = b.pop("options")
            b.pop("offered", None)
            b["start"] = options[min(choice, len(options) - 1)] if choice >= 0 else options[-1]
            b["picked"] = True
            b["picked_from"] = options  # for a pick changed before the name ("actually the first one")
        elif when is not None and (when.day or when.time or when.first_day or when.earliest or when.latest):
            b.pop("options", None)
            when = self._same_weekday(text, when)
            if b.get("when"):
                merged = _when_from_state(b.get("when")).combine(when)
            elif slot and when.day is None and when.first_day is None:
                # a new time for the day of the slot talked about ("Thursday 5:30 pm?" - "ugh ok, 5:30 then")
                merged = _when_from_state({"day": slot[:10]}).combine(when)
            else:
                merged = when
            b["when"] = _when_to_state(merged)
            b.pop("offered", None)
            b.pop("start", None)
        elif b.get("offered") and nlu.LATER_ONE.search(text) and not nlu.YES.search(text):
            offered = datetime.fromisoformat(b["offered"]).replace(tzinfo=self.ctx.business.tz)
            return await self._offer_next_free(after=offered)
        elif len(b.get("options") or []) > 1 and (nlu.accepts(text) or nlu.time_lean(text)):
            # "sure", "ok thanks", "passt" to several times: the one the wish said before picks, else which one
            if (picked := self._leaning_option()) is None:
                b["asked"] = "time"
                return [self._which_option()]
            b["start"] = picked
            b.pop("options", None)
            b.pop("offered", None)
            b["picked"] = True
        elif b.get("offered") and nlu.accepts(text):
            b["start"] = b.pop("offered")
        elif b.get("offered") and nlu.NO.search(text):
            b.pop("offered", None)
            b.pop("when", None)
            return [self.t("other_time")]

        if not b.get("start"):
            # a name said while a time is still to be chosen is kept, and the choice asked again
            heard = [self.t("name_noted", name=b["name"])] if name and b.get("name") == name else []
            if when is None and not b.get("when") and not b.get("options") and nlu.NEXT_FREE.search(text):
                return [*heard, *await self._offer_next_free()]
            if not b.get("when"):
                if b.get("offered"):
                    return [*heard, self._booking_prompt()]
                b["asked"] = "when"
                if heard and new_name:  # the name instead of a day: kept, and the day asked once more
                    return [self.t("ask_when_named", name=b["name"])]
                return [self.t("ask_when")]
            resolved = await self._resolve(_when_from_state(b["when"]))
            if resolved is not None:
                return [*heard, *resolved]
        if not b.get("name") and b.get("unsure_name"):
            b["asked"] = "name_confirm"
            confirm = self._confirm_name(b["unsure_name"])
            if b.pop("fresh_free", None):
                start = datetime.fromisoformat(b["start"])
                return [self.t("free", when=capital(self.spoken(start))), confirm]
            return [confirm]
        if not b.get("name"):
            b["asked"] = "name"
            if no_name and not repick and not b.get("fresh_free"):  # a new free time is named, not this
                # the first of two is booked: only the second is not ("Both booked then?")
                return [
                    self.t("name_still_needed_second" if st.get("first_booking") else "name_still_needed")
                ]
            if b.pop("picked", None):
                start = datetime.fromisoformat(b["start"])
                return [self.t("picked_ask_name", when=capital(self.spoken(start)))]
            if not parts and b.get("fresh_free"):
                b.pop("fresh_free", None)
                key = "free_ask_patient_name" if b.get("for_other") else "free_ask_name"
                return [self.t(key, when=capital(self.spoken(datetime.fromisoformat(b["start"]))))]
            return [self.t("ask_patient_name" if b.get("for_other") else "ask_name")]
        return await self._book()

    def _moved_booking(self, text: str, when: When | None, booked: dict[str, Any]) -> When | None:
        """The new day and time when ``text`` moves the appointment booked in this conversation ("can we make
        that Friday at 10 instead?", "half an hour later?", "doch lieber Donnerstag, gleiche Uhrzeit", "move it to
        10:30"); None when it moves nothing (a second booking: "and another one for my husband on Friday")."""
        from agent.when import When

        old = datetime.fromisoformat(booked["start"])
        if (minutes := nlu.time_shift(text)) is not None:
            new = old + timedelta(minutes=minutes)
            return When(day=new.date(), time=new.time(), text=text)
        if when is None or (when.day is None and when.time is None) or _ANOTHER_BOOKING.search(text):
            return None
        if not (nlu.CANCEL_OR_MOVE.search(text) or _REPICK.search(text) or _SAME_TIME.search(text)):
            return None
        if nlu.booking_for_other(text) is not None:
            return None
        return When(day=old.date(), time=old.time()).combine(when)

    async def _cancel_booked(self, booked: dict[str, Any]) -> list[str]:
        """Cancel the appointment booked in this conversation (``booked``): its slot is released, and the
        outcome no longer says booked."""
        start = datetime.fromisoformat(booked["start"]).replace(tzinfo=self.ctx.business.tz)
        await self.tools.calendar.remove(start, self.conv.id)
        self.conv.slots.pop("booked", None)
        when = self.spoken(start)
        outcome = self.conv.outcome
        outcome.status, outcome.appointment = Status.ANSWERED, None
        outcome.summary = self.t("cancelled_booked_note", name=booked.get("name") or "", when=when)
        self.st["pending"] = "anything_else"
        self.st["misses"] = 0
        return [self.t("cancelled_booked", when=when)]

    async def _move(self, booked: dict[str, Any], to: When) -> list[str]:
        """Move the appointment booked in this conversation (``booked``) to ``to``: its slot is released while
        the new one is sought, and given back unless the new one is booked (see :meth:`_book`)."""
        st = self.st
        old = datetime.fromisoformat(booked["start"]).replace(tzinfo=self.ctx.business.tz)
        st["pending"] = "booking"
        st["booking"] = {"name": booked["name"], "service": booked.get("service"), "moving": booked["start"]}
        st["booking"]["when"] = _when_to_state(to)
        released = await self.tools.calendar.remove(old, self.conv.id)
        parts = await self._booking("", None)
        b = st.get("booking") or {}
        if released is not None and b.get("moving"):  # not booked yet: the old slot stays the caller's
            await self.tools.calendar.add(released)
        return parts

    def _with_bare_hour(self, text: str, when: When | None) -> When | None:
        """A day said with a bare hour in a sentence of its own ("Thursday morning is fine too. 9?"): that hour
        on that day, not the whole morning."""
        if when is None or when.day is None or when.time is not None:
            return when
        rest = text.replace(when.text, " ", 1) if when.text else ""
        if _BARE_HOUR.fullmatch(rest):  # "morgen 10?", "tomorrow 9?", "Freitag um 11": that hour
            alone = nlu.time_alone(rest, self.now, self.lang)
            if alone is not None and alone.time is not None:
                return replace(when, time=alone.time, earliest=None, latest=None)
        for part in re.split(r"(?<=[.!?;])\s+", text.strip())[1:]:
            alone = nlu.time_alone(part, self.now, self.lang) if re.search(r"\d", part) else None
            if alone is not None and alone.time is not None:
                return replace(when, time=alone.time, earliest=None, latest=None)
        return when

    def _side_answer(self, text: str) -> str | None:
        """The FAQ answers to the questions asked besides a booking wish in one message ("… Thursday at 3? And
        is there somewhere to park?", "Was kostet eine Massage, und hätten Sie Freitag um drei was frei?")."""
        from agent.business import question_parts

        parts = [p for p in question_parts(text) if len(p.split()) >= 2]
        wishes = [p for p in parts if self._wishes_slot(p)]
        questions = [p for p in parts if p not in wishes and (nlu.asks(p) or nlu.PRICE.search(p))]
        if not wishes or not questions:
            return None
        answers = [self.ctx.business.faq_answer(q, self.lang) for q in questions]
        if not any(answers) and any(nlu.PRICE.search(q) for q in questions):
            answers = [self.ctx.business.faq_answer(self.t("price_question"), self.lang)]
        return " ".join(a for a in answers if a) or None

    def _second_wish(self, text: str) -> When | None:
        """The second of two appointments asked for in one message ("two sessions please: Tuesday at 9 and
        Thursday at 9", "zwei Termine, Dienstag um 9 und Donnerstag um 9"), or None."""
        if not _TWO_BOOKINGS.search(text):
            return None
        wishes = []
        for part in re.split(r"\s+(?:and|und|sowie)\s+|[,;]\s*", text):
            when = nlu.safe_parse_when(part, self.now, self.lang)
            if when is not None and when.day is not None and when.time is not None and when not in wishes:
                wishes.append(when)
        if len(wishes) != 2:
            return None
        first, second = wishes
        while first.day and second.day and second.day < first.day:  # "Monday … and Wednesday": the one after
            second = replace(second, day=second.day + timedelta(days=7))
        return second

    def _wish_beside_question(self, text: str) -> bool:
        """Whether a question of ``text`` besides the hours question asks for a time ("Are you open on Friday?
        Could I come at 10 that day?", "Ginge da 10 Uhr?"); never a statement ("I work until 5.")."""
        from agent.business import question_parts

        parts = [p for p in question_parts(text) if "?" in p and not nlu.HOURS.search(p)]
        return any(self._wishes_slot(p) for p in parts)

    def _wishes_slot(self, part: str) -> bool:
        """Whether one sentence of a message asks for an appointment (a day or time, or "book")."""
        if nlu.BOOK_REQUEST.search(part) or nlu.BOOK.search(part):
            return True
        when = nlu.safe_parse_when(part, self.now, self.lang)
        return when is not None and (when.day is not None or when.time is not None)

    def _shifted_slot(self, text: str) -> When | None:
        """The time being booked moved by the amount said ("half an hour later", "eine Stunde früher"), as a
        wish for that day and time; None when ``text`` moves nothing or no time is on the table."""
        from agent.when import When

        b = self.st.get("booking") or {}
        slot = b.get("start") or b.get("offered")
        minutes = nlu.time_shift(text)
        if self.st.get("pending") != "booking" or not slot or minutes is None:
            return None
        moved = datetime.fromisoformat(slot) + timedelta(minutes=minutes)
        b.pop("options", None)
        return When(day=moved.date(), time=moved.time(), text=text)

    def _name_in_request(self, text: str) -> str | None:
        """A name given with the request ("tomorrow at 10 for Carla Jensen please", "Müller hier, …"), not the
        name of one of the business's services ("for Sports Massage")."""
        name = nlu.name_in_request(text)
        return name if name and self.ctx.business.find_service(name) is None else None

    async def _other_than_the_slot(self, text: str, when: When | None) -> list[str] | None:
        """The caller turns down the free slot Lisa named ("anything earlier?", "something later maybe", "no,
        that doesn't work after all") while she waits for a name: an earlier or later time that day, or the
        question for another time; None when ``text`` is no such answer."""
        b = self.st["booking"]
        if not b.get("start") or b.get("asked") != "name" or when is not None:
            return None
        start = datetime.fromisoformat(b["start"]).replace(tzinfo=self.ctx.business.tz)
        earlier, later = nlu.EARLIER.search(text), nlu.LATER.search(text)
        turned_down = nlu.NO.search(text) or nlu.turns_down(text)
        if not (earlier or later or turned_down):
            return None
        b.pop("start", None)
        b.pop("fresh_free", None)
        if later and not earlier:
            return await self._offer_next_free(after=start)
        if earlier:
            minutes = self.ctx.business.service_for(self._service()).minutes
            slots = [s for s in await self.tools.free_slots(start.date(), minutes) if s < start]
            if slots:
                b["when"] = _when_to_state(_when_from_state({"day": start.date().isoformat()}))
                return self._offer_day(start.date(), slots, _when_from_state({}))
        b.pop("when", None)
        b["asked"] = "when"
        return [self.t("other_time")]

    def _repick(self, text: str) -> bool:
        """Whether ``text`` changes a pick among the offered times before the booking is done ("actually make
        it the first one", "ach nee, lieber doch die erste"): the offers are put back for :meth:`_pick`."""
        from agent.slot_choice import pick_offered

        b = self.st.get("booking") or {}
        if b.get("options") or not b.get("picked_from") or not b.get("start") or not _REPICK.search(text):
            return False
        if pick_offered(text, [datetime.fromisoformat(o) for o in b["picked_from"]]) is None:
            return False
        b["options"] = b.pop("picked_from")
        b.pop("start")
        return True

    def _pick(self, text: str, when: When | None) -> int | None:
        """Which of the offered times (``booking.options``) ``text`` picks: "10 sounds good", "half ten",
        "halb elf", "the later one", "die erste"; None when it picks none (a day other than theirs, a time
        not offered)."""
        from agent.slot_choice import pick_offered

        options = [datetime.fromisoformat(o) for o in (self.st.get("booking") or {}).get("options") or []]
        if not options or (when is not None and when.day is not None and when.day != options[0].date()):
            return None
        if when is not None and when.day is None and (when.first_day or when.earliest or when.latest):
            return None  # "rather next week", "later in the afternoon": a new wish
        if _NOT_A_CHOICE.search(text):
            return None
        return pick_offered(text, options)

    def _in_named_week(self, text: str, when: When | None) -> When | None:
        """A bare weekday ("Tuesday at ten then", "how about Wednesday afternoon", "lieber Mittwoch") in the later
        week the caller named before ("next week", "the week after next", "in two weeks", "the week of the 7th",
        "übernächste Woche"), in whatever turn and whatever Lisa offered meanwhile, not the nearest such
        weekday. The week is kept in ``week`` (its Monday) until a day or week is said that names another
        ("this Friday", "tomorrow", "diese Woche", "December 3rd")."""
        st = self.st
        if when is None or (when.day is None and when.first_day is None):
            return when  # a time alone ("at ten then") keeps the week
        if nlu.bare_weekday(text):
            week = date.fromisoformat(st["week"]) if st.get("week") else None
            if week is None or week <= self.now.date() - timedelta(days=self.now.weekday()):
                return when  # no week named, or one that has come by now
            moved = nlu.weekday_in_week(text, week, self.now, self.lang)
            if moved is None:
                return when
            return replace(when, day=moved.day, first_day=moved.first_day, last_day=moved.last_day)
        monday = nlu.named_week(text, when, self.now)
        if monday is not None:
            st["week"] = monday.isoformat()
        else:
            st.pop("week", None)
        return when

    def _in_named_month(self, text: str, when: When | None) -> When | None:
        """A day of the month said alone ("what about the 28th then") is in the month named before ("December
        25th at 10"), not this one; a month said alone ("of December I mean") moves the day of the month talked
        about into it. The month is kept in ``month``, the day in ``month_day``."""
        from agent.when import When, day_alone, in_month, month_alone

        st, today = self.st, self.now.date()
        if when is not None and when.day is not None and not day_alone(text) and not month_alone(text):
            st["month"], st["month_day"] = when.day.month, when.day.day  # "December 25th": a month named
            return when
        moved: date | None = None
        if (dom := day_alone(text)) is not None:
            st["month_day"] = dom
            if st.get("month"):
                moved = in_month(dom, st["month"], today)
        elif (month := month_alone(text)) is not None and st.get("month_day"):
            st["month"] = month
            moved = in_month(st["month_day"], month, today)
        if moved is None:
            return when
        base = when if when is not None else When()
        if base.time is None and base.earliest is None and base.latest is None:
            base = replace(base, time=self._time_talked_about())  # "um 10" said with the day before
        return replace(base, day=moved, first_day=None, last_day=None, text=base.text or text)

    def _time_talked_about(self) -> time | None:
        """The time of the wish or of the slot being talked about in this booking, if any."""
        b = self.st.get("booking") or {}
        if b.get("when") and (earlier := _when_from_state(b["when"])).time is not None:
            return earlier.time
        slot = b.get("start") or b.get("offered")
        return datetime.fromisoformat(slot).time() if slot else None

    def _same_weekday(self, text: str, when: When) -> When:
        """A bare weekday ("then book me Tuesday at ten") while another date of that weekday is being talked
        about (next Tuesday, offered) means that date, not the nearest Tuesday."""
        b = self.st.get("booking") or {}
        known = _when_from_state(b["when"]).day if b.get("when") else None
        if known is None and b.get("offered"):
            known = datetime.fromisoformat(b["offered"]).date()
        if known is None and self.st.get("talked_day"):
            known = date.fromisoformat(self.st["talked_day"])
        if when.day is None or known is None or known == when.day or known.weekday() != when.day.weekday():
            return when
        return replace(when, day=known) if nlu.bare_weekday(text) else when

    async def _resolve(self, when: When) -> list[str] | None:
        """Turn what was said into a free start (``booking.start``), or say what to ask/offer next."""
        b = self.st["booking"]
        tz = self.ctx.business.tz
        minutes = self.ctx.business.service_for(self._service()).minutes
        if when.day is not None and when.time is not None:
            start = datetime.combine(when.day, when.time, tzinfo=tz)
            result = await self.tools.check_availability(start=start, service=self._service())
            if result.get("available"):
                b["start"] = result["start"]
                b["fresh_free"] = True
                return None
            return self._offer_alternative(result, start)
        if when.time is not None and when.day is None and when.first_day is None:
            b["asked"] = "day"
            return [self.t("ask_day")]
        days = when.days()
        if not days:
            b["asked"] = "day"
            return [self.t("ask_day")]
        for day in days:
            slots = await self.tools.free_slots(day, minutes, when.earliest, when.latest)
            if slots:
                return self._offer_day(day, slots, when)
        first = datetime.combine(days[0], when.earliest or time(12), tzinfo=tz)
        result = await self.tools.check_availability(day=days[0], service=self._service())
        if result.get("reason") == "closed":
            b["offered_reason"] = "closed_day"
        return self._offer_alternative(result, max(first, self.now))

    async def _offer_next_free(self, after: datetime | None = None) -> list[str]:
        """The earliest free slot within the booking horizon (after the one offered, ``after``), offered alone:
        "the next free appointment is …"."""
        b = self.st["booking"]
        minutes = self.ctx.business.service_for(self._service()).minutes
        first = (after or self.now).date()
        last = self.now.date() + timedelta(days=self.ctx.business.booking_horizon_days)
        for offset in range((last - first).days + 1):
            slots = await self.tools.free_slots(first + timedelta(days=offset), minutes)
            slots = [s for s in slots if after is None or s > after]
            if slots:
                b["offered"] = slots[0].strftime("%Y-%m-%dT%H:%M")
                b["asked"] = "offer"
                key = "next_free" if after is None else "next_free_after"
                return [self.t(key, when=self.spoken(slots[0]))]
        b.pop("offered", None)
        b["asked"] = "when"
        return [self.t("no_alternative")]

    def _offer_day(self, day: date, slots: list[datetime], when: When) -> list[str]:
        b = self.st["booking"]
        picks = [slots[0]]
        for candidate in (slots[len(slots) // 2], slots[-1]):
            if candidate not in picks:
                picks.append(candidate)
        if len(picks) == 1 or when.earliest or when.latest:
            b["offered"] = picks[0].strftime("%Y-%m-%dT%H:%M")
            b["asked"] = "offer"
            if len(picks) == 1:
                return [self.t("offer", when=self.spoken(picks[0]))]
        b["offered"] = picks[0].strftime("%Y-%m-%dT%H:%M")
        b["options"] = [p.strftime("%Y-%m-%dT%H:%M") for p in picks]
        b["asked"] = "time"
        return [self._day_options(picks)]

    def _leaning_option(self) -> str | None:
        """The offered time (``booking.options``) the caller's wish picks ("as late as possible" -> the last)."""
        from agent.slot_choice import leaning_option

        b = self.st["booking"]
        options = [datetime.fromisoformat(o) for o in b.get("options") or []]
        index = leaning_option(b.get("lean"), options)
        return None if index is None else b["options"][index]

    def _which_option(self) -> str:
        """ "Happy to — which one would you like: 12 noon, 3 pm or 5:30 pm?" (a yes to several times)."""
        return self.t("which_option", options=self._joined_times(self.st["booking"]["options"]))

    def _joined_times(self, starts: list[str]) -> str:
        """ "8 am, 10 am or 11:30" / "8 Uhr, 10 Uhr oder 11:30 Uhr" for the offered ``starts`` (ISO)."""
        from agent.when import say_time

        options = [say_time(datetime.fromisoformat(s).time(), self.lang) for s in starts]
        return (
            (", ".join(options[:-1]) + f" {self.t('or')} " + options[-1]) if len(options) > 1 else options[0]
        )

    def _day_options(self, picks: list[datetime]) -> str:
        """ "On Thursday, November 26 I could offer 8 am, 10 am or 11:30. Which time suits you?" """
        joined = self._joined_times([p.isoformat() for p in picks])
        return self.t("day_options", day=self.spoken_day(picks[0].date()), options=joined)

    def _offer_alternative(self, result: dict[str, Any], wanted: datetime) -> list[str]:
        b = self.st["booking"]
        reason = result.get("reason") or "taken"
        parts: list[str] = []
        if reason == "taken":
            parts.append(self.t("taken", when=self.spoken(wanted)))
        elif reason == "closed":
            hours = self.ctx.business.hours_on_date(wanted.date())
            if hours is None:  # that the business is closed that day is an answer in itself
                self.conv.slots["answered"] = True
                parts.append(self.t("closed_day", day=self.spoken_day(wanted.date())))
            elif hours[0] <= wanted.time() < hours[1]:  # open then, but the session would end after closing
                from agent.when import say_time

                service = self.ctx.business.service_for(self._service())
                parts.append(
                    self.t(
                        "runs_past_closing",
                        service=service.label(self.lang),
                        minutes=service.minutes,
                        closes=say_time(hours[1], self.lang),
                    )
                )
            else:
                parts.append(self.t("closed"))
        elif reason == "past":
            parts.append(self.t("past"))
        elif reason == "too_far":
            parts.append(self.t("too_far", days=self.ctx.business.booking_horizon_days))
        elif reason == "full":
            parts.append(self.t("full", day=self.spoken_day(wanted.date())))
        alternatives = result.get("alternatives") or []
        b.pop("when", None)
        if not alternatives:
            b["asked"] = "when"
            parts.append(self.t("no_alternative"))
            return parts
        b["offered"] = alternatives[0]
        b["asked"] = "offer"
        parts.append(self.t("offer", when=self.spoken(datetime.fromisoformat(alternatives[0]))))
        return parts

    async def _book(self) -> list[str]:
        st = self.st
        b = st["booking"]
        start = datetime.fromisoformat(b["start"])
        tz = self.ctx.business.tz
        moving = b.get("moving")
        released = (
            await self.tools.calendar.remove(datetime.fromisoformat(moving).replace(tzinfo=tz), self.conv.id)
            if moving
            else None
        )
        result = await self.tools.book_appointment(
            start=start,
            name=b["name"],
            service=self._service(),
            phone=b.get("phone") or (released.phone if released else None),
            note=self._booking_note(moving),
        )
        if not result.get("ok"):
            if released is not None:
                await self.tools.calendar.add(released)  # the new time could not be had: the old one is kept
            b.pop("start", None)
            return self._offer_alternative(result, start.replace(tzinfo=tz))
        name = b["name"]
        if moving:
            st["booking"] = {}
            st["pending"] = "anything_else"
            old = datetime.fromisoformat(moving).replace(tzinfo=tz)
            return [
                self.t("moved", name=name, old=self.spoken(old), when=self.spoken(start.replace(tzinfo=tz)))
            ]
        service = self.ctx.business.service_for(self._service())
        first = st.pop("first_booking", None)
        if first is not None:  # the second of two: the summary keeps both
            st["booked_before"] = first["start"]
            outcome = self.conv.outcome
            outcome.summary = f"{first['summary']} {outcome.summary}"
            outcome.appointment = datetime.fromisoformat(first["start"]).replace(tzinfo=self.ctx.business.tz)
        st["booking"] = {}
        st["pending"] = "anything_else"
        st["just_booked"] = {"name": name, "start": b["start"]}  # for a name corrected in the next turn
        when = self.spoken(start.replace(tzinfo=self.ctx.business.tz))
        if first is not None and first.get("name") == name:  # the second under the same name: said as such
            done = [self.t("booked_second", when=when)]
        elif service.key != self.ctx.business.default_service.key:  # "Your massage is booked for …"
            done = [self.t("booked_service", name=name, when=when, service=service.label(self.lang))]
        else:
            done = [self.t("booked", name=name, when=when)]
        if (
            second := st.pop("second_wish", None)
        ) is not None:  # the other appointment asked for: booked under the same name when it is free
            booked_first = done[0].rsplit(". ", 1)[0] + "."
            same_person = not b.get("for_other")
            st["first_booking"] = {
                "summary": self.conv.outcome.summary,
                "start": b["start"],
                "name": name if same_person else None,
            }
            st["booking"] = {
                "when": second,
                "service": service.key,
                **({"name": name} if same_person else {}),
            }
            st["pending"] = "booking"
            rest = await self._booking("", None)
            if st.get("pending") == "anything_else":  # booked at once
                return [booked_first, *rest]
            return [booked_first, self.t("second_booking"), *rest]
        return done

    def _booking_note(self, moving: str | None) -> str | None:
        """What the team should know besides the booking: the slot it was moved from, the therapist wished."""
        notes = []
        if moving:
            old = datetime.fromisoformat(moving).replace(tzinfo=self.ctx.business.tz)
            notes.append(self.t("moved_note", old=self.spoken(old)))
        if self.st.get("staff"):
            notes.append(self.t("staff_note", staff=self.st["staff"]))
        return " ".join(notes) or None

    async def _correct_name(self, booked: dict[str, str], name: str) -> list[str]:
        """The name of the appointment just booked (``booked``: its name and start) corrected right after the
        booking ("sorry typo, it's John Smith"): the calendar entry and the booking's summary carry the new
        name (a note says what it was booked as), and it is confirmed."""
        start = datetime.fromisoformat(booked["start"]).replace(tzinfo=self.ctx.business.tz)
        when = self.spoken(start)
        old = booked["name"]
        note = self.t("name_correction_note", when=when, name=name, old=old)
        released = await self.tools.calendar.remove(start, self.conv.id)
        if released is not None and await self.tools.calendar.add(replace(released, name=name)):
            outcome = self.conv.outcome
            outcome.summary = f"{outcome.summary.replace(old, name)} {self.t('name_renamed_note', old=old)}"
            if isinstance(self.conv.slots.get("booked"), dict):
                self.conv.slots["booked"]["name"] = name
        else:  # not found to rename (or given away meanwhile): the team reads the correction
            if released is not None:
                await self.tools.calendar.add(released)
            await self.tools.take_message(name=name, message=note)
        self.st["name"] = name
        self.st["pending"] = "anything_else"
        self.st["misses"] = 0
        return [self.t("name_corrected", when=when, name=name)]
