"""The status flow of outbound booking requests (seed 002): submit, schedule, call, record the outcome.

State lives in the database (``requests``, ``request_events``, ``request_jobs``), so every server instance
on the same database can take any signal: the instance that placed a call need not be the one whose media
WebSocket carries it. An attempt (one job) is finished exactly once: by the first of call end, carrier
status (busy / no-answer / voicemail / failed), timeout or cancel, through an atomic ``UPDATE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from agent.business import BusinessProfile
from agent.clock import Clock
from agent.conversation import BookingRequest, Conversation, ConversationEvent, Status
from agent.tools import business_notes
from api.requests.business_hours import BusinessHours, NeverOpen
from api.requests.dial_policy import DialPolicy, business_country
from api.requests.models import (
    FINAL_STATUSES,
    WAITING_STATUSES,
    ProcessRequestBody,
    booking_request_from_row,
)
from api.requests.scheduler import ActiveCall, CallScheduler
from api.requests.settings import RequestSettings
from api.requests.store import Quota, QuotaExceeded, RequestStore
from api.requests.summary import booked_summary, scheduled_message, when_text
from pipelines.call_deps import EndLiveCall
from pipelines.call_hooks import CallInfo, CallResult
from pipelines.settings import VoiceSettings
from telephony.carrier import Carrier
from telephony.phone_numbers import mask_phone

log = logging.getLogger(__name__)

FORWARDED_EVENTS = (
    "booking_in_progress",
    "booking_confirmed",
    "slot_tentative",  # the business holds a slot until it has confirmed it itself (and calls back)
    # before the person (agent/call_situations.py): phone menus, screeners, mailboxes, holding
    "phone_menu",
    "phone_menu_failed",
    "screened",
    "message_left",
    "voicemail_reached",
    "hold_timeout",
    "provider_failover",  # the call's LLM failed or stalled; the rule brain took over
)
MACHINE_PREFIXES = ("machine", "fax")
RETRY_REASONS = {
    "busy": "The line was busy",
    "no-answer": "Nobody answered",
    "failed": "The call could not be connected",
    "canceled": "The call was canceled by the carrier",
    "machine": "A voicemail answered",
    "timeout": "The call exceeded the maximum call duration",
    "no_result": "The call ended without a result",
    "carrier_error": "The telephony provider refused the call",
    "callback": "The business asked to be called back",
    "abandoned": "The call ended before anything was agreed",
    "error": "The call broke off with an error",
    "app_stopped": "The app stopped during the call",
}


class RequestProcessor(CallScheduler):
    def __init__(
        self,
        settings: RequestSettings,
        store: RequestStore,
        hours: BusinessHours,
        *,
        clock: Clock,
        carrier: Carrier | None,
        business: BusinessProfile | None = None,
        voice_settings: VoiceSettings | None = None,
        end_live_call: EndLiveCall | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock  # Lisa's clock (tests and replays fix it)
        self.carrier = carrier  # places the calls; None: every attempt fails with the reason
        self.business = business  # its country is the default dial policy
        self.voice_settings = voice_settings  # how the calls hear (the call language follows it)
        self.end_live_call = end_live_call  # a canceled request's live call says goodbye
        self.settings = settings
        self.store = store
        self.hours = hours
        self.owner = f"lisa-{uuid.uuid4().hex[:12]}"  # this instance, in job claims
        self.active: dict[str, ActiveCall] = {}  # by request id
        self._on_change = on_change  # () -> None, e.g. wake the outbox
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None

    # --- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Lisa's clock (tests and replays fix it), in the business timezone."""
        return self.clock.now().astimezone(self.hours.tz)

    def _changed(self) -> None:
        if self._on_change:
            self._on_change()

    # --- who may be dialled, how often ----------------------------------------------------------------
    def dial_policy(self) -> DialPolicy:
        """``OUTBOUND_ALLOWED_COUNTRIES`` (default: the business's country) and ``OUTBOUND_DENY_NUMBERS``."""
        countries = self.settings.outbound_allowed_countries.split(",")
        if not any(c.strip() for c in countries):
            countries = [business_country(self.business, self.settings.business_holidays_country or "DE")]
        return DialPolicy.of(countries, self.settings.outbound_deny_numbers.split(","))

    def quotas(self, body: ProcessRequestBody) -> tuple[Quota, ...]:
        quotas = [
            Quota(
                "user_id",
                body.user_id,
                self.settings.outbound_max_requests_per_user_per_day,
                "requests of this user",
            )
        ]
        if body.number_to_call:
            quotas.append(
                Quota(
                    "number_to_call",
                    body.number_to_call,
                    self.settings.outbound_max_requests_per_number_per_day,
                    "requests to call this number",
                )
            )
        return tuple(q for q in quotas if q.limit > 0)

    # --- API operations -----------------------------------------------------------------------
    async def submit(self, body: ProcessRequestBody, language: str) -> tuple[int, dict[str, Any]]:
        """Record a new request and schedule its call; a known ``request_id`` only reports its status."""
        existing = await self.store.get(body.request_id)
        if existing:
            return self._repeat_answer(existing, body)
        if body.number_to_call and (refusal := self.dial_policy().refusal(body.number_to_call)):
            return _refused(body.request_id, "number_to_call", refusal)
        now = self.now()
        # the callee's local hours: the business's own opening hours when the request states them
        hours = self.hours.for_request(body.number_to_call, body.opening_hours)
        try:
            opening = hours.next_opening(now)
        except NeverOpen as exc:
            return _refused(body.request_id, "opening_hours", str(exc))
        row = {
            "id": body.request_id,
            "user_id": body.user_id,
            "title": body.title,
            "description": body.description,
            "callback_number": body.callback_number,
            "number_to_call": body.number_to_call,
            "preferred_time": body.preferred_time,
            "user_profile": body.user_profile.model_dump(exclude_none=True),
            "language": language,
            "opening_hours": body.opening_hours,
            "status": "queued",
        }
        # the first status is decided here and written with the row, so a concurrent repeat sees it
        events = [("request_received", f"Request received: {body.title}")]
        error = "number_to_call is required to place a call"
        if not body.number_to_call:
            row.update(status="failed", last_error=error)
            events.append(("error", error))
        elif opening > now:
            row["status"] = "outside_business_hours"
            events.append(("scheduled", scheduled_message(opening, language, hours.tz.key)))
        job_due = opening if body.number_to_call else None
        try:
            created = await self.store.create(row, events, job_due=job_due, quotas=self.quotas(body))
        except QuotaExceeded as exc:
            log.info("request %s refused: %s", body.request_id, exc)
            retry = round(exc.retry_after_s)
            return 429, {
                "status": "error",
                "request_id": body.request_id,
                "error": str(exc),
                "retry_after": retry,
            }
        if not created:  # a concurrent POST won the insert
            return self._repeat_answer(await self.store.get(body.request_id) or {}, body)
        self._changed()
        log.info("request %s received (call to %s)", body.request_id, mask_phone(body.number_to_call))
        if not body.number_to_call:
            return 422, {"status": "error", "request_id": body.request_id, "error": error}
        if opening > now:
            return 200, {
                "status": "scheduled",
                "request_id": body.request_id,
                "message": f"Outside business hours; the call is scheduled for {opening.isoformat()}",
                "scheduled_for": opening.isoformat(),
            }
        self._wake.set()
        return 200, {
            "status": "accepted",
            "request_id": body.request_id,
            "message": "Request is being processed",
        }

    def _repeat_answer(self, row: dict[str, Any], body: ProcessRequestBody) -> tuple[int, dict[str, Any]]:
        if row.get("user_id") not in (None, body.user_id):
            return 409, {
                "status": "error",
                "request_id": body.request_id,
                "error": "request_id is already used by another user",
            }
        status = row.get("status", "queued")
        # seed 002's words: "scheduled" (later), "completed" (the seed's example answer once a request is done)
        if status == "outside_business_hours":
            answer = "scheduled"
        elif status in FINAL_STATUSES:
            answer = "completed"
        else:
            answer = "accepted"
        if status == "failed" and not row.get("number_to_call"):
            return 422, {
                "status": "error",
                "request_id": body.request_id,
                "error": row.get("last_error") or "",
            }
        return 200, {
            "status": answer,
            "request_id": body.request_id,
            "message": f"Request already received; current status: {status}",
            "request_status": status,
        }

    async def describe(self, request_id: str) -> dict[str, Any] | None:
        """``GET /api/requests/{id}``: the row, its events and the outcome."""
        row = await self.store.get(request_id)
        if not row:
            return None
        events = await self.store.events(request_id)
        appointment = row.get("appointment")
        job = await self.store.next_job(request_id) if row["status"] in WAITING_STATUSES else None
        return {
            "request_id": row["id"],
            "user_id": row["user_id"],
            "status": row["status"],
            "title": row["title"],
            "language": row["language"],
            "number_to_call": row["number_to_call"],
            "opening_hours": row.get("opening_hours"),  # the business's own, as the request stated them
            "summary": row["summary"],
            "appointment": appointment,
            "attempts": row["attempts"],
            "call_sid": row["call_sid"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            # while outside_business_hours / waiting_for_callback (/ queued): when the next call is due (UTC)
            "next_attempt_at": job["due_at"] if job else None,
            "events": [
                {"type": e["type"], "message": e["message"], "created_at": e["created_at"]} for e in events
            ],
            "outcome": {
                "status": row["status"],
                "appointment": appointment[:16] if appointment else None,
                "summary": row["summary"] or "",
            },
        }

    async def cancel(self, request_id: str) -> tuple[int, dict[str, Any]]:
        row = await self.store.get(request_id)
        if not row:
            return 404, {"detail": f"unknown request {request_id}"}
        if row["status"] in FINAL_STATUSES:  # idempotent: the request as it is, not an error
            return 200, self._final_answer(row)
        changed = await self.store.update(
            request_id, {"status": "canceled"}, [], unless_status=FINAL_STATUSES
        )
        if not changed:  # it became final meanwhile (booked, failed or canceled by another call)
            return 200, self._final_answer(await self.store.get(request_id) or row)
        await self.store.cancel_jobs(request_id)
        self._changed()
        if changed and row.get("call_sid") and row["status"] in ("calling", "in_progress"):
            end_live_call, carrier = self.end_live_call, self.carrier
            if end_live_call is not None and end_live_call(row["call_sid"], "canceled"):
                pass  # connected here: Lisa says goodbye, then hangs up through the carrier herself
            elif carrier is not None:
                try:
                    await carrier.hangup(row["call_sid"])
                except Exception:  # the request is canceled either way
                    log.exception("hanging up call of canceled request %s failed", request_id)
        return 200, {"status": "canceled", "request_id": request_id, "message": "Request canceled"}

    @staticmethod
    def _final_answer(row: dict[str, Any]) -> dict[str, Any]:
        """A cancel of a request that is already final: its current state (``status`` as stored)."""
        return {
            "status": row["status"],
            "request_id": row["id"],
            "message": f"Request is already {row['status']}; nothing to cancel",
            "request_status": row["status"],
        }

    async def lookup(self, request_id: str) -> BookingRequest | None:
        """The brief the pipeline gives Lisa for an outbound call (``Requests.lookup``)."""
        row = await self.store.get(request_id)
        return booking_request_from_row(row) if row else None

    def call_language(self, row: dict[str, Any]) -> str:
        """The language Lisa speaks on the call: ``OUTBOUND_CALL_LANGUAGE``, else the request's; English
        when the voice pipeline hears with the embedded English-only Whisper (``LISA_STT=local``)."""
        if self.settings.outbound_call_language:
            return self.settings.outbound_call_language
        voice = self.voice_settings
        if row["language"] != "en" and getattr(voice, "lisa_stt", None) == "local":
            return "en"
        return row["language"]

    # --- the end of an attempt ----------------------------------------------------------------
    async def finish_attempt(
        self,
        request_id: str,
        call_sid: str | None,
        kind: str,  # "booked" | "failed" | "retry"
        reason: str = "",
        *,
        detail: str = "",
        appointment: datetime | None = None,
        duration_s: float | None = None,
        completed: bool = False,
    ) -> bool:
        """Record how the current attempt ended, exactly once; False when it was already recorded."""
        job = await self.store.open_job(request_id)
        if job is None or (call_sid and job.get("call_sid") and job["call_sid"] != call_sid):
            return False  # a late signal of an earlier call, or nothing in flight
        if not await self.store.finish_job(job["id"], f"{kind}:{reason}"):
            return False
        active = self.active.get(request_id)
        if active:
            active.finished.set()
        row = await self.store.get(request_id)
        if row is None:
            return True
        events: list[tuple[str, str]] = []
        if completed:
            length = f" after {round(duration_s)} s" if duration_s is not None else ""
            events.append(("call_completed", f"Call completed{length}"))
        if kind == "booked":
            summary = booked_summary(appointment, row["title"], row["language"], detail)
            fields: dict[str, Any] = {"status": "booked", "summary": summary, "last_error": None}
            if appointment is not None:
                fields["appointment"] = appointment.isoformat()
            await self.store.update(request_id, fields, events, unless_status=FINAL_STATUSES)
        elif kind == "failed":
            text = detail or RETRY_REASONS.get(reason, reason) or "No appointment could be booked"
            events.append(("call_failed", text))  # after call_completed: the call ended, then why it failed
            await self.store.update(
                request_id,
                {"status": "failed", "last_error": text, "summary": text},
                events,
                unless_status=FINAL_STATUSES,
            )
        else:
            await self._retry(row, reason, detail, events)
        self._changed()
        return True

    async def _retry(
        self, row: dict[str, Any], reason: str, detail: str, events: list[tuple[str, str]]
    ) -> None:
        request_id = row["id"]
        why = RETRY_REASONS.get(reason, reason)
        if detail:
            why = f"{why}: {detail}"
        attempts = int(row["attempts"] or 0)
        limit = self.settings.outbound_max_attempts
        if row["status"] in FINAL_STATUSES:
            if events:
                await self.store.update(request_id, {}, events)
            return
        if attempts >= limit:
            text = f"{why} (attempt {attempts} of {limit}); giving up"
            events.append(("call_failed", text))
            await self.store.update(
                request_id,
                {"status": "failed", "last_error": text, "summary": text},
                events,
                unless_status=FINAL_STATUSES,
            )
            return
        hours = self.hours.for_request(row.get("number_to_call"), row.get("opening_hours"))
        try:
            due = hours.next_opening(self.now() + timedelta(seconds=self.settings.outbound_retry_delay_s))
        except NeverOpen as exc:  # e.g. hours of a year that has ended
            text = f"{why} (attempt {attempts} of {limit}); not calling again: {exc}"
            events.append(("call_failed", text))
            fields = {"status": "failed", "last_error": text, "summary": text}
            await self.store.update(request_id, fields, events, unless_status=FINAL_STATUSES)
            return
        local_due = due.astimezone(hours.tz)
        events.append(
            (
                "call_failed",
                f"{why} (attempt {attempts} of {limit}); calling again {when_text(local_due, 'en')}",
            )
        )
        await self.store.add_job(request_id, due, attempts + 1)
        await self.store.update(
            request_id,
            {"status": "waiting_for_callback", "last_error": why},
            events,
            unless_status=FINAL_STATUSES,
        )

    # --- call hooks (pipelines/call_hooks.py) -------------------------------------------------------
    async def on_call_started(self, call: CallInfo, conversation: Conversation) -> None:
        request_id = call.request_id
        if call.direction != "outbound" or not request_id:
            return
        job = await self.store.open_job(request_id)
        if job is not None and not job.get("call_sid"):
            await self.store.set_job_call_sid(job["id"], call.call_sid)
        connected = await self.store.update(
            request_id,
            {"status": "in_progress", "call_sid": call.call_sid},
            [("call_connected", "Call connected; Lisa is talking to the business")],
            unless_status=FINAL_STATUSES,
        )
        self._changed()
        if not connected and await self.store.get(request_id):  # canceled (or done) while it rang
            carrier = self.carrier
            if carrier is not None:
                with contextlib.suppress(Exception):
                    await carrier.hangup(call.call_sid)

    async def on_conversation_event(self, call: CallInfo, event: ConversationEvent) -> None:
        if call.direction != "outbound" or not call.request_id or event.type not in FORWARDED_EVENTS:
            return
        row = await self.store.get(call.request_id)
        if row and row["status"] not in FINAL_STATUSES:
            await self.store.add_event(call.request_id, event.type, event.message)
            self._changed()

    async def on_call_ended(self, call: CallInfo, result: CallResult) -> None:
        request_id = call.request_id
        if call.direction != "outbound" or not request_id:
            return
        outcome = result.conversation.outcome
        duration = _duration_s(result)
        common: dict[str, Any] = {"duration_s": duration, "completed": True}
        if outcome.status is Status.BOOKED:
            await self.finish_attempt(
                request_id,
                call.call_sid,
                "booked",
                appointment=self._local(outcome.appointment),
                detail=business_notes(result.conversation),  # a price, what to bring, …
                **common,
            )
        elif outcome.status is Status.FAILED:
            await self.finish_attempt(
                request_id,
                call.call_sid,
                "failed",
                "no_slot",
                detail=outcome.summary or "No appointment could be booked",
                **common,
            )
        elif outcome.status in (Status.WAITING_FOR_CALLBACK, Status.CALLBACK_REQUESTED):
            await self.finish_attempt(
                request_id, call.call_sid, "retry", "callback", detail=outcome.summary, **common
            )
        else:
            reason = "error" if result.reason.startswith("error") else "abandoned"
            await self.finish_attempt(
                request_id, call.call_sid, "retry", reason, detail=outcome.summary or result.reason, **common
            )

    def _local(self, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.hours.tz)
        return moment.astimezone(self.hours.tz)

    # --- carrier status (call_status_listeners) -----------------------------------------------
    async def on_call_status(self, call_sid: str, status: str, info: dict[str, Any]) -> None:
        request_id = _request_id(info) or await self.store.request_for_call(call_sid)
        if not request_id:
            return
        answered_by = str(info.get("AnsweredBy") or info.get("answered_by") or "")
        live = self.end_live_call
        if (
            answered_by.startswith("machine_end")
            and live is not None
            and live(call_sid, f"voicemail ({answered_by})")
        ):
            return  # the greeting is over: Lisa leaves her message (or none); the call's end settles the request
        if answered_by.startswith(MACHINE_PREFIXES):
            if await self.finish_attempt(request_id, call_sid, "retry", "machine", detail=answered_by):
                carrier = self.carrier
                if carrier is not None:
                    try:
                        await carrier.hangup(call_sid)
                    except Exception:
                        log.exception("hangup of voicemail call failed")
            return
        if status in ("busy", "no-answer", "failed", "canceled"):
            await self.finish_attempt(request_id, call_sid, "retry", status)
        elif status == "completed":
            self._spawn(self._completed_without_result(request_id, call_sid))

    async def _completed_without_result(self, request_id: str, call_sid: str, grace_s: float = 10.0) -> None:
        """The carrier says the call is over; if the media stream never reported an end, retry later."""
        await asyncio.sleep(grace_s)
        await self.finish_attempt(request_id, call_sid, "retry", "no_result")


def _refused(request_id: str, field: str, reason: str) -> tuple[int, dict[str, Any]]:
    """A request refused before anything is stored: 422 naming the field, like a validation error."""
    log.info("request %s refused: %s: %s", request_id, field, reason)
    return 422, {
        "status": "error",
        "request_id": request_id,
        "error": f"{field}: {reason}",
        "detail": [{"loc": ["body", field], "msg": reason, "type": "value_error"}],
    }


def _request_id(info: dict[str, Any]) -> str | None:
    if info.get("request_id"):
        return str(info["request_id"])
    params = info.get("parameters") or {}
    return str(params["request_id"]) if isinstance(params, dict) and params.get("request_id") else None


def _duration_s(result: CallResult) -> float | None:
    ends = [end for t in result.transcript if isinstance(end := t.get("end_ms"), int | float)]
    return max(ends) / 1000 if ends else None
