"""What the console shows and does: counters, calls, requests, bookings, and the operator's actions.

Reads go to the database (the same tables as ``/api/calls``, ``/api/requests``, the calendar); a call
running in this process adds its live transcript and Lisa's step. Actions use the services the app already
has: the carrier (hang up, transfer), the request processor (cancel, call now, retry), the chat service.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from api.calls import latency_chart
from api.calls.store import CallStore
from api.console.bus import LiveBus
from api.console.settings import ConsoleSettings
from api.console.sources import CallFeed
from api.requests.business_hours import NeverOpen
from api.requests.models import FINAL_STATUSES, STATUSES, WAITING_STATUSES
from api.state import Core
from api.storage.db import Database

log = logging.getLogger(__name__)

WAITING = tuple(sorted(WAITING_STATUSES))
CALLING = ("calling", "in_progress")
COUNTERS_DELAY_S = 0.3  # several events in a burst give one counters event


class ActionError(Exception):
    """An action the console refuses: ``status`` 404 / 409 / 422 with a message for the operator."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _utc(moment: datetime, timespec: str = "milliseconds") -> str:
    """As the tables store times: ISO-8601 in UTC (bookings without, the rest with milliseconds)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec)


class ConsoleService:
    """The console's reads and actions over the areas it is handed (``processor`` None: no requests)."""

    def __init__(
        self,
        core: Core,
        settings: ConsoleSettings,
        bus: LiveBus,
        calls: CallFeed,
        *,
        carrier: Any = None,
        end_live_call: Any = None,
        processor: Any = None,
    ) -> None:
        self.db: Database = core.db
        self.engine = core.engine
        self.settings = settings
        self.bus = bus
        self.calls = calls
        self.carrier = carrier
        self.end_live_call = end_live_call
        self.processor = processor
        self.tz = ZoneInfo(core.agent_settings.lisa_timezone)
        self._counters_task: asyncio.Task[None] | None = None
        self._demo: tuple[asyncio.Task[None], str] | None = None  # the demo call being placed, its request

    def today(self) -> date:
        return self.engine.clock.now().astimezone(self.tz).date()

    def _day_bounds(self, day: date, days: int = 1, timespec: str = "milliseconds") -> tuple[str, str]:
        """The first moment of ``day`` and of the day ``days`` later, in the business's timezone."""
        start = datetime.combine(day, time.min, self.tz)
        return _utc(start, timespec), _utc(start + timedelta(days=days), timespec)

    # --- counters -------------------------------------------------------------------------------------
    async def counters(self) -> dict[str, int]:
        start, end = self._day_bounds(self.today())
        booking_start, booking_end = self._day_bounds(self.today(), timespec="seconds")
        calls = await self.db.fetchone("SELECT COUNT(*) AS n FROM calls WHERE ended_at IS NULL")
        chats = await self.db.fetchone("SELECT COUNT(*) AS n FROM chat_sessions WHERE status = 'active'")
        by_status = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM requests GROUP BY status")
        counts = {r["status"]: int(r["n"]) for r in by_status}
        booked = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM requests WHERE status = 'booked' AND updated_at >= :s AND updated_at < :e",
            {"s": start, "e": end},
        )
        bookings = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM bookings WHERE start_at >= :s AND start_at < :e",
            {"s": booking_start, "e": booking_end},
        )
        return {
            "calls_in_progress": int(calls["n"]) if calls else 0,
            "chats_active": int(chats["n"]) if chats else 0,
            "requests_waiting": sum(counts.get(s, 0) for s in WAITING),
            "requests_calling": sum(counts.get(s, 0) for s in CALLING),
            "requests_booked_today": int(booked["n"]) if booked else 0,
            "bookings_today": int(bookings["n"]) if bookings else 0,
        }

    def on_event(self, event: dict[str, Any]) -> None:
        """Bus listener: after calls, requests or chats change, a fresh ``counters`` event (debounced)."""
        if event.get("kind") in ("counters", "resync", "call_live"):
            return
        if self._counters_task is None or self._counters_task.done():
            self._counters_task = asyncio.get_running_loop().create_task(self._publish_counters())

    async def _publish_counters(self) -> None:
        await asyncio.sleep(COUNTERS_DELAY_S)
        try:
            self.bus.publish("counters", {"counters": await self.counters()}, relay=False)
        except Exception:  # the next event publishes them again
            log.warning("console: counters could not be read", exc_info=True)

    async def stop(self) -> None:
        for task in (self._counters_task, self._demo[0] if self._demo else None):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    # --- calls ----------------------------------------------------------------------------------------
    async def call_list(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT call_sid, direction, from_masked, to_masked, request_id, language, started_at, ended_at, "
            "ended_by, reason, outcome FROM calls ORDER BY started_at DESC LIMIT :limit",
            {"limit": limit},
        )
        steps = self.calls.steps()
        out = []
        for row in rows:
            outcome = json.loads(row["outcome"] or "{}")
            out.append(
                {
                    **{k: row[k] for k in row if k != "outcome"},
                    "state": "ended" if row["ended_at"] else "in_progress",
                    "outcome": outcome.get("status"),
                    "step": steps.get(row["call_sid"]),
                }
            )
        return out

    async def call_detail(self, call_sid: str) -> dict[str, Any]:
        call = await CallStore(self.db).get(call_sid)
        if call is None:
            raise ActionError(404, f"unknown call {call_sid!r}")
        live = self.calls.live(call_sid)
        if live is not None:
            call["transcript"] = live["lines"]
            call["step"] = live["step"]
        recording = call.pop("recording", None)
        call["recording_url"] = (
            f"/console/api/calls/{call_sid}/recording" if self.recording_path(recording) else None
        )
        call["state"] = "ended" if call.get("ended_at") else "in_progress"
        return call

    async def latency_svg(self, call_sid: str) -> bytes:
        """The call's per-turn latency chart (matplotlib SVG, drawn in a thread off the event loop)."""
        call = await CallStore(self.db).get(call_sid)
        if call is None:
            raise ActionError(404, f"unknown call {call_sid!r}")
        rows = latency_chart.turn_rows(call.get("turns") or [])
        title = "Per turn: end of speech → STT → first token → first audio → sent (ms)"
        return await asyncio.to_thread(latency_chart.render, rows, title, "svg", 6.4)

    def recording_path(self, recording: str | None) -> Path | None:
        """The recording's file when LISA_RECORDING_DIR is set and it lies inside it."""
        if not recording or not self.settings.lisa_recording_dir:
            return None
        root = Path(self.settings.lisa_recording_dir).resolve()
        path = Path(recording).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None

    async def recording_of(self, call_sid: str) -> Path:
        row = await self.db.fetchone("SELECT recording FROM calls WHERE call_sid = :sid", {"sid": call_sid})
        if row is None:
            raise ActionError(404, f"unknown call {call_sid!r}")
        path = self.recording_path(row["recording"])
        if path is None:
            raise ActionError(404, "no recording for this call (LISA_RECORDING_DIR unset or file gone)")
        return path

    async def _running_call(self, call_sid: str) -> None:
        row = await self.db.fetchone("SELECT ended_at FROM calls WHERE call_sid = :sid", {"sid": call_sid})
        if row is None:
            raise ActionError(404, f"unknown call {call_sid!r}")
        if row["ended_at"]:
            raise ActionError(409, "the call has ended")

    async def hang_up(self, call_sid: str) -> dict[str, Any]:
        """End a running call: politely (Lisa's goodbye) when it runs here, else through the carrier."""
        await self._running_call(call_sid)
        if self.end_live_call is not None and self.end_live_call(call_sid, "ended by the operator"):
            return {"call_sid": call_sid, "action": "hang_up", "how": "goodbye"}
        carrier = self.carrier
        if carrier is None:
            raise ActionError(409, "no carrier to hang up with")
        await carrier.hangup(call_sid)
        return {"call_sid": call_sid, "action": "hang_up", "how": "carrier"}

    def transfer_number(self) -> str:
        business = getattr(self.engine, "business", None)
        return str(getattr(business, "transfer_number", "") or "")

    async def transfer(self, call_sid: str) -> dict[str, Any]:
        """Hand a running call to the business's number (``transfer_number`` of prompts/business.yaml)."""
        await self._running_call(call_sid)
        number = self.transfer_number()
        if not number:
            raise ActionError(409, "the business has no transfer_number")
        carrier = self.carrier
        if carrier is None:
            raise ActionError(409, "no carrier to transfer with")
        try:
            await carrier.transfer(call_sid, number)
        except Exception as exc:
            raise ActionError(409, f"the transfer failed: {type(exc).__name__}") from exc
        self.bus.publish(
            "call_event", {"call_sid": call_sid, "type": "transferred", "message": "by the operator"}
        )
        return {"call_sid": call_sid, "action": "transfer"}

    # --- requests -------------------------------------------------------------------------------------
    async def request_list(
        self, status: str | None = None, day: date | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        where: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if status:
            if status not in STATUSES:
                raise ActionError(422, f"status: one of {', '.join(STATUSES)}")
            where.append("status = :status")
            params["status"] = status
        if day:
            params["s"], params["e"] = self._day_bounds(day)
            where.append("created_at >= :s AND created_at < :e")
        sql = (
            "SELECT id, title, status, number_to_call, attempts, appointment, summary, call_sid, created_at, "
            "updated_at, language FROM requests"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created_at DESC LIMIT :limit"
        )
        rows = await self.db.fetchall(sql, params)
        return [{**r, "number_to_call": _mask(r["number_to_call"])} for r in rows]

    def _processor(self) -> Any:
        processor = self.processor
        if processor is None:
            raise ActionError(409, "outbound requests are not running")
        return processor

    async def _next_job(self, request_id: str) -> dict[str, Any] | None:
        return await self.db.fetchone(
            "SELECT id, due_at, attempt, claimed_by FROM request_jobs WHERE request_id = :id AND done_at IS NULL "
            "ORDER BY due_at LIMIT 1",
            {"id": request_id},
        )

    async def request_detail(self, request_id: str) -> dict[str, Any]:
        described = await self._processor().describe(request_id)
        if described is None:
            raise ActionError(404, f"unknown request {request_id!r}")
        calls = await self.db.fetchall(
            "SELECT call_sid, started_at, ended_at, ended_by, reason FROM calls WHERE request_id = :id "
            "ORDER BY started_at",
            {"id": request_id},
        )
        described["number_to_call"] = _mask(described.get("number_to_call"))
        described.pop("user_id", None)
        described["calls"] = calls
        return described

    async def cancel_request(self, request_id: str) -> dict[str, Any]:
        status, body = await self._processor().cancel(request_id)
        if status != 200:
            raise ActionError(status, body.get("detail", "cannot cancel"))
        return body

    async def call_now(self, request_id: str) -> dict[str, Any]:
        """Bring a waiting request's next call forward to now (only while the business is open)."""
        processor = self._processor()
        row = await processor.store.get(request_id)
        if row is None:
            raise ActionError(404, f"unknown request {request_id!r}")
        if row["status"] not in WAITING:
            raise ActionError(409, f"a {row['status']} request has no call waiting")
        now = processor.now()
        hours = processor.hours.for_request(row["number_to_call"], row.get("opening_hours"))
        if not hours.is_open(now):
            try:
                opening = hours.next_opening(now)
            except NeverOpen as exc:
                raise ActionError(409, f"outside business hours; {exc}") from None
            raise ActionError(409, f"outside business hours; the business opens {opening:%a %d.%m. %H:%M}")
        job = await self._next_job(request_id)
        if job is None or job["claimed_by"]:
            raise ActionError(409, "no call waiting for this request")
        await processor.store.reschedule_job(job["id"], now)
        await processor.store.update(
            request_id,
            {},
            [("scheduled", "Call brought forward by the operator")],
            unless_status=FINAL_STATUSES,
        )
        processor._wake.set()
        return {"request_id": request_id, "action": "call_now"}

    async def retry(self, request_id: str) -> dict[str, Any]:
        """Give a failed request one more call (now if the business is open, else at its opening)."""
        processor = self._processor()
        row = await processor.store.get(request_id)
        if row is None:
            raise ActionError(404, f"unknown request {request_id!r}")
        if row["status"] != "failed":
            raise ActionError(409, f"only a failed request can be retried (this one is {row['status']})")
        now = processor.now()
        hours = processor.hours.for_request(row["number_to_call"], row.get("opening_hours"))
        try:
            due = now if hours.is_open(now) else hours.next_opening(now)
        except NeverOpen as exc:
            raise ActionError(409, str(exc)) from None
        others = frozenset(STATUSES) - {"failed"}
        changed = await processor.store.update(
            request_id,
            {"status": "queued" if due == now else "outside_business_hours", "last_error": None},
            [("scheduled", "Retry requested by the operator")],
            unless_status=others,
        )
        if not changed:
            raise ActionError(409, "the request changed meanwhile")
        await processor.store.add_job(request_id, due, int(row["attempts"] or 0) + 1)
        processor._wake.set()
        return {"request_id": request_id, "action": "retry", "due_at": _utc(due)}

    @property
    def can_place_demo_call(self) -> bool:
        """A demo call needs the loopback carrier (it never dials a real number)."""
        return getattr(self.carrier, "name", "") == "loopback" and self.processor is not None

    async def demo_call(self) -> dict[str, Any]:
        """The demo's outbound request (seed 002's sample) with the scripted receptionist on the loopback
        carrier, under a new request id: the console shows it being called and booked. Answers at once (the
        receptionist's voice is synthesized meanwhile); one demo request at a time (409 while one is open)."""
        if not self.can_place_demo_call:
            raise ActionError(409, "demo calls need the loopback carrier (LISA_TELEPHONY=loopback)")
        if self._demo is not None:
            task, request_id = self._demo
            row = await self.processor.store.get(request_id)
            if not task.done() or (row is not None and row["status"] not in FINAL_STATUSES):
                raise ActionError(409, "a demo call is under way; wait until its request is final")
        import uuid

        request_id = str(uuid.uuid4())
        task = asyncio.get_running_loop().create_task(self._place_demo_call(request_id), name="console-demo")
        self._demo = (task, request_id)
        return {"status": "placing", "request_id": request_id}

    async def _place_demo_call(self, request_id: str) -> None:
        from api.cli.demo import RECEPTIONIST, REQUEST
        from api.requests.models import ProcessRequestBody, guess_language
        from simulation.scripted_party import ScriptedParty

        try:
            party = ScriptedParty(RECEPTIONIST, language="en", first_speaker="party")
            await party.prepare()
            self.carrier.register_party(REQUEST["number_to_call"], party)
            body = ProcessRequestBody.model_validate({**REQUEST, "request_id": request_id})
            language = guess_language(body.title, body.description, body.preferred_time, hint=body.language)
            await self.processor.submit(body, language)
        except Exception:  # the console shows no request; the log says why
            log.exception("console: the demo call could not be placed")

    # --- bookings -------------------------------------------------------------------------------------
    async def bookings(self, day: date, days: int) -> list[dict[str, Any]]:
        start, end = self._day_bounds(day, days, timespec="seconds")
        rows = await self.db.fetchall(
            "SELECT id, start_at, end_at, name, service, conversation_id, phone FROM bookings "
            "WHERE start_at >= :s AND start_at < :e ORDER BY start_at",
            {"s": start, "e": end},
        )
        booked = [{**r, "phone": _mask(r["phone"]), "kind": "calendar"} for r in rows]
        return sorted(booked + await self._request_appointments(day, days), key=lambda b: b["start_at"])

    async def _request_appointments(self, day: date, days: int) -> list[dict[str, Any]]:
        """Appointments Lisa booked on outbound calls (``requests.appointment``) in the range."""
        first = datetime.combine(day, time.min, self.tz)
        last = first + timedelta(days=days)
        rows = await self.db.fetchall(
            "SELECT id, title, appointment, number_to_call FROM requests "
            "WHERE status = 'booked' AND appointment IS NOT NULL"
        )
        found = []
        for r in rows:
            try:
                at = datetime.fromisoformat(r["appointment"])
            except (TypeError, ValueError):
                continue
            at = at if at.tzinfo else at.replace(tzinfo=self.tz)
            if first <= at < last:
                found.append(
                    {
                        "id": r["id"],
                        "start_at": _utc(at, "seconds"),
                        "end_at": None,
                        "name": r["title"],
                        "service": "outbound request",
                        "conversation_id": None,
                        "phone": _mask(r["number_to_call"]),
                        "kind": "request",
                        "request_id": r["id"],
                    }
                )
        return found


def _mask(number: str | None) -> str | None:
    from telephony.phone_numbers import mask_phone

    return mask_phone(number) if number else number
