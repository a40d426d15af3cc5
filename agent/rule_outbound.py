"""The rule brain on an outbound booking call: Lisa phones a business on behalf of a user (seed 002).

The callee speaks first. Lisa introduces herself with the request's purpose and preferred time, takes the
offer that fits among all offered in a sentence (asks once for a better one otherwise, then takes the
nearest), gives the user's name and, only when asked, the callback number, answers what she cannot know
honestly and goes on, and handles "fully booked" and "call back later". What is agreed is tracked in
:mod:`agent.agreement`; the booking follows from it, a confirmation naming another slot is asked about,
and where the call ends :func:`agent.outcome_check.settle` makes her last words agree with the outcome.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from agent import outbound_nlu as onlu
from agent import outbound_questions as oq
from agent import rule_nlu as nlu
from agent.agreement import Agreement
from agent.agreement import iso as iso_minute
from agent.brain import TurnContext
from agent.conversation import Conversation, Status
from agent.outcome_check import names_slot, settle
from agent.phrases import phrase
from agent.rule_turn import RuleTurn, capital
from agent.tools import summary_datetime
from agent.when import When, offer_taken_back, parse_bare_time, parse_offers, say_day, say_time

log = logging.getLogger(__name__)

_EMAIL_QUESTION = re.compile(r"\b(e-?mail|mail)", re.IGNORECASE)
# where a question may start after a slot ("Friday at three works. Can I …", "Freitag geht, wie ist …")
_QUESTION_CUT = re.compile(
    r"(?<=[.!?])\s+|,\s*(?=(?:and|und)\b)|[,;:–-]\s*(?=(?:and |und |also |so )?(?:can|could|may|what|what's|which|how|who|whose|"
    r"do|does|is|are|would|will|haben|hätten|können|könnten|kann|wie|was|wer|welche\w*|wo|darf|dürfte|"
    r"gibt|geben)\b)",
    re.IGNORECASE,
)


class _Outbound(RuleTurn):
    """One turn of an outbound booking call."""

    def __init__(self, conv: Conversation, ctx: TurnContext) -> None:
        super().__init__(conv, ctx)
        self.request = conv.request
        self.ag = Agreement.of(conv)
        self.asked = False
        self.side_question = False
        self.about_name = False  # the answers are about the user's name
        self.goodbye = False  # the business says goodbye in this turn
        self.patterns_only = False  # questions beside an offer: matched by the patterns only, not by meaning
        self._shut_by_text: dict[
            str, list[str]
        ] = {}  # :meth:`_shut`, asked by the take-back check and its answer

    def t(self, key: str, **values: Any) -> str:
        """An outbound phrase (``outbound.<key>`` in ``prompts/<lang>/phrases.yaml``); ``{user}`` is filled."""
        values.setdefault("user", self.user)
        return phrase(self.lang, f"outbound.{key}", **values)

    @property
    def user(self) -> str:
        name = self.request.user_name if self.request else ""
        return name or phrase(self.lang, "outbound.my_client")

    @property
    def preferred(self) -> str:
        return nlu.spoken_preference(self.request.preferred_time, self.lang) if self.request else ""

    @property
    def wish(self) -> str:
        """The preferred time when it names one ("next week, Monday between 10 and 12"); "" when there is none
        or it is any time ("ASAP"): "would {preferred} work?" is never filled with a question or nothing."""
        preferred = self.preferred
        return "" if not preferred or nlu.ANY_TIME.search(preferred) else preferred

    @property
    def asap(self) -> bool:
        """Whether the user wants any time, the sooner the better ("ASAP", "whenever")."""
        return bool(self.preferred and nlu.ANY_TIME.search(self.preferred))

    def _purpose(self) -> str:
        """What Lisa wants to book, in her words: the user's "my back" is "Sarah Klein's back"."""
        return (
            _in_third_person(nlu.purpose(self.request, self.lang), self.user, self.lang)
            if self.request
            else ""
        )

    def _restate(self) -> str:
        """What Lisa wants, once more: with the preferred time, or asking what the business can offer."""
        if self.wish:
            return self.t("restate", purpose=self._purpose(), preferred=self.wish)
        return self.t("restate_no_time", purpose=self._purpose())

    def _ask_wish(self, key: str, no_time: str) -> str:
        """``key`` ("small_talk", "way_out_again", …) asking for the preferred time, or ``no_time`` asking what
        the business can offer when there is no preferred time to ask for."""
        return self.t(key, preferred=self.wish) if self.wish else self.t(no_time)

    def _ask_time(self, day: date) -> str:
        """ "What time would work on Tuesday?", with the preferred time when there is one (and was not
        refused: once it was, only the question)."""
        if self.wish and not self.st.get("declined_once"):
            return self.t("ask_time", day=self.spoken_day(day), preferred=self.wish)
        return self.t("ask_time_no_time", day=self.spoken_day(day))

    def _preference(self) -> str:
        """The answer to "When would he like to come?"."""
        if self.wish:
            return self.t("preference", preferred=capital(self.wish))
        if self.asap:
            return self.t("preference", preferred=capital(self.t("as_soon_as_possible")))
        return self.t("preference_no_time")

    def local(self, iso: str) -> datetime:
        return datetime.fromisoformat(iso).replace(tzinfo=self.ctx.business.tz)

    # ------------------------------------------------------------------ the turn
    async def turn(self, text: str | None) -> str:
        if text is None:  # the callee speaks first; nothing to say before that
            return ""
        parts = await self._understand(text.strip())
        noted = [s for s in onlu.conditions(text) if self.tools.note_from_business(s)]
        if noted and parts and not self.conv.end_requested:  # "das kostet aber 80 Euro", "bring his card"
            parts.insert(0, self.t("condition_noted"))
        words = " ".join(p for p in parts if p)
        if self.conv.end_requested:  # the invariant: last words and outcome agree
            words = await settle(self.conv, self.tools, words, self.now, self.user)
        return words

    def _intro(self, text: str) -> list[str]:
        self.st["intro_done"] = True
        said = [m.text for m in self.conv.history if m.role == "user"]  # "Harbour Dental, please hold." first
        callee = next((c for line in [*said[:-1], text] if (c := _callee(line))), None)
        if callee and "callee" not in self.conv.slots:
            self.conv.slots["callee"] = callee
        purpose = self._purpose()
        if nlu.ANY_TIME.search(self.preferred or ""):
            return [self.t("intro_no_time", purpose=f"{purpose}, {self.t('as_soon_as_possible')}")]
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
        if not st.get("intro_done") and self.conv.lisa_lines() and nlu.CALL_LATER.search(text):
            st["intro_done"] = True  # "can you hold a sec?" - "Sure." - "… can you call back tomorrow?"
            first = next((m.text for m in self.conv.history if m.role == "user"), "")
            if (callee := _callee(first)) and "callee" not in self.conv.slots:
                self.conv.slots["callee"] = callee
        if not st.get("intro_done") or self._intro_not_heard(text):
            return self._intro(text)
        ag = self.ag
        booked = self.conv.outcome.status is Status.BOOKED
        if not booked and (st.get("online_only") or onlu.ONLINE_ONLY.search(text)):
            return await self._online_only(text)
        if not booked and onlu.WRONG_NUMBER.search(text):
            # "You must have the wrong number, this is a bakery": an apology, and the user hears why
            await self.tools.end_conversation(
                reason=self.t("reason_wrong_number", said=text[:120].rstrip(" .!?"))
            )
            return [self.t("wrong_number")]
        # "I need a number, or else I can't book it": what Lisa can give is no condition she cannot meet
        lisa_can_give = nlu.NAME_QUESTION.search(text) or nlu.PHONE_QUESTION.search(text)
        refusal = onlu.CONDITION_REFUSED.search(text)
        if refusal is None and (st.get("payment_asked") or self.conv.slots.get("business_notes")):
            refusal = onlu.THEN_REFUSED.search(text)  # "then I can't hold it" after the card was asked for
        if not st.get("message_left") and not lisa_can_give and refusal is not None:
            return await self._condition_refused(text, refusal.start())
        if not booked and (refusal := onlu.NOT_ACCEPTING.search(text)):
            # "we're not taking on new patients": no slot to ask for; the user hears why
            return await self._condition_refused(
                text, refusal.start(), ("not_accepting_refused", "reason_not_accepting")
            )
        # "see you then", "bis dann" once a slot is agreed: the business closes the call as with a goodbye
        asked_for_more = bool(st.get("declined")) and not booked and not ag.standing
        goodbye = self.goodbye = _is_goodbye(text, asked_for_more) or (
            bool(booked or ag.standing) and onlu.sees_off(text)
        )
        offers = self._offers(self._continued(text))
        if booked and nlu.CALL_LATER.search(text):
            offers = []  # "call back tomorrow" after the booking names no slot
        if st.get("message_left") and not booked and not onlu.names_free_slot(text):
            offers = []  # "she calls back after her last appointment at five" offers nothing
        timed = [w for w in offers if w.time is not None]
        only_at = onlu.ONLY_AT.search(text)
        if only_at and _MORNING.search(only_at.group(0)):
            st["mornings_only"] = True  # "seven thirty" is 7:30 am from now on
        refused = bool(
            nlu.NO_AVAILABILITY.search(text)
            or onlu.NO_SLOT.search(text)
            or (only_at and not timed)
            # "We're closed that Monday, Tuesday at ten thirty?": the wished day is shut, the offer is what is left
            or (timed and onlu.CLOSED.search(text) and not onlu.OTHER_CLOSING.search(text))
        )
        if not booked and refused:
            st["declined_once"] = True  # the preferred time cannot be had: an offer is taken as it comes
        parts: list[str] = []  # what Lisa says about slots
        self.asked = False  # whether ``parts`` ends with a question to the business

        if nlu.AI_QUESTION.search(text):
            parts.append(self.t("ai"))
        elif not booked and onlu.CANCELLED_EXISTING.search(text) and not _CANCEL_WISH.search(self._brief()):
            # "I've cancelled his appointment on Thursday": nobody asked for that; the user hears of it
            self.tools.note_from_business(text)
            self.asked = True
            parts.append(
                self.t(
                    "not_cancelled",
                    purpose=self._purpose(),
                    preferred=self._plain_wish() or self.t("as_soon_as_possible"),
                )
            )
        elif not (booked or ag.standing) and timed and (instead := onlu.other_service(text, self._brief())):
            # "I could give him a check-up instead" when a cleaning was asked for: no yes to another service
            st["declined_once"] = True
            self.asked = True
            self.tools.note_from_business(text)
            parts.append(self.t("other_service", service=instead, purpose=self._purpose()))
        elif (pending := self._pending_slot(text, offers)) is not None:
            parts += await self._tentative(pending)
        elif not booked and not timed and onlu.walk_in(text, agreed=bool(ag.standing)):
            return await self._walk_in(offers or self._visit_windows(text, []))
        elif not (booked or ag.standing or timed or st.get("message_left")) and onlu.offers_waiting_list(
            text
        ):
            parts += await self._leave_message("waiting_list")
        elif not booked and not ag.standing and not st.get("message_left") and onlu.offers_message(text):
            parts += await self._leave_message()
        elif self._takes_back(text):
            parts += await self._withdrawn(text, offers, goodbye)
            if self.conv.end_requested:
                return parts
        elif ag.unsure:
            parts += await self._settle_unsure(text, offers)
        elif (
            st.get("declined")
            and not booked
            and not timed
            and not (
                nlu.NOTHING.search(text) or onlu.NO_SLOT.search(text) or nlu.NO_AVAILABILITY.search(text)
            )
            and (other_day := self._other_day_named(text)) is not None
        ):
            # "Oh sorry, Tuesday then. Bye!" after Lisa turned down Wednesday at 11:20: another day, no yes to
            # the slot she turned down
            parts += await self._offer_on_day(other_day)
        elif (
            st.get("declined")
            and not timed
            and not booked
            and goodbye
            and (nlu.NOTHING.search(text) or onlu.NEGATIVE.search(text))
            and not _confirms(_SEE_YOU.sub(" ", text))
        ):
            pass  # "Then I have nothing else, sorry. Bye.": no yes was heard; the close says nothing is booked
        elif (
            st.get("declined")
            and not timed
            and (nlu.NOTHING.search(text) or onlu.NEGATIVE.search(text))
            and not self._asks_something_else(text)
        ):
            parts += await self._take_nearest([self.local(s) for s in _as_list(st.pop("declined"))])
        elif (
            st.get("declined")
            and not booked
            and goodbye
            and not self.strict
            and (insisted := self._declined_named(text, timed)) is not None
        ):
            # "Alright, two it is then, bye" after Lisa asked for better: the business put down the slot she
            # turned down; it is booked and said back (the summary says it is outside the wish)
            parts += await self._book(insisted, text, goodbye)
        elif (
            st.get("declined") and not timed and not booked and goodbye and _confirms(_SEE_YOU.sub(" ", text))
        ):
            # "Yes, booked. Bye." after Lisa asked for better: the business put down what it offered; the
            # nearest of it is taken (a strict wish takes none) and said back as the call closes
            parts += await self._take_nearest([self.local(s) for s in _as_list(st.pop("declined"))])
        elif (
            (nlu.NO_AVAILABILITY.search(text) or onlu.NO_SLOT.search(text))
            and not booked
            and not timed
            and (other := self._other_days(offers))
        ):
            # "Tuesday is full; the earliest I've got is Thursday at [not heard]": a refusal of the wished day
            # beside another day, so not "nothing is free" but the time on that day
            st["declined_once"] = True
            st["asked_time_day"] = st["offer_day"] = other[0].isoformat()
            self.asked = True
            parts.append(self.t("ask_time_no_time", day=self.spoken_day(other[0])))
        elif (nlu.NO_AVAILABILITY.search(text) or onlu.NO_SLOT.search(text)) and not booked and not timed:
            ag.withdraw()
            st["declined_once"] = True  # nothing at the preferred time: a later offer is taken as it comes
            await self.tools.report_no_availability(reason=text[:160])
            day = nlu.preferred_day_phrase(self.request.preferred_time if self.request else "", self.lang)
            parts.append(self.t("no_availability", day=day))
        elif (
            nlu.CALL_LATER.search(text)
            and not onlu.IF_CALL_BACK.search(text)
            and not booked
            and not _confirms(text)
            and not (st.get("message_left") and onlu.CALLBACK_PROMISE.search(text))  # "yes, we'll call back"
        ):
            later = self._call_back_when(text)
            ag.withdraw()
            await self.tools.request_callback(when=later)
            parts.append(self.t("call_later", when=later))
        elif (
            not booked
            and not ag.standing
            and not timed
            and (goodbye or onlu.sees_off(text))
            and not st.get("message_left")
            and (put_down := self._day_put_down(text)) is not None
        ):
            # "Lovely, Thursday for Omar. See you then!" after Lisa asked the time on Thursday: the business
            # takes it as booked, Lisa does not know when: she asks once before anyone hangs up
            st["asked_time_before_bye"] = True
            self.asked = True
            parts.append(self.t("time_before_bye", day=self.spoken_day(put_down)))
        elif (
            not booked
            and not ag.standing
            and not timed
            and goodbye
            and (_confirms(text) or onlu.PUT_DOWN.search(text))
            and not st.get("asked_time_before_bye")
            and not st.get("message_left")  # "Notiert. Tschüss." after a message: the message is noted
        ):
            # "Booked, bye!" with no time agreed (an offer Lisa missed): the business has the user down, Lisa
            # does not know when; she asks once before anyone hangs up
            st["asked_time_before_bye"] = True
            self.asked = True
            parts.append(self.t("slot_before_bye"))
        elif (
            not booked
            and not ag.standing
            and not timed
            and onlu.WHAT_TIME_SUITS.search(text)
            and (proposal := self._proposal(offers)) is not None
        ):
            parts += self._propose(proposal)  # "Monday is possible, what time would suit him?"
        elif not booked and not ag.standing and not timed and (wished := self._wish_taken(text)) is not None:
            # "Would Tuesday at 3 pm work?" — "Yes, that works, I've booked him in" / "Sure, three's fine"
            if _confirms(text) or goodbye:
                parts += await self._book(wished, text, goodbye)
            else:
                said = self.spoken(wished)
                parts += await self._offer([When(day=wished.date(), time=wished.time(), text=said)])
        elif (
            not booked
            and not ag.standing
            and not offers
            and _REFUSES.search(text)
            and not onlu.is_question(text)
            and self._asked_for_wish()
        ):
            parts += await self._wish_refused()
        elif ag.standing and offers:
            parts += await self._about_agreed(text, offers)
        elif ag.standing and _confirms(text):
            if not goodbye and _bare_confirmation(text):
                # "Done." leaves nothing to talk about: the name when not given yet, and Lisa closes the call
                goodbye = self.goodbye = True
                if not st.get("name_given") and self.request and self.request.user_name:
                    parts.append(self._name())
            parts += await self._book(self.local(ag.standing), text, goodbye)
        elif (
            offers and not booked and (_confirms(text) or st.get("asked_time_before_bye")) and len(timed) == 1
        ):
            start = self._slot_from(timed[0])  # the business booked a slot directly
            if st.get("asked_time_before_bye"):
                goodbye = self.goodbye = True  # it said goodbye already: the time, then Lisa's goodbye
            if start is not None:
                parts += await self._book(start, text, goodbye)
        elif offers and not booked:
            parts += await self._offer(offers)

        # nothing agreed or left yet: the request is what Lisa goes back to after a friendly word
        asking = not (parts or goodbye or booked or ag.standing or st.get("message_left") or st.get("misses"))
        if (about := await self._about_the_call(text, parts, goodbye)) is not None:
            st["misses"] = 0
            return about
        if not (parts or goodbye or booked) and onlu.LANGUAGE_QUESTION.search(text):
            return [self.t("language_only"), *self._go_on()]  # "Do you speak English?": her language, slowly
        if (
            not (parts or goodbye or booked or ag.standing)
            and self.conv.lisa_lines()
            and onlu.greets_again(text)
        ):
            return [self._restate()]  # "Terminvergabe, Schulz, guten Tag?" after a transfer: someone new
        if asking and not st.get("small_talk") and onlu.small_talk(text) and self._from_brief(text) is None:
            # "Busy day today, isn't it?", "What a Monday!": a friendly word, once, and the request again; it
            # counts as talk about something else (the way out after three, see below)
            st["small_talk"] = True
            st["misses"] = 1
            st["talk"] = st.get("talk", 0) + (len(text.split()) >= 4)
            return [self._ask_wish("small_talk", "small_talk_no_time")]
        if (
            asking
            and not st.get("noted")
            and onlu.own_day(text)
            and not (nlu.HOLD.search(text) or onlu.HOLD_MORE.search(text) or onlu.STILL_THERE.search(text))
        ):
            # "We close at 6 today", "I have to leave early on Friday", "wir haben Montag Teamsitzung": no offer
            # but news of the business's day; Lisa takes it in, once, and asks again (the way out counts it)
            st["noted"] = True
            st["misses"] = 1
            st["talk"] = st.get("talk", 0) + (len(text.split()) >= 4)
            return [self._ask_wish("noted", "noted_no_time")]
        answers = self._answer_questions(text, bool(parts))
        if self.asked:  # Lisa asks something herself: only the name goes with it, and what is asked beside
            answers = answers if self.about_name else self._answers_beside_slots(text)
        elif parts and not answers:
            parts += self._answers_beside_slots(text)  # "Friday at three works. Can I have a number for him?"
        if answers and not parts and not goodbye and self.side_question:
            answers += self._go_on()
        parts = answers + parts
        # an answer the message already holds ("… The callback number is …" — "what number?") is said once
        parts = [p for i, p in enumerate(parts) if not _said_elsewhere(p, i, parts)]
        if goodbye and not self.asked:
            return await self._close(parts)
        if parts:
            st["misses"] = 0
            return parts
        if not booked and offer_taken_back(text, self.now, self.lang):
            return [self.t("which_slot_again")]
        if onlu.STILL_THERE.search(text):
            return [self.t("still_here")]
        if (nlu.HOLD.search(text) or onlu.HOLD_MORE.search(text)) and len(text.split()) <= 10:
            return [self.t("hold")]
        if onlu.TRANSFER.search(text) and not onlu.is_question(text):  # "… an die Kollegin weitergeben"
            return [self.t("hold")]
        if nlu.ANYTHING_ELSE.search(text) or (booked and nlu.THANKS.search(text)):
            return [self.t("nothing_else")]
        if onlu.conditions(text) and not booked:  # "She needs to be fasting, okay?": noted (see turn)
            return self._go_on()
        if onlu.is_question(text) and not nlu.HOW_CAN_I_HELP.search(text) and len(text.split()) > 2:
            st["misses"] = 0
            return [self.t("dont_know"), *self._go_on()]  # a question Lisa has no answer to from the brief
        if nlu.ACK_ONLY.search(text) and (booked or ag.standing):
            return [self.t("thanks")]
        if booked:
            return [self.t("restate_booked")]
        if nlu.YES.search(text) and st.get("asked_time_day"):
            return [self.t("which_slot")]
        if st.get("message_left"):
            return [self.t("thanks")]
        if ag.standing:  # "Nein, vorher geht wirklich nichts." after Lisa took the slot: she keeps to it
            return [self.t("still_accept", when=self.spoken(self.local(ag.standing)))]
        if st.get("way_out") and nlu.YES.search(text):
            await self.tools.request_callback(when=self.t("later"))
            return [self.t("call_later", when=self.t("later"))]
        st["misses"] = st.get("misses", 0) + 1
        st["talk"] = st.get("talk", 0) + (len(text.split()) >= 4)
        if st["misses"] == 3 and st["talk"] >= 2:
            # the business talks about something else (class 9): not the line, so no hanging up yet —
            # what Lisa wants in other words, and a way out (calling back another time)
            st["way_out"] = True
            if not (self.wish or self.asap):
                return [self.t("way_out_no_time", purpose=self._purpose())]
            preferred = self.wish or self.t("as_soon_as_possible")
            return [self.t("way_out", purpose=self._purpose(), preferred=preferred)]
        if st.get("way_out") and len(text.split()) >= 4:
            # the business still talks of other things after the way out: one plain question, then Lisa
            # takes the way out herself (a call back later); the line is fine, so no "bad line"
            if not st.get("way_out_again"):
                st["way_out_again"] = True
                return [self._ask_wish("way_out_again", "way_out_again_no_time")]
            await self.tools.request_callback(when=self.t("later"))
            await self.tools.end_conversation(reason=self.t("reason_no_time"))
            return [self.t("way_out_bye")]
        if st["misses"] >= 3:
            await self.tools.end_conversation(reason=self.t("reason_not_understood"))
            return [self.t("give_up")]
        if st["misses"] == 1 and st.get("declined_once") and st.get("asked_time_day"):
            # the wished day was refused and another one named: its time again, not the refused wish
            return [self._ask_time(date.fromisoformat(st["asked_time_day"]))]
        if nlu.HOW_CAN_I_HELP.search(text) or st["misses"] == 1:
            return [self._restate()]
        return [self.t("which_slot")]

    async def _about_the_call(self, text: str, parts: list[str], goodbye: bool) -> list[str] | None:
        """Lisa's answer when the business asks about the call itself rather than the patient: who is calling,
        whether anyone is there, to say it again, to read the slot back, or leave to book the slot agreed;
        None for anything else (or when Lisa already said something about slots)."""
        if parts or goodbye:
            return None
        standing = self.ag.standing
        booked = self.conv.outcome.appointment if self.conv.outcome.status is Status.BOOKED else None
        slot = self.local(standing) if standing else booked
        if onlu.asks_to_book(text) and not self._offers(text):  # "Shall I put her down for that?"
            if slot is not None:
                return [self.t("yes_book", when=self.spoken(slot))]
            if self.st.get("declined"):  # nothing better: the slot Lisa asked to better is taken after all
                return await self._take_nearest([self.local(s) for s in _as_list(self.st.pop("declined"))])
        if onlu.SLOT_BACK_REQUEST.search(text) or onlu.WHICH_ONE.search(text):
            return [self.t("read_back", when=self.spoken(slot))] if slot else [self.t("which_slot")]
        if onlu.WHO_CALLING.search(text):
            return [self.t("who_i_am"), *self._go_on()]
        if onlu.ANYONE_THERE.search(text):
            return [self.t("still_here"), *self._go_on()]
        if onlu.REPEAT_REQUEST.search(text) and not self._asks_something_else(text):  # not "the name again?"
            last = re.sub(r"^(Of course|Gern)[:—–-]\s*", "", self._last_said())
            return [self.t("repeat", said=last)] if last else None
        return None

    def _call_back_when(self, text: str) -> str:
        """When the business wants to be called again, from the sentence that asks for it ("Our system is
        down today. Can you call back tomorrow?" -> "tomorrow"); "later" when it names no time."""
        asked = []
        for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
            if m := nlu.CALL_LATER.search(
                sentence
            ):  # "… today, could you ring back on Friday?": from "ring back"
                asked += [sentence[m.start() :], sentence]
        for said in [*asked, text]:
            when = nlu.safe_parse_when(said, self.now, self.lang)
            if when is not None and when.text:
                return when.text
        return self.t("later")

    async def _leave_message(self, key: str = "leave_message") -> list[str]:
        """The business passes a message on instead of booking (class 8) or offers its waiting list: Lisa
        leaves who, what, when and the callback number; nothing is booked and the request waits for the
        callback."""
        purpose = self._purpose()
        preferred = self.wish or self.t("as_soon_as_possible")
        phone = self.request.callback_number if self.request else ""
        said = self.t(key, purpose=purpose, preferred=preferred, phone=phone)
        await self.tools.leave_message(message=said)
        self.st["message_left"] = True
        return [said]

    async def _condition_refused(
        self, text: str, at: int, keys: tuple[str, str] = ("condition_refused", "reason_condition")
    ) -> list[str]:
        """The business will not book without something Lisa cannot give ("Without a referral I can't book her
        in", "sonst kann ich den Tisch nicht halten"): nothing is booked (a yes or booking before is undone),
        the summary quotes the condition, and Lisa says so and that the user will get in touch."""
        self.ag.withdraw()
        self.tools.release_outbound_booking()
        said = _refusal_said(text, at)
        asked = self.st.get("payment_asked")
        if isinstance(asked, str) and asked not in said:  # "We need a credit card …" said the turn before
            said = f"{asked}; {said}"
        words, why = keys
        reason = self.t(why, said=said[:110])
        await self.tools.report_no_availability(reason=reason)
        await self.tools.end_conversation(reason=reason)
        return [self.t(words)]

    async def _walk_in(self, offers: list[When]) -> list[str]:
        """The business gives no appointments, one just comes by ("it's walk-in only", "Termine machen wir
        nicht, einfach vorbeikommen"): nothing to book, so the request ends (failed) with a summary that tells
        the user so and when to come ("Thursday, any time between 2 and 4"), and Lisa says goodbye."""
        self.ag.withdraw()
        for w in offers:
            self.tools.note_from_business(w.text)
        await self.tools.report_no_availability(reason=self.t("walk_in_reason"))
        await self.tools.end_conversation(reason=self.t("walk_in_reason"))
        return [self.t("walk_in")]

    def _pending_slot(self, text: str, offers: list[When]) -> datetime | None:
        """The slot the business holds only until it has made sure of it itself ("Friday at four I can pencil
        him in, but I have to confirm with my colleague first", "Freitag um vier könnte ich eintragen, ich
        melde mich"): the one it names, or, when it says so plainly (:data:`agent.outbound_nlu.PENDING`),
        the one Lisa said yes to; None otherwise."""
        if self.st.get("tentative") or not onlu.pending(text):
            return None
        for w in offers:
            start = self._slot_from(w) if w.time is not None else None
            if start is not None:
                return start
        if self.ag.standing and onlu.PENDING.search(text):
            return self.local(self.ag.standing)
        return None

    async def _tentative(self, start: datetime) -> list[str]:
        """A slot held until the business has made sure of it: nothing is accepted or booked (a booking
        before is undone), the request waits for the business's call, and Lisa says so, with no yes in it."""
        self.ag.offer([start])
        self.ag.withdraw()
        await self.tools.note_tentative_slot(start=start)
        self.st["tentative"] = iso_minute(start)
        self.st["message_left"] = True  # as with a message left: the business calls back
        phone = self.request.callback_number if self.request else ""
        return [self.t("tentative", when=self.spoken(start), phone=phone)]

    def _asks_something_else(self, text: str) -> bool:
        """Whether the business, instead of answering Lisa's question, asks one of its own ("Okay, sorry —
        is she insured privately?"): a new request, no "no" to what she asked (class 7)."""
        if not onlu.is_question(text):
            return False
        side, about, given = self.side_question, self.about_name, self.st.get("name_given")
        try:
            return bool(self._answer_questions(text, False))
        finally:
            self.side_question, self.about_name = side, about
            if given is None:
                self.st.pop("name_given", None)
            else:
                self.st["name_given"] = given

    def _continued(self, text: str) -> str:
        """The business went on talking over Lisa's answer to its offer ("I have Tuesday at 9." — "Tuesday,
        Nov…" — "or Thursday at 2:30"): her cut-off yes was not heard, so the offers are read together."""
        lisa = [m for m in self.conv.history if m.role == "assistant"]
        said = [m for m in self.conv.history if m.role == "user"]
        if not lisa or not lisa[-1].meta.get("interrupted") or len(said) < 2:
            return text
        if self.conv.outcome.status is Status.BOOKED or not self.ag.standing:
            return text
        heard = lisa[-1].text
        if names_slot(heard, self.local(self.ag.standing), self.now, self.lang):
            return text  # the business heard which slot she took
        earlier = said[-2].text
        if not self._offers(earlier) or self.ag.confirmed:
            return text
        self.ag.withdraw()
        return f"{earlier.rstrip()} {text}"

    # ------------------------------------------------------------------ offers and the agreement
    def _offers(self, text: str) -> list[When]:
        """Every slot the business names in ``text`` (see :func:`agent.when.parse_offers`); never raises."""
        try:
            if self.lang == "en":
                text = onlu.unmishear(text)
            text = self._without_pick_up(onlu.terse_hour(text, self.lang))
            offers = [
                self._in_the_wished_week(self._on_day_talked_about(w))
                for w in parse_offers(text, self.now, self.lang)
            ]
            if self.st.get("mornings_only") and not _AFTERNOON.search(text):
                offers = [_in_the_morning(w) for w in offers]
            elif not _AM.search(text):
                offers = [self._in_the_wished_half(w) for w in offers]
            if onlu.VISIT.search(text):
                offers = self._visit_windows(text, offers)
            expecting = self.ag.standing or self.ag.unsure or onlu.CORRECTION_CUE.search(text)
            if not offers and expecting:  # "oh, my mistake, eleven instead"; "No, 330."
                bare = parse_bare_time(onlu.without_cues(text), self.now, self.lang)
                offers = [bare] if bare is not None else []
            elif (
                not offers
                and self._asked_slot() is not None
                and not (onlu.NEGATIVE.search(text) or onlu.HOUR_REFUSED.search(text) or onlu.withdraws(text))
            ):
                # "ok, 10 it is" to the slot Lisa asked for: an hour of the business's own, on that day
                bare = self._hour_said(text)
                offers = [bare] if bare is not None and bare.time is not None else []
            return offers or self._hour_beside_refused(text)
        except Exception:  # a parser hiccup must not break the call
            log.exception("parse_offers failed")
            return []

    def _visit_windows(self, text: str, offers: list[When]) -> list[When]:
        """Offers when the business comes to the user ("I can come Friday between nine and eleven"): a window
        on one day of at most four hours is the visit, booked at its start, the window a note for the user."""
        if not offers:
            when = nlu.safe_parse_when(text, self.now, self.lang)  # "Freitag zwischen 10 und 12 komme ich"
            offers = [when] if when is not None and when.day is not None else []
        visits = []
        for w in offers:
            if w.time is None and w.day is not None and w.earliest is not None and w.latest is not None:
                start, end = (datetime.combine(w.day, t) for t in (w.earliest, w.latest))
                if timedelta(0) < end - start <= timedelta(hours=4):
                    self.tools.note_from_business(w.text)
                    w = replace(w, time=w.earliest, earliest=None, latest=None)
            visits.append(w)
        return visits

    def _without_pick_up(self, text: str) -> str:
        """``text`` without what it says of picking up ("Montag um acht bringen, ab 17 Uhr abholen"): the
        drop-off is the appointment, the pick-up a note for the user; ``text`` itself when nothing else in it
        names a time."""
        pick_up = onlu.PICK_UP.search(text)
        if pick_up is None:
            return text
        rest = text[: pick_up.start()] + text[pick_up.end() :]
        if not any(w.time is not None for w in parse_offers(rest, self.now, self.lang)):
            return text
        self.tools.note_from_business(pick_up.group(0))
        return rest

    def _hour_alone(self, part: str) -> When | None:
        """The hour ``part`` says with nothing but the words around a bare hour ("only 4 is left" -> 4)."""
        return parse_bare_time(onlu.bare_hour(part), self.now, self.lang)

    def _hour_said(self, text: str) -> When | None:
        """A clock time ``text`` says without a day ("ok, 10 it is", "sagen wir elf", "half past ten then"), or
        None."""
        for found in (
            nlu.safe_parse_when(text, self.now, self.lang),
            nlu.time_alone(text, self.now, self.lang),
            self._hour_alone(text),
        ):
            if found is not None and found.time is not None and found.day is None:
                return found
        return None

    def _last_said(self) -> str:
        """What Lisa said last ("" before she spoke)."""
        lisa = [m.text for m in self.conv.history if m.role == "assistant"]
        return lisa[-1] if lisa else ""

    def _hour_beside_refused(self, text: str) -> list[When]:
        """An hour said alone beside one refused ("3 is taken, but 3:30 is free", "Sorry, 3 is gone. 4 works
        though", "Um drei ist belegt, vier ginge"): that hour, on the day being talked about."""
        parts = [re.sub(r"(?<=\w)'s\b", "", p) for p in _pieces(text)]
        refused = [p for p in parts if onlu.HOUR_REFUSED.search(p)]
        if not refused or not any(self._hour_alone(p) for p in refused):
            return []
        for part in parts:
            asked = "?" in part and len(part.split()) <= 3  # "Sorry, 8 is taken. 9?"
            if part in refused or not (onlu.HOUR_OFFERED.search(part) or asked):
                continue
            bare = self._hour_alone(part)
            if bare is not None:
                return [bare]
        return []

    def _asked_for_wish(self) -> bool:
        """Whether Lisa's last words asked for the wished time ("… — would Tuesday at 3 pm work?")."""
        return bool(self.wish and self.wish.lower() in self._last_said().lower())

    async def _wish_refused(self) -> list[str]:
        """A plain no to the wish ("Sorry, that doesn't work", "Nein, da geht's nicht"): what the business
        can offer instead (the next offer is taken as it comes); a strict wish is asked for once more, then
        Lisa says the user can only make it."""
        st = self.st
        st["declined_once"] = True
        if self.strict and st.get("strict_asked"):
            return await self._take_nearest([])
        self.asked = True
        if self.strict:
            st["strict_asked"] = True
            return [self.t("wish_refused_strict", preferred=self._plain_wish())]
        return [self.t("wish_refused")]

    async def _online_only(self, text: str) -> list[str]:
        """The business books online only ("through our website", "nur online"): Lisa asks once where, keeps
        what it says for the user (summary) and ends; nothing is booked."""
        self.tools.note_from_business(text)
        if not self.st.get("online_only") and not onlu.WEB_ADDRESS.search(text):
            self.st["online_only"] = True
            self.asked = True
            return [self.t("online_where")]
        await self.tools.end_conversation(reason=self.t("reason_online_only"))
        return [self.t("online_bye")]

    def _declined_named(self, text: str, timed: list[When]) -> datetime | None:
        """A slot Lisa turned down that ``text`` names again, by its time or its hour alone ("two it is")."""
        declined = [self.local(s) for s in _as_list(self.st.get("declined"))]
        for w in timed:
            slot = self._slot_from(w)
            if slot in declined:
                return slot
        for part in _pieces(text):
            bare = self._hour_alone(_SO_BE_IT.sub(" ", part))
            if bare is None or bare.time is None:
                continue
            hits = [d for d in declined if _same_clock(bare.time, d.time())]
            if len(hits) == 1:
                return hits[0]
        for part in _pieces(text):  # "Gut, dann eben Mittwoch, tschüss": its day, when one slot is on it
            when = nlu.safe_parse_when(part, self.now, self.lang)
            day = self._in_the_wished_week(self._on_day_talked_about(when)).day if when else None
            hits = [d for d in declined if d.date() == day]
            if len(hits) == 1 and when is not None and when.time is None:
                return hits[0]
        return None

    def _other_day_named(self, text: str) -> date | None:
        """A day ``text`` names, piece by piece, that no slot Lisa turned down is on ("Oh sorry, Tuesday then.
        Bye!" after Wednesday at 11:20); None when it names none."""
        declined_days = {self.local(s).date() for s in _as_list(self.st.get("declined"))}
        days = []
        for piece in _pieces(text):
            when = nlu.safe_parse_when(piece, self.now, self.lang)
            if when is None or when.day is None or onlu.NEGATIVE.search(piece) or _NEVER.search(piece):
                continue  # "samstags nie", "not Monday"
            days.append(self._in_the_wished_week(self._on_day_talked_about(when)).day)
        if any(day in declined_days for day in days):
            return None  # "Also Dienstag?": the day turned down, asked again
        return next((day for day in days if day is not None), None)

    async def _offer_on_day(self, day: date) -> list[str]:
        """A day offered alone instead of the slots Lisa turned down: at their time when they share one (a
        corrected day keeps the time), else Lisa asks the time on that day."""
        times = {self.local(s).time() for s in _as_list(self.st.get("declined"))}
        self.st["offer_day"] = day.isoformat()
        if len(times) == 1:
            return await self._offer_slots([datetime.combine(day, times.pop(), tzinfo=self.ctx.business.tz)])
        self.st["asked_time_day"] = day.isoformat()
        self.asked = True
        return [self._ask_time(day)]

    def _asked_slot(self) -> datetime | None:
        """The one slot Lisa's last words asked for: one she proposed (:meth:`_propose`), or the wish when it is
        a day and a time ("… — would Tuesday at 3 pm work?")."""
        proposed = self.st.get("proposed")
        if proposed and self.spoken(self.local(proposed)).lower() in self._last_said().lower():
            return self.local(proposed)
        wish = self.tools.preferred_window()
        if wish is None or wish.day is None or wish.time is None or not self._asked_for_wish():
            return None
        return datetime.combine(wish.day, wish.time, tzinfo=self.ctx.business.tz)

    def _proposal(self, offers: list[When]) -> datetime | None:
        """What Lisa proposes when the business asks what time would suit: the wished time (or the start of the
        wished window) on the day offered, else on the wished day; None when there is no such time."""
        wish = self.tools.preferred_window()
        at = wish and (wish.time or wish.earliest)
        day = next((w.day for w in offers if w.day is not None), None) or (wish.day if wish else None)
        window = next((w for w in offers if w.earliest is not None and w.latest is not None), None)
        if window is not None and window.earliest is not None and window.latest is not None:
            # "Thursday between 2 and 4, what time suits him?": a time in that window, the wished one if it is
            at = at if at and window.earliest <= at <= window.latest else window.earliest
        if not at or day is None:
            return None
        slot = datetime.combine(day, at, tzinfo=self.ctx.business.tz)
        return slot if slot > self.now else None

    def _propose(self, slot: datetime) -> list[str]:
        """ "What time would suit him?" — "Monday, November 30 at 10 am would be ideal — would that work?"."""
        self.st["proposed"] = iso_minute(slot)
        self.st["offer_day"] = slot.date().isoformat()
        self.asked = True
        return [self.t("propose", when=capital(self.spoken(slot)))]

    def _wish_taken(self, text: str) -> datetime | None:
        """The slot Lisa just asked for (:meth:`_asked_slot`) when the business says yes to it ("Yes, that
        works, I've booked him in", "Sure, three's fine", "Ja, drei passt"); else None."""
        slot = self._asked_slot()
        if slot is None or onlu.is_question(text):
            return None
        if (
            onlu.NEGATIVE.search(_NO_WORRIES.sub(" ", text))
            or onlu.withdraws(text)
            or onlu.NO_SLOT.search(text)
        ):
            return None
        other = self._hour_said(text)
        if other is not None and other.time is not None and not _same_clock(other.time, slot.time()):
            return None  # "ok, 10 it is" to Lisa's 8 am: the business's hour, not a yes to hers
        if any(nlu.YES.search(c) for c in onlu.clauses(text)) or _confirms(text):  # "Let me see... yes"
            return slot
        for part in _pieces(text):
            if not _FINE.search(part):
                continue
            bare = self._hour_alone(_FINE.sub(" ", part))
            if bare is not None and bare.time is not None and _same_clock(bare.time, slot.time()):
                return slot
        return None

    def _in_the_wished_half(self, when: When) -> When:
        """An hour said without am/pm (read as the morning, 8-11) when the wish lies wholly after noon ("Friday
        evening", "after 6") is that hour after noon, if it falls in the wish: "Friday at 8" for a table in
        the evening is 8 pm."""
        wish = self.tools.preferred_window()
        if when.time is None or wish is None or when.time.hour >= 12:
            return when
        later = when.time.replace(hour=when.time.hour + 12)
        if wish.earliest is None and wish.time is not None and wish.time.hour >= 12:
            # a wished hour after noon ("Friday at 8pm"): "eight" near it is the evening
            gap = abs(later.hour * 60 + later.minute - wish.time.hour * 60 - wish.time.minute)
            return replace(when, time=later) if gap <= 180 else when
        if wish.earliest is None or wish.earliest.hour < 12:
            return when
        if later < wish.earliest or (wish.latest is not None and later > wish.latest):
            return when
        return replace(when, time=later)

    def _in_the_wished_week(self, when: When) -> When:
        """A weekday named plainly ("Wednesday at nine", "Mittwoch um neun") while the wish lies in a later week
        is that weekday of the wished week when it is the wished weekday ("next Wednesday morning?" — "Wednesday
        at nine") or the wish names its week ("next week, Monday 10-12" — "Tuesday at ten thirty?"): the
        business looks at the week it was asked for. "this Wednesday", "tomorrow" or a date keep their day;
        Lisa says the date back either way."""
        if when.day is None or not _PLAIN_WEEKDAY.search((when.text or "").strip().lower()):
            return when
        if _NOT_PLAIN.search(when.text):
            return when
        wish = self.tools.preferred_window()
        wished = wish and (wish.day or wish.first_day)
        if not wished:
            return when
        weeks = (
            (wished - timedelta(days=wished.weekday())) - (when.day - timedelta(days=when.day.weekday()))
        ).days
        same_weekday = any(d.weekday() == when.day.weekday() for d in wish.days()) if wish else False
        if weeks <= 0 or not (
            same_weekday or _WEEK_NAMED.search(self.request.preferred_time if self.request else "")
        ):
            return when  # "Monday morning" asked on a Monday: "Tuesday at three" is tomorrow
        return replace(when, day=when.day + timedelta(days=weeks))

    def _on_day_talked_about(self, when: When) -> When:
        """A weekday said alone ("Dann bis Mittwoch", "see you Wednesday") is the day of the slot being talked
        about when that falls on this weekday (Wednesday 2 December, not tomorrow's Wednesday 25 November)."""
        if when.day is None or not _BARE_WEEKDAY.fullmatch((when.text or "").strip(" ,.!?").lower()):
            return when
        talked = self.ag.standing or (self.ag.unsure or {}).get("agreed")
        day = self.local(talked).date() if talked else None
        if day is None and self.st.get("offer_day"):
            day = date.fromisoformat(self.st["offer_day"])
        if day is None or day == when.day or day.weekday() != when.day.weekday() or day < self.now.date():
            return when
        return replace(when, day=day)

    def _slot_from(self, when: When, base: datetime | None = None) -> datetime | None:
        """A concrete start from an offer; a missing day is that of ``base`` (the slot being talked about),
        of earlier offers or of the preferred time."""
        if when is None or when.time is None:
            return None
        day = when.day
        if day is None and base is not None:
            day = base.date()
        if day is None and self.st.get("offer_day"):
            day = datetime.fromisoformat(self.st["offer_day"]).date()
        if day is None:
            preferred = self.tools.preferred_window()
            if preferred is not None:
                day = preferred.day or preferred.first_day
        if day is None:
            return None
        return datetime.combine(day, when.time, tzinfo=self.ctx.business.tz)

    def _named(self, offers: list[When], base: datetime) -> datetime | None:
        """The slot a confirmation names, completed from ``base`` ("see you Thursday" keeps the time)."""
        for w in offers:
            if w.time is not None:
                return self._slot_from(w, base)
        for w in offers:
            if w.day is not None:
                return datetime.combine(w.day, base.timetz())
        return None

    async def _about_agreed(self, text: str, offers: list[When]) -> list[str]:
        """The business names a slot while one is agreed: the same slot confirms it, another one is a new
        offer when it sounds like one ("actually Wednesday instead", "how about …") and otherwise a
        confirmation that was probably misheard ("two fifty" for "quarter past two"): asked, never booked."""
        agreed = self.local(self.ag.standing or "")
        named = self._named(offers, agreed)
        timed = [w for w in offers if w.time is not None]
        goodbye = self.goodbye or _is_goodbye(text)
        if named is None or named == agreed:
            if self.conv.outcome.status is Status.BOOKED and self.conv.outcome.appointment == named:
                return [self.t("thanks")] if not goodbye else []
            return await self._book(agreed, text, goodbye)
        booked = self.conv.outcome.status is Status.BOOKED
        if not booked and self._picks_own_offer(text, named, timed):
            return await self._book(named, text, goodbye)  # both sides named it: that is the agreement
        if not booked and len(timed) <= 1 and onlu.reads_back(text):
            return self._read_back_wrong(agreed, named)
        offer_like = len(timed) > 1 or (self._sounds_like_offer(text) and not _confirms(text) and not goodbye)
        if booked and offer_like and not onlu.CORRECTION_CUE.search(text):
            return [self.t("keep_booked", when=self.spoken(agreed))]  # confirmed already: Lisa keeps it
        if onlu.CORRECTION_CUE.search(text) or offer_like:
            if onlu.CORRECTION_CUE.search(text) and not booked:
                self.ag.withdraw()  # "sorry, actually Wednesday instead": the earlier slot is off the table
            if len(timed) == 1 and timed[0].day is None and offers[0].day is None:
                offers = [replace(timed[0], day=agreed.date())]  # "actually eleven instead": the same day
            elif not timed and named is not None:
                return await self._offer_slots([named])
            return await self._offer(offers)
        self.ag.doubt(agreed, named)
        self.asked = True
        return [self.t("which_of_two", a=self._difference(agreed, named), b=self._difference(named, agreed))]

    def _read_back_wrong(self, agreed: datetime, heard: datetime) -> list[str]:
        """The business reads back another slot than the one agreed ("So that's Tuesday at 11:40, correct?"):
        Lisa says no and names the agreed one; the answer settles it (:meth:`_settle_unsure`)."""
        self.ag.doubt(agreed, heard)
        self.st["read_back_wrong"] = iso_minute(heard)
        self.asked = True
        return [self.t("read_back_wrong", agreed=self.spoken(agreed), heard=self._difference(heard, agreed))]

    def _picks_own_offer(self, text: str, named: datetime, timed: list[When]) -> bool:
        """Whether the business, before confirming Lisa's choice, settles on another of the slots it offered
        itself ("Okay, Tuesday at three then."): a statement naming one slot of its latest offer."""
        ag = self.ag
        own = iso_minute(named)
        if ag.confirmed or len(ag.offered) < 2 or own not in ag.offered or own in ag.withdrawn:
            return False
        return len(timed) <= 1 and not onlu.is_question(text) and not onlu.withdraws(text)

    def _sounds_like_offer(self, text: str) -> bool:
        """Whether a sentence that names a slot offers it ("How about 2:30?") rather than confirms it."""
        for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
            if onlu.OFFER_CUE.search(sentence) and self._offers(sentence):
                return True
        return False

    def _difference(self, slot: datetime, other: datetime) -> str:
        """How ``slot`` is told apart from ``other``: the time, the day, or both."""
        if slot.date() == other.date():
            return say_time(slot.time(), self.lang)
        if slot.time() == other.time():
            return say_day(slot.date(), self.lang, self.now)
        return self.spoken(slot)

    async def _settle_unsure(self, text: str, offers: list[When]) -> list[str]:
        """The answer to "Sorry — quarter past two or two fifty?": book what the business now confirms."""
        unsure = self.ag.unsure or {}
        agreed, heard = self.local(unsure["agreed"]), self.local(unsure["heard"])
        corrected = self.st.get("read_back_wrong") == unsure["heard"]  # Lisa said no to this read-back
        if corrected:
            pick = self._read_back_answer(text, agreed, heard)
            if pick == heard:  # the business keeps to what it read back: a new offer
                self._drop_unsure()
                return await self._offer_slots([heard])
        else:
            pick = _pick_between(text, agreed, heard, self._named(offers, agreed) if offers else None)
        if pick is not None:
            return await self._book(pick, text, _is_goodbye(text))
        named = self._named(offers, agreed) if offers else None
        if named is None and onlu.is_question(text) and not nlu.YES.search(text) and not nlu.NO.search(text):
            return []  # a side question: answered, then asked again (see _go_on)
        if named is not None:  # a third slot: a new offer after all
            self._drop_unsure()
            if self.ag.standing:
                return await self._about_agreed(text, offers)
            return await self._offer(offers)
        if self.ag.asked_unsure >= 2 and nlu.YES.search(text):  # "Just to be sure: …?" - "Yes."
            return await self._book(agreed, text, _is_goodbye(text))
        if self.ag.asked_unsure >= 2 and nlu.NO.search(text) and not _is_goodbye(text):
            self._drop_unsure()
            self.asked = True
            return [self.t("which_slot")]
        if _is_goodbye(text):
            return []  # leaving without settling it: nothing is booked (see _close)
        if self.ag.asked_unsure < 2:
            self.ag.doubt(agreed, heard)
            self.asked = True
            return [self.t("just_to_be_sure", when=self.spoken(agreed))]
        return []

    def _read_back_answer(self, text: str, agreed: datetime, heard: datetime) -> datetime | None:
        """Which slot the business means after Lisa said no to its read-back of ``heard``: the one a piece of
        its answer names ("Oh sorry, my mistake, Tuesday. Bye!", "Ah, 11:20, sorry"), the agreed one on a
        plain yes ("Oh, right, yes."); None when unclear."""
        for piece in _pieces(text):
            named = self._named(self._offers(piece), agreed)
            if named in (agreed, heard):
                return named
        if any(nlu.YES.search(piece) for piece in _pieces(text)) and not nlu.NO.search(text):
            return agreed  # "Oh, right, yes."
        return None

    async def _withdrawn(self, text: str, offers: list[When], goodbye: bool) -> list[str]:
        """The business takes back a slot ("my colleague just took that one", "Friday at ten has gone"): the
        slots it names that were on the table are gone, else the one being talked about (Lisa's yes, or the
        offers she asked to better). A slot not offered before is a new offer; what Lisa accepted and was not
        taken back stands. With a goodbye and nothing left the request fails and Lisa accepts nothing;
        otherwise she asks for another time."""
        ag, st = self.ag, self.st
        nothing_before = not (ag.accepted or ag.unsure or st.get("declined") or ag.offered)
        if nothing_before and offers and not goodbye and not self._shut(text):
            # "Monday at 10:45, oh no wait, that's just gone, 11:15 then": taken back in the same breath, and
            # the offers already read with the correction (agent.when.parse_offers)
            return await self._offer(offers)
        on_table = set(ag.offered) | set(_as_list(st.get("declined")))
        on_table |= {s for s in (ag.accepted, (ag.unsure or {}).get("agreed")) if s}
        shut = self._shut(text)  # "Friday at three. Oh wait, we're closed that day."
        gone, fresh = [], []
        talked = ag.accepted or (ag.unsure or {}).get("agreed")
        parts = _pieces(text)
        for clause in parts:  # "14 Uhr ist schon weg, 16 Uhr wäre noch frei": each part for itself
            taken_back = onlu.withdraws(clause)
            offers = self._offers(clause)
            if not offers and (talked or taken_back or onlu.HOUR_OFFERED.search(clause)):
                # "2 just went. Only 4 is left.", "drei ist vergeben, vier ginge": hours alone, on the day
                # talked about (or that of the offers or the wish, see _slot_from)
                bare = self._hour_alone(clause)
                day = self.local(talked).date() if talked else None
                offers = [replace(bare, day=day)] if bare is not None else []
            for w in offers:
                s = self._slot_from(w) if w.time is not None else None
                left = onlu.STILL_FREE.search(clause) and not taken_back  # "Only 4 is left": it stands
                if s is not None and (
                    taken_back or iso_minute(s) in shut or (iso_minute(s) in on_table and not left)
                ):
                    gone.append(iso_minute(s))  # a slot named as gone is never an offer
                elif s is not None:
                    fresh.append(w)
        gone += [s for s in shut if s not in gone]
        if not gone:
            gone = [s for s in (ag.accepted, (ag.unsure or {}).get("agreed")) if s]
            gone = gone or _as_list(st.get("declined"))
        ag.take_back(gone)
        if st.get("declined"):
            st["declined"] = [s for s in _as_list(st["declined"]) if s not in gone] or None
            if not st["declined"]:
                st.pop("declined")
        if not ag.standing:
            self.tools.release_outbound_booking()  # a booking recorded before is undone
        preferred = self.tools.preferred_window()
        closed_on_wish = any(self.local(s).date() in (preferred.days() if preferred else []) for s in shut)
        if closed_on_wish:
            st["declined_once"] = True  # the wished day is closed: the next offer is taken as it comes
        if fresh and not goodbye:
            return await self._offer(fresh)
        if ag.standing:
            return [] if goodbye else [self.t("still_accept", when=self.spoken(self.local(ag.standing)))]
        if onlu.CALLBACK_PROMISE.search(text) and not st.get("message_left"):
            # "… schon vergeben. Ich rufe Sie an, sobald etwas frei wird": the business calls back itself
            await self.tools.leave_message(message=self.t("withdrawn_callback_note"))
            st["message_left"] = True
            return [] if goodbye else [self.t("wait_for_call")]
        if goodbye:
            await self.tools.end_conversation(reason=self.t("reason_withdrawn"))
            return [self.t("withdrawn_bye")]
        self.asked = True
        st["declined_once"] = True  # asked once: the next offer is taken as it comes
        if closed_on_wish:
            return [self.t("withdrawn_ask_no_time")]  # not the closed day again
        return [self._ask_wish("withdrawn_ask", "withdrawn_ask_no_time")]

    def _takes_back(self, text: str) -> bool:
        """Whether the business takes back a slot: the one Lisa said yes to, one it names as gone ("Friday
        at nine is no longer free", never an offer), one it says it is closed at (see :meth:`_shut`), or,
        while Lisa asked for better, those it offered."""
        if (self.ag.standing or self.ag.unsure) and onlu.withdraws(text):
            return True
        if self._shut(text):
            return True
        for clause in onlu.clauses(text):
            if onlu.withdraws(clause) and any(w.time is not None for w in self._offers(clause)):
                return True
        return bool(self.st.get("declined")) and onlu.withdraws(text, strict=True)

    def _shut(self, text: str) -> list[str]:
        """Slots the business names and then says it is closed or away at, in the same breath ("Friday at
        three. Oh, hold on — we're closed that day for inventory.", "Freitag um drei … nein, da ist
        Betriebsausflug."), or, when it names none before, the slot being talked about ("Oh wait, we're
        closed on Fridays."): ISO minutes. A closure of another day or hour takes nothing back ("Friday at
        three; we're closed on Saturdays", "… I'm off at five")."""
        if text not in self._shut_by_text:
            self._shut_by_text[text] = self._find_shut(text)
        return self._shut_by_text[text]

    def _find_shut(self, text: str) -> list[str]:
        """:meth:`_shut`, worked out."""
        cut = onlu.closure(text)
        if cut is None:
            return []
        head, said = cut
        slots = [
            s for w in self._offers(head) if w.time is not None and (s := self._slot_from(w)) is not None
        ]
        talked = self.ag.standing or (self.ag.unsure or {}).get("agreed")
        if not slots and talked:
            slots = [self.local(talked)]
        if not slots:
            return []
        when = nlu.safe_parse_when(said, self.now, self.lang)
        if when is None or when.is_empty:
            if onlu.OTHER_CLOSING.search(said):
                return []
            last = slots[-1].date()  # "that day", "da": the day named last
            return [iso_minute(s) for s in slots if s.date() == last]
        return [iso_minute(s) for s in slots if _closed_at(when, s, nlu.bare_weekday(said))]

    def _drop_unsure(self) -> None:
        """Forget an unsettled confirmation: a slot booked before stays agreed, otherwise nothing does."""
        booked = self.conv.outcome.appointment
        if self.conv.outcome.status is Status.BOOKED and booked is not None:
            self.ag.confirm(booked)
        else:
            self.ag.withdraw()

    async def _book(self, start: datetime, text: str, goodbye: bool) -> list[str]:
        """The business confirmed ``start``: agreed, recorded, and said back with its day and time."""
        self.ag.confirm(start)
        result = await self.tools.book_appointment(
            start=start, name=self.user, business_name=self.conv.slots.get("callee")
        )
        if not result.get("ok"):
            return []
        when = capital(self.spoken(start))
        if goodbye:
            return [self.t("confirmed_bye", when=when)]
        if nlu.ANYTHING_ELSE.search(text):
            return [self.t("confirmed_nothing_else", when=when)]
        return [self.t("confirmed", when=when)]

    async def _close(self, parts: list[str]) -> list[str]:
        """The business said goodbye. A yes of Lisa's that nobody took back is the agreement (the business
        offered the slot and leaves without objecting), so it is booked and said back; an unsettled
        confirmation is not booked."""
        ag = self.ag
        said = " ".join(parts)
        booked = self.conv.outcome.appointment if self.conv.outcome.status is Status.BOOKED else None
        if ag.unsure and booked is not None:
            self._drop_unsure()  # the booking confirmed earlier stands; said back below
        if ag.standing and (booked is None or ag.standing != iso_minute(booked)):
            slot = self.local(ag.standing)
            parts = [p for p in parts if not names_slot(p, slot, self.now, self.lang)]  # said once is enough
            parts += await self._book(slot, "", True)
        elif ag.unsure:
            agreed, heard = self.local(ag.unsure["agreed"]), self.local(ag.unsure["heard"])
            parts.append(self.t("unsure_bye", when=self.spoken(agreed)))
            ag.withdraw()
            said_times = {
                "agreed": summary_datetime(agreed, self.lang),
                "heard": summary_datetime(heard, self.lang),
            }
            await self.tools.end_conversation(reason=self.t("reason_unsure", **said_times))
            return parts
        elif self.conv.outcome.status is Status.BOOKED and self.conv.outcome.appointment is not None:
            slot = self.conv.outcome.appointment
            if not (said and names_slot(said, slot, self.now, self.lang)):
                parts.append(self.t("booked_bye", when=self.spoken(slot)))
            elif not _is_goodbye(said):
                parts.append(self.t("bye"))
        elif self.st.get("declined"):
            # Lisa asked for better and the business left: she says plainly that nothing is booked yet
            declined = self.spoken(self._nearest([self.local(s) for s in _as_list(self.st["declined"])]))
            parts.append(self.t("declined_bye", when=declined))
            await self.tools.end_conversation(reason=self.t("reason_declined_goodbye", when=declined))
            return parts
        else:
            parts.append(self.t("bye"))
        booked_now = self.conv.outcome.status is Status.BOOKED
        await self.tools.end_conversation(
            reason=self.t("reason_booked_goodbye" if booked_now else "reason_goodbye")
        )
        return parts

    @property
    def strict(self) -> bool:
        """Whether the user cannot move from the wish ("Saturday only", "it has to be a Saturday")."""
        request = self.request
        said = f"{request.preferred_time or ''}. {request.description or ''}" if request else ""
        return bool(self.wish and onlu.STRICT_WISH.search(said))

    def _strict_unasked(self) -> bool:
        """A strict wish Lisa has not asked the business for once yet (the first offer outside it)."""
        return self.strict and not self.st.get("strict_asked")

    async def _take_nearest(self, slots: list[datetime]) -> list[str]:
        """The nearest of offers none of which fits (:meth:`_accept_nearest`); with a strict wish none is taken:
        Lisa says the user can only make the wished time and that she will let them know."""
        if not self.strict:
            return self._accept_nearest(slots)
        self.ag.withdraw()
        wish = self._plain_wish()
        await self.tools.report_no_availability(reason=self.t("strict_reason", preferred=wish))
        return [self.t("strict_no", preferred=wish)]

    def _plain_wish(self) -> str:
        """The wish without its "only" ("Saturday only, between 10 and 14" -> "Saturday between 10 and 14"):
        what follows "Would you have something …" and "can only make it …"."""
        return re.sub(r"\s*\b(?:only|nur)\b,?", "", self.wish).strip(" ,") or self.wish

    def _accept_nearest(self, slots: list[datetime]) -> list[str]:
        """None of the offers fits and the business has nothing better: Lisa takes the one nearest to the
        preferred time and, when there was a choice, says that it is the nearest."""
        start = self._nearest(slots)
        self.ag.accept(start)
        if len(slots) > 1 and self.wish:
            return [self.t("accept_nearest", when=self.spoken(start), preferred=self.wish)]
        return [self.t("accept_second", when=self.spoken(start))]

    def _nearest(self, slots: list[datetime]) -> datetime:
        """Of offered slots none of which fits, the one nearest to the preferred time."""
        preferred = self.tools.preferred_window()
        return min(slots, key=lambda s: _distance(s, preferred))

    async def _offer(self, offers: list[When]) -> list[str]:
        """Offers of the business: the first that fits the preferred time is accepted, named as such."""
        st = self.st
        slots: list[datetime] = []
        declined = [self.local(s) for s in _as_list(st.get("declined"))]
        for w in offers:
            if w.day is not None:
                st["offer_day"] = w.day.isoformat()
            start = self._slot_from(w)
            if start is None and w.time is None and w.day is not None:
                # "Also Dienstag?" after "Dienstag um halb sechs" Lisa turned down: that slot again
                start = next((d for d in declined if d.date() == w.day), None)
            if start is not None and start not in slots:
                slots.append(start)
        if not slots:
            days = [w.day for w in offers if w.day is not None]
            if days:
                day = next((d for d in days if self._day_fits(d)), days[0])
                st["asked_time_day"] = day.isoformat()
                self.asked = True
                return [self._ask_time(day)]
            self.asked = True
            return [self.t("which_slot")]
        return await self._offer_slots(slots)

    async def _offer_slots(self, slots: list[datetime]) -> list[str]:
        st = self.st
        self.ag.offer(slots)
        future = []
        for start in slots:
            check = await self.tools.check_availability(start=start)
            if check.get("reason") == "past":
                continue
            future.append(start)
            if check.get("fits_preferred_time"):
                self.ag.accept(start)
                st.pop("declined", None)
                return [self.t("accept", when=capital(self.spoken(start)))]
        if not future:
            self.asked = True
            return [self.t("which_slot")]
        if (st.get("declined_once") and not self._strict_unasked()) or not self.wish:
            st.pop("declined", None)  # no wish to ask for instead: the nearest is taken
            return await self._take_nearest(future)
        st["declined_once"] = st["strict_asked"] = True
        st["declined"] = [s.strftime("%Y-%m-%dT%H:%M") for s in future]
        self.asked = True
        key = "prefer" if len(future) == 1 else "prefer_several"
        return [self.t(key, when=capital(self.spoken(future[0])), preferred=self._plain_wish())]

    def _day_put_down(self, text: str) -> date | None:
        """The day Lisa asked the time of, when the business names it again without a time (once)."""
        asked = self.st.get("asked_time_day")
        if not asked or self.st.get("asked_time_before_bye"):
            return None
        when = nlu.safe_parse_when(text, self.now, self.lang)
        day = date.fromisoformat(asked)
        return day if when is not None and when.day == day and when.time is None else None

    def _other_days(self, offers: list[When]) -> list[date]:
        """The days of ``offers`` that are not the wished ones (all of them when the wish names no day)."""
        preferred = self.tools.preferred_window()
        wished = preferred.days() if preferred is not None else []
        return [w.day for w in offers if w.day is not None and w.day not in wished]

    def _day_fits(self, day: date) -> bool:
        preferred = self.tools.preferred_window()
        if preferred is None:
            return True
        days = preferred.days()
        return not days or day in days

    # ------------------------------------------------------------------ questions of the business
    def _answer_questions(self, text: str, about_slots: bool) -> list[str]:
        """Answers to what the business asks besides slots: the name (also garbled, right after a slot was
        agreed), private data, things the user brings or only the user knows, the callback number."""
        agreed = bool(self.ag.standing) or self.conv.outcome.status is Status.BOOKED
        if nlu.AI_QUESTION.search(text):
            return []
        named = self.request is not None and bool(self.request.user_name)
        if self.st.get("name_given") and named and not about_slots:
            heard = onlu.name_read_back(text, self.user)  # the business reads the name back (class 11)
            if heard == "wrong":
                self.about_name = True
                return [self._spelled("name_wrong")]
            if heard == "right" and onlu.is_question(text):
                self.about_name = True
                return [self.t("name_right")]
            if heard is None and onlu.NAME_CHECK.search(text) and self._just_named():
                self.about_name = True  # a read-back the line garbled ("okay, oh double it, is that right?")
                return [self._spelled("name_check")]
        if onlu.PET_NAME_QUESTION.search(text):  # "and the dog's name?": not the user's
            pet = onlu.pet_name(self._brief())
            return [self.t("pet_name", name=pet), *self._age(text)] if pet else [self.t("dont_know")]
        if onlu.KIN_NAME_QUESTION.search(text) and (kin := onlu.kin_name(self._brief())):
            # "What's the child's name and date of birth?": the child's, not the user's
            private = [self.t("private")] if nlu.PRIVATE_QUESTION.search(text) else []
            return [self.t("pet_name", name=kin), *self._age(text), *private]
        if onlu.PARTY_SIZE_QUESTION.search(text):  # "for how many people?"
            size = onlu.party_size(self._brief())
            return [self.t("party_size", size=size)] if size else [self.t("dont_know")]
        if onlu.SPELL_QUESTION.search(text):
            self.about_name = True
            self.st["name_given"] = self.st.get("name_given", 0) + 1
            return [self._spelled("spell")]
        if (
            nlu.NAME_QUESTION.search(text)
            or onlu.CALLING_FOR.search(text)
            or (agreed and not about_slots and onlu.likely_name_question(text))
        ):
            # "Name, date of birth and insurance?": the name, and that the rest is not given on the phone
            secret = any(
                not onlu.BRING_QUESTION.search(m.group(0)) for m in nlu.PRIVATE_QUESTION.finditer(text)
            )
            return [self._name(), self.t("private")] if secret else [self._name()]
        if about_slots:
            return []
        self.side_question = True  # a question about the patient: answered, then the booking goes on
        if (told := self._from_brief(text)) is not None:
            return [told]
        if onlu.PURPOSE_QUESTION.search(text) and onlu.is_question(text):
            purpose = self._purpose()
            return [self.t("purpose", purpose=purpose)] if purpose else []
        if onlu.DURATION_QUESTION.search(text) and onlu.is_question(text):
            took = onlu.duration(f"{self.request.title}. {self.request.description}") if self.request else ""
            return [self.t("duration", duration=took)] if took else [self.t("dont_know")]
        if onlu.PREFERENCE_QUESTION.search(text) and onlu.is_question(text):
            self.side_question = False
            return [self._preference()]
        payment = onlu.PAYMENT_QUESTION.search(text)
        if payment and (onlu.is_question(text) or _NEED.search(text)):
            self.st["payment_asked"] = _refusal_said(text, payment.start())  # what was asked, for the summary
            return [self.t("payment")]  # card or bank details are never given on the phone
        if self.st.get("payment_asked") and _DETAILS.search(text) and not _PHONE_WORDS.search(text):
            return [self.t("payment")]  # "Can you give me the number?" after the card was asked for
        if nlu.PRIVATE_QUESTION.search(text) and not onlu.BRING_QUESTION.search(text):
            email = str((self.request.user_profile if self.request else {}).get("email") or "").strip()
            if email and _EMAIL_QUESTION.search(text):
                return [self.t("email", email=email)]  # the request gives it: said; nothing else is
            return [self.t("private")]
        if onlu.BRING_QUESTION.search(text) and onlu.is_question(text):
            return [self.t("bring")]
        if onlu.UNKNOWN_QUESTION.search(text) and onlu.is_question(text):
            return [self.t("dont_know")]
        self.side_question = False
        if nlu.PHONE_QUESTION.search(text):
            return [self.t("phone", phone=self.request.callback_number)] if self.request else []
        return [] if self.patterns_only else self._paraphrased_question(text)

    def _from_brief(self, text: str) -> str | None:
        """The answer the request gives to a question about the patient or the thing to be done: the vehicle
        ("What car is it?"), a first visit ("Has he been with us before?"), what it is about ("What's the
        problem?"); None when the request does not tell."""
        if self.request is None or not onlu.is_question(text):
            return None
        brief, description = self._brief(), self.request.description.strip()
        if onlu.FIRST_VISIT_QUESTION.search(text) and onlu.first_visit(brief):
            return self.t("first_visit")
        if onlu.ADDRESS_QUESTION.search(text) and (address := onlu.street_address(brief)):
            return self.t("address", address=address)  # a visit at home: the request gives where
        if said_age := self._age(text):
            return said_age[0]
        if description and (
            (onlu.VEHICLE_QUESTION.search(text) and onlu.about_vehicle(brief))
            or (onlu.REASON_QUESTION.search(text) and onlu.tells_complaint(description))
        ):
            return self.t("from_brief", said=description.rstrip(" ."))
        return None

    def _age(self, text: str) -> list[str]:
        """The age the request gives when ``text`` asks how old ("How old is the little one?"); [] otherwise."""
        said = onlu.age(self._brief()) if onlu.AGE_QUESTION.search(text) else ""
        return [self.t("age", age=said)] if said else []

    def _brief(self) -> str:
        """The request's title and description, as one text."""
        return f"{self.request.title}. {self.request.description}" if self.request else ""

    def _answers_beside_slots(self, text: str) -> list[str]:
        """Answers to the questions the business asks in the same breath as a slot Lisa takes or it confirms
        ("Friday at three works. Can I have a phone number for him?", "Freitag um drei geht. Wie ist sein
        Geburtsdatum?"): each question sentence that names no time is answered as if asked alone (what the
        request tells: the callback number, the name, what it is for; what it does not, Lisa does not know)
        and the answers follow what Lisa said about the slot."""
        side, about = self.side_question, self.about_name
        answers: list[str] = []
        self.patterns_only = (
            True  # a choice among the slots ("which one would he prefer?") is no such question
        )
        for sentence in _QUESTION_CUT.split(text):
            sentence = sentence.strip()
            if not sentence or not onlu.is_question(sentence) or self._offers(sentence):
                continue
            if onlu.PREFERENCE_QUESTION.search(sentence):
                continue
            for answer in self._answer_questions(sentence, False):
                if answer not in answers:
                    answers.append(answer)
        self.patterns_only = False
        self.side_question, self.about_name = side, about
        return answers

    def _paraphrased_question(self, text: str) -> list[str]:
        """A question the patterns missed, matched by meaning (:mod:`agent.outbound_questions`, class 6):
        "Is this a routine visit or is something bothering him?" asks what the appointment is for."""
        if not onlu.is_question(text) or self.request is None:
            return []
        kind = oq.question_kind(text)
        if kind == oq.PURPOSE:
            self.side_question = True
            return [self.t("purpose", purpose=self._purpose())]
        if kind == oq.PREFERENCE:
            return [self._preference()]
        if kind == oq.PHONE and self.request.callback_number:
            return [self.t("phone", phone=self.request.callback_number)]
        if kind == oq.NAME and (self.ag.standing or self.conv.outcome.status is Status.BOOKED):
            return [self._name()]  # before a slot is agreed, a garbled question is not taken for it
        return []

    def _name(self) -> str:
        """The user's name; asked again (a bad line, a loud room), spelled too (classes 9 and 11)."""
        self.about_name = True
        again = bool(self.st.get("name_given")) and self.request is not None and bool(self.request.user_name)
        self.st["name_given"] = self.st.get("name_given", 0) + 1
        return self._spelled("name_again") if again else self.t("name")

    def _just_named(self) -> bool:
        """Whether Lisa's last words gave the user's name (said or spelled)."""
        last = next((m.text for m in reversed(self.conv.history) if m.role == "assistant"), "")
        surname = self.user.split()[-1]
        return self.user in last or nlu.spell(surname) in last

    def _spelled(self, key: str) -> str:
        surname = self.user.split()[-1]
        return self.t(key, name=surname, letters=nlu.spell(surname))

    def _go_on(self) -> list[str]:
        """After answering a side question: the booking goes on where it stood."""
        ag, st = self.ag, self.st
        if self.conv.outcome.status is Status.BOOKED:
            return []
        if ag.unsure and ag.asked_unsure < 2:
            agreed, heard = self.local(ag.unsure["agreed"]), self.local(ag.unsure["heard"])
            return [
                self.t("which_of_two", a=self._difference(agreed, heard), b=self._difference(heard, agreed))
            ]
        if ag.unsure:
            return [self.t("just_to_be_sure", when=self.spoken(self.local(ag.unsure["agreed"])))]
        if ag.standing:
            return [self.t("still_accept", when=self.spoken(self.local(ag.standing)))]
        if st.get("declined") and self.wish:
            return [self.t("still_prefer", preferred=self.wish)]
        if st.get("asked_time_day"):
            return [self._ask_time(date.fromisoformat(st["asked_time_day"]))]
        if self.wish:
            return [self.t("still_wish", preferred=self.wish)]
        return [self.t("which_slot")]


# the parts of a sentence that may each say something else of a slot ("2 just went, only 4 is left")
_PART = re.compile(r"\s*[,;]\s*|\s+(?:but|aber|and|und)\s+", re.IGNORECASE)
# what answers "Would you have something else?": no other slot, not a goodbye ("No, sorry, nothing else.")
_NOTHING_MORE = re.compile(
    r"\b(nothing else|that'?s all( i'?ve got| i have| we have)?|that is all|sonst nichts|nichts anderes|"
    r"das ist alles|mehr (habe|hab) ich nicht)\b",
    re.IGNORECASE,
)


def _is_goodbye(text: str, asked_for_more: bool = False) -> bool:
    """A goodbye of the business ("that's all booked" and "anything else?" are none; nor is "nothing else"
    when Lisa has just asked for another time: ``asked_for_more``)."""
    text = re.sub(r"\bthat'?s all (booked|set|done|sorted|confirmed|noted|in)\b", "", text, flags=re.I)
    if asked_for_more:
        text = _NOTHING_MORE.sub("", text)
    if nlu.ANYTHING_ELSE.search(text):
        return False
    return bool(nlu.GOODBYE.search(text) or onlu.GOODBYE_MORE.search(text))


def _closed_at(when: When, slot: datetime, weekly: bool) -> bool:
    """Whether a closure said for ``when`` covers ``slot``: its day (the weekday when ``weekly``: "we're
    closed on Fridays") and, when the closure names an hour or a part of the day, the slot's time in it."""
    days = when.days()
    if days and slot.date() not in days and not (weekly and slot.weekday() in {d.weekday() for d in days}):
        return False
    if when.time is not None:
        return when.time == slot.time().replace(tzinfo=None)
    if when.earliest is not None and slot.time().replace(tzinfo=None) < when.earliest:
        return False
    return not (when.latest is not None and slot.time().replace(tzinfo=None) >= when.latest)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _distance(slot: datetime, preferred: When | None) -> float:
    """How far ``slot`` lies from the preferred time, in minutes (days weigh a working day each)."""
    if preferred is None:
        return 0.0
    days = preferred.days()
    day_gap = 0 if not days or slot.date() in days else min(_day_gap(slot.date(), d, preferred) for d in days)
    t = slot.hour * 60 + slot.minute
    lo = preferred.earliest or preferred.time
    hi = preferred.latest or preferred.time
    minutes = 0
    if lo is not None and t < lo.hour * 60 + lo.minute:
        minutes = lo.hour * 60 + lo.minute - t
    elif hi is not None and t > hi.hour * 60 + hi.minute:
        minutes = t - (hi.hour * 60 + hi.minute)
    return day_gap * 600 + minutes


_WEEKDAY_WISH = re.compile(
    r"\b(mon|tues|wednes|thurs|fri|satur|sun)days?\b|(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)",
    re.IGNORECASE,
)


def _day_gap(day: date, wished: date, preferred: When) -> int:
    """Days between an offered day and a wished one; a wish for a weekday ("Monday morning") is about the
    weekday, so the gap is counted between weekdays too (Tuesday is one day from Monday in any week)."""
    gap = abs((day - wished).days)
    if _WEEKDAY_WISH.search(preferred.text or ""):
        weekdays = abs(day.weekday() - wished.weekday())
        gap = min(gap, weekdays, 7 - weekdays)
    return gap


_MINUTE_WORDS = {
    0: r"o'?clock|sharp|on the hour|uhr\b(?! \d)",
    15: r"quarter past|fifteen|viertel nach|fünfzehn",
    45: r"quarter to|forty[- ]five|dreiviertel|viertel vor|fünfundvierzig",
    30: r"half|thirty|halb|dreißig",
    50: r"fifty|ten to|fünfzig|zehn vor",
    13: r"thirteen|dreizehn",
    40: r"forty|twenty to|vierzig|zwanzig vor",
    14: r"fourteen|vierzehn",
    20: r"twenty(?![- ]?(to|five))|zwanzig nach",
}


def _pick_between(text: str, agreed: datetime, heard: datetime, named: datetime | None) -> datetime | None:
    """Which of two slots the answer to "A or B?" means: the slot it names, "the first/second one", or the
    minutes said alone ("quarter past"); None when unclear (a bare "yes")."""
    if named in (agreed, heard):
        return named
    if named is not None:
        return None  # a third slot
    choice = nlu.choice_index(text)
    if choice is not None:
        return agreed if choice == 0 else heard
    hits = []
    for slot in (agreed, heard):
        words = _MINUTE_WORDS.get(slot.minute)
        if words and re.search(rf"\b({words})", text, re.IGNORECASE):
            hits.append(slot)
    if len(hits) == 1 and agreed.minute != heard.minute:
        return hits[0]
    if agreed.hour % 12 != heard.hour % 12:  # "Oh sorry, eleven, yes." for 11 or 12: the hour said alone
        hours = [s for s in (agreed, heard) if re.search(_hour_words(s.hour), text, re.IGNORECASE)]
        if len(hours) == 1:
            return hours[0]
    return None


_MORNING = re.compile(r"morning|vormittag|morgens", re.IGNORECASE)
_CANCEL_WISH = re.compile(r"\b(cancel\w*|absag\w*|stornier\w*|abmelden)\b", re.IGNORECASE)
_AM = re.compile(r"\b(a\.?\s?m\b|morning|vormittags?|morgens|früh|uhr morgens)", re.IGNORECASE)
_AFTERNOON = re.compile(r"\b(p\.?\s?m\b|afternoon|evening|tonight|nachmittag|abends?)", re.IGNORECASE)


def _in_the_morning(when: When) -> When:
    """An hour read as afternoon (1-7 without am/pm) from a business that works only in the mornings."""
    if when.time is None or not 13 <= when.time.hour <= 19:
        return when
    return replace(when, time=when.time.replace(hour=when.time.hour - 12))


# an offer that names a weekday ("Wednesday at nine", "at 8 on Thursday", "Mittwoch um neun") …
_PLAIN_WEEKDAY = re.compile(
    r"(?:on |am |an |for |für )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|"
    r"mittwoch|donnerstag|freitag|samstag|sonntag)s?\b"
)
# … and says nothing else of its week: no "this", "next", "tomorrow", date or month
_NOT_PLAIN = re.compile(
    r"\b(?:this|next|coming|today|tomorrow|week|diese[nmrs]?|nächste[nmrs]?|kommende[nmrs]?|heute|morgen|"
    r"übermorgen|woche|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"januar|februar|märz|juni|juli|oktober|dezember)\b|\d+(?:st|nd|rd|th|\.)(?!\d)|\bthe \w+(?:st|nd|rd|th)\b",
    re.IGNORECASE,
)
# a wish that names its week ("next week, Monday", "in two weeks", "the 7th", "7. Dezember")
_WEEK_NAMED = re.compile(
    r"\b(?:week|weeks|woche|wochen)\b|\d+(?:st|nd|rd|th|\.)(?!\d)|\b(?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december|januar|februar|märz|juni|juli|oktober|dezember)\b",
    re.IGNORECASE,
)
_BARE_WEEKDAY = re.compile(
    r"(?:(?:on|this|see you|until|till|bis|am|dann bis|also)\s+)?(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)s?"
)
_HOUR_WORDS = (
    "twelve|zwölf|noon|mittag", "one|eins", "two|zwei", "three|drei", "four|vier", "five|fünf",
    "six|sechs", "seven|sieben", "eight|acht", "nine|neun", "ten|zehn", "eleven|elf",
)  # fmt: skip


def _hour_words(hour: int) -> str:
    """A pattern for ``hour`` said alone on a 12-hour clock, as digits or a word (en + de): 11 or 23 → "11",
    "eleven", "elf"."""
    h12 = hour % 12
    digits = f"{h12 or 12}|{hour}" if hour != (h12 or 12) else str(hour)
    return rf"(?<![\d:.])\b({digits}|{_HOUR_WORDS[h12]})\b(?![:.]?\d)"


# a plain no to what Lisa asked ("Sorry, that doesn't work", "Hmm, no", "Nein, da geht's leider nicht")
_REFUSES = re.compile(
    r"^\W*(?:(?:hm+|um+|uh+|oh|ah|well|na|also|ach),?\s+)?(?:no|nope|nah|nein|nee)\b(?![,.!]?\s*(?:worries|problem))|"
    r"\b(?:(?:doesn'?t|won'?t|does not|will not|wouldn'?t|would not) work|not possible|no good|can'?t (?:do|manage) "
    r"(?:that|it|then)|(?:geht|passt|klappt)(?:'s| es| das)? (?:leider |da )*nicht|nicht möglich|schlecht)\b",
    re.IGNORECASE,
)
# the words around an hour the business settles on ("alright, two it is then, bye", "gut, dann eben zwei")
_SO_BE_IT = re.compile(
    r"\b(?:it is|it's|that's it|then|okay|ok|alright|all right|so|well|fine|bye|goodbye|"
    r"dann|also|gut|eben|halt|tschüss|ciao|o'?clock|uhr)\b",
    re.IGNORECASE,
)
_NO_WORRIES = re.compile(r"\bno (?:worries|problem|probs)\b|\bkein problem\b", re.IGNORECASE)
# what says an hour suits ("three's fine", "3 o'clock works", "drei passt", "um drei ist gut")
_FINE = re.compile(
    r"(?:'s|\b(?:is|are|would be|ist|wäre))?\s*\b(?:fine|works?|good|ok|okay|great|perfect|suits?|passt|geht|"
    r"klappt|gut|prima|in ordnung)\b",
    re.IGNORECASE,
)


# a day the business never opens or has nothing on ("samstags nie", "Monday is impossible", "Montag ist voll")
_NEVER = re.compile(
    r"\b(never|closed|impossible|full|(is|are|'s|all|fully) booked|nie|niemals|zu|geschlossen|unmöglich|voll|"
    r"ausgebucht|belegt)\b",
    re.IGNORECASE,
)


def _pieces(text: str) -> list[str]:
    """``text`` cut where a new thought may start and at commas, "but", "and" ("14 Uhr ist schon weg, 16 Uhr
    wäre noch frei" -> two pieces)."""
    return [p for c in onlu.clauses(text) for p in _PART.split(c) if p.strip()]


def _said_elsewhere(part: str, index: int, parts: list[str]) -> bool:
    """Whether ``parts[index]`` is already said by a longer part, or is the same as an earlier one."""
    return bool(part) and any(
        part in other and (len(other) > len(part) or j < index) for j, other in enumerate(parts) if j != index
    )


def _same_clock(heard: dtime, wished: dtime) -> bool:
    """Whether an hour said alone ("three") is the wished time (3 pm): the same on a 12-hour clock."""
    return heard.minute == wished.minute and heard.hour % 12 == wished.hour % 12


_REFUSAL_FIRST = re.compile(
    r"\W*(?:no|nope|nein|sorry|unfortunately|leider)\b(?![,.!]?\s*(?:worries|problem|probs|prob|sorry|sorgen|problem))",
    re.IGNORECASE,
)


_NEED = re.compile(r"\b(need|needs|require|requires|brauchen|benötigen|müssen|muss)\b", re.IGNORECASE)
# what is asked once the card was: its number or details ("Can you give me the number?")
_DETAILS = re.compile(r"\b(the|that|its|die|der|deren) (number|nummer|details|daten)\b", re.IGNORECASE)
_PHONE_WORDS = re.compile(r"phone|telefon|handy|mobile|call|reach|rückruf|erreich", re.IGNORECASE)
_MY_EN = re.compile(r"\b(my|our)\b", re.IGNORECASE)
_MY_DE = {"meinen": "den", "meine": "die", "meinem": "dem", "meiner": "der", "meines": "des"}
_MY_DE_WORD = re.compile(r"\b(mein|unser)(en|e|em|er|es)\b", re.IGNORECASE)


def _in_third_person(said: str, user: str, lang: str) -> str:
    """The user's words about their own ("physiotherapy for my back", "für meinen Sohn Paul") as Lisa says
    them: "for Sarah Klein's back", "für den Sohn Paul"."""
    if lang == "de":
        return _MY_DE_WORD.sub(lambda m: _MY_DE["mein" + m.group(2).lower()], said)
    return _MY_EN.sub(f"{user}'s", said)


# a see-off, which is no booking of a slot Lisa turned down ("Lovely. See you then, bye.", "Gut, bis dann")
_SEE_YOU = re.compile(
    r"\b(see you( then| soon| on \w+| \w+day)?|bis (dann|bald|montag|dienstag|mittwoch|donnerstag|freitag|samstag)|"
    r"wir sehen uns)\b",
    re.IGNORECASE,
)
# what a greeting starts with that is no business name ("Morning, Hillside Lab", "So, da bin ich wieder",
# "Sorry about that")
_NOT_CALLEE = re.compile(
    r"^(morning|afternoon|evening|so|okay|ok|right|well|also|na|ach|sorry\b.*|entschuldigung\b.*|thanks\b.*|"
    r"danke\b.*|da bin ich wieder|i'?m back|here we go)$",
    re.IGNORECASE,
)


def _callee(line: str) -> str | None:
    """The business name in a line the business said, skipping what only greets ("Morning, Hillside Lab,
    Dave here" -> "Hillside Lab")."""
    for _ in range(4):
        name = nlu.callee_name(line)
        if name is None or not _NOT_CALLEE.match(name):
            return name
        line = line[line.find(name) + len(name) :].lstrip(" ,.!?;")
    return None


def _refusal_said(text: str, at: int) -> str:
    """The sentence of ``text`` around position ``at``, with the statement before it when both are short
    ("For groups we need a deposit; otherwise I can't hold the table")."""
    sentences = [(m.start(), m.end(), m.group(0).strip()) for m in re.finditer(r"[^.!?]+[.!?]*", text)]
    index = next((i for i, (_, end, _) in enumerate(sentences) if end > at), len(sentences) - 1)
    said = sentences[index][2].rstrip(" .!?")
    before = sentences[index - 1][2] if index else ""
    if before and not onlu.is_question(before) and len(before) + len(said) < 110:
        said = f"{before.rstrip(' .!?')}; {said}"
    return said


def _bare_confirmation(text: str) -> bool:
    """A confirmation of one or two words that asks nothing ("Done.", "Eingetragen.", "All booked.")."""
    return len(text.split()) <= 2 and not onlu.is_question(text)


def _confirms(text: str) -> bool:
    """Whether a sentence of ``text`` states that the appointment is booked (not a question, an offer or a
    refusal: "No, 3 is booked.")."""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        offer = sentence.rstrip().endswith("?") or re.search(
            r"\b(can|could|would|shall|should|könnte|kann|soll)\b", sentence, re.I
        )
        offer = offer or _REFUSAL_FIRST.match(sentence) or onlu.NO_SLOT.search(sentence)  # "booked solid"
        offer = offer or nlu.NO_AVAILABILITY.search(sentence)  # "That week is fully booked"
        if (nlu.CONFIRM.search(sentence) or onlu.CONFIRM_MORE.search(sentence)) and not offer:
            return True
    return False


async def outbound_turn(conv: Conversation, text: str | None, ctx: TurnContext) -> str:
    """Lisa's reply on an outbound call (empty before the callee has spoken)."""
    return await _Outbound(conv, ctx).turn(text)
