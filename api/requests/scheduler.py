"""Durable scheduling of outbound calls: claim due jobs, place calls, watch their duration.

A mixin of :class:`~api.requests.processor.RequestProcessor` (it uses the processor's store, settings, clock
and :meth:`finish_attempt`). Every instance polls ``request_jobs``; a job is taken with an atomic conditional
``UPDATE`` (:meth:`RequestStore.claim`), so two instances on one database never place the same call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from api.requests.business_hours import BusinessHours, NeverOpen
from api.requests.models import FINAL_STATUSES, display_phone
from api.requests.settings import RequestSettings
from api.requests.store import RequestStore
from api.requests.summary import scheduled_message
from telephony.phone_numbers import mask_phone

if TYPE_CHECKING:
    from api.requests.dial_policy import DialPolicy
    from telephony.carrier import Carrier

log = logging.getLogger(__name__)

# a call placed under a claim is hung up by its instance at OUTBOUND_MAX_CALL_DURATION_S; the hang-up reaches
# the carrier within this margin (its timeout), after which the claim may be taken over
CLAIM_MARGIN_S = 10.0


@dataclass
class ActiveCall:
    """A call this instance placed and still watches (for the concurrency limit and the duration limit)."""

    request_id: str
    job_id: str
    call_sid: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class CallScheduler:
    """The scheduler half of the request processor (see the module docstring)."""

    carrier: Carrier | None
    settings: RequestSettings
    store: RequestStore
    hours: BusinessHours
    owner: str
    active: dict[str, ActiveCall]
    _wake: asyncio.Event
    _tasks: set[asyncio.Task[None]]
    _loop_task: asyncio.Task[None] | None
    # the processor's methods this half calls
    now: Callable[[], datetime]
    _changed: Callable[[], None]
    dial_policy: Callable[[], DialPolicy]
    call_language: Callable[[dict[str, Any]], str]
    finish_attempt: Callable[..., Awaitable[bool]]  # record how the attempt ended, exactly once
    _retry: Callable[[dict[str, Any], str, str, list[tuple[str, str]]], Awaitable[None]]  # retry or give up

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self.run(), name="request-scheduler")

    async def stop(self) -> None:
        tasks = [t for t in [self._loop_task, *self._tasks] if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the scheduler survives database hiccups
                log.exception("request scheduler tick failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.scheduler_poll_s)

    async def tick(self) -> int:
        """Claim and start the due jobs this instance has room for; returns how many calls were started."""
        room = self.settings.outbound_max_concurrent_calls - len(self.active)
        if room <= 0:
            return 0
        now = self.now()
        stale = now - timedelta(seconds=self.claim_hold_s())
        started = 0
        for job in await self.store.due_jobs(now, stale, limit=room * 2):
            if started >= room:
                break
            if not await self.store.claim(job, self.owner, now, stale):
                continue  # another instance was faster
            if await self._start_job(job):
                started += 1
        return started

    def claim_hold_s(self) -> float:
        """How old a claim must be before another instance takes the job over: the claim timeout, but never
        less than the longest a call placed under it may still be live (the maximum call duration and
        ``CLAIM_MARGIN_S`` for its hang-up), so a takeover never places a second call beside a live one."""
        longest = self.settings.outbound_max_call_duration_s + CLAIM_MARGIN_S
        return max(self.settings.scheduler_claim_timeout_s, longest)

    async def _start_job(self, job: dict[str, Any]) -> bool:
        request_id = job["request_id"]
        row = await self.store.get(request_id)
        if not row or row["status"] in FINAL_STATUSES:
            await self.store.finish_job(job["id"], "skipped")
            return False
        if job.get("claimed_by") and int(row["attempts"] or 0) >= int(job.get("attempt") or 1):
            await self._take_over(job, row)
            return False
        now = self.now()
        # the callee's local hours, the business's own when the request stated them
        hours = self.hours.for_request(row["number_to_call"], row.get("opening_hours"))
        if not hours.is_open(now):  # e.g. a retry that came due after closing time
            try:
                opening = hours.next_opening(now)
            except NeverOpen as exc:  # e.g. hours of a year that has ended
                text = f"opening_hours: {exc}"
                await self.store.finish_job(job["id"], "refused")
                fields = {"status": "failed", "last_error": text, "summary": text}
                await self.store.update(request_id, fields, [("error", text)], unless_status=FINAL_STATUSES)
                self._changed()
                return False
            await self.store.reschedule_job(job["id"], opening)
            await self.store.update(
                request_id,
                {"status": "outside_business_hours"},
                [("scheduled", scheduled_message(opening, row["language"], hours.tz.key))],
                unless_status=FINAL_STATUSES,
            )
            self._changed()
            return False
        attempt = int(row["attempts"] or 0) + 1
        number = row["number_to_call"]
        if refusal := self.dial_policy().refusal(number):  # checked again at dial time: the policy may change
            text = f"number_to_call: {refusal}"
            await self.store.finish_job(job["id"], "refused")
            fields = {"status": "failed", "last_error": text, "summary": text}
            await self.store.update(request_id, fields, [("error", text)], unless_status=FINAL_STATUSES)
            log.warning("request %s: not dialled (%s)", request_id, refusal)
            self._changed()
            return False
        ok = await self.store.update(
            request_id,
            {"status": "calling", "attempts": attempt, "call_sid": None},
            [
                (
                    "call_started",
                    f"Voice AI started calling {display_phone(number)} "
                    f"(attempt {attempt} of {self.settings.outbound_max_attempts})",
                )
            ],
            unless_status=FINAL_STATUSES,
        )
        if not ok:
            await self.store.finish_job(job["id"], "skipped")
            return False
        self._changed()
        active = ActiveCall(request_id=request_id, job_id=job["id"])
        self.active[request_id] = active
        self._spawn(self._place_and_watch(active, row))
        return True

    async def _take_over(self, job: dict[str, Any], row: dict[str, Any]) -> None:
        """The job's instance died during its attempt (its claim went stale): that attempt counts, ended by
        the app stopping; the request is retried (a new job, after the retry delay) or, out of attempts,
        failed — never left ``calling``/``in_progress``."""
        if not await self.store.finish_job(job["id"], "retry:app_stopped"):
            return
        log.warning(
            "request %s: taken over from %s, which stopped during attempt %s (call %s)",
            row["id"],
            job["claimed_by"],
            row["attempts"],
            job.get("call_sid") or "not placed",
        )
        await self._retry(row, "app_stopped", "", [])
        self._changed()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _place_and_watch(self, active: ActiveCall, row: dict[str, Any]) -> None:
        request_id = active.request_id
        try:
            carrier = self.carrier
            if carrier is None:
                raise RuntimeError("no telephony carrier is configured")
            parameters = {
                "direction": "outbound",
                "request_id": request_id,
                "to": row["number_to_call"],
                "language": self.call_language(row),
            }
            try:
                call_sid = await carrier.place_call(row["number_to_call"], parameters)
            except Exception as exc:  # reported as an event, retried later
                log.warning("placing call for request %s failed: %s", request_id, type(exc).__name__)
                await self.finish_attempt(request_id, None, "retry", "carrier_error", detail=str(exc)[:200])
                return
            active.call_sid = call_sid
            await self.store.set_job_call_sid(active.job_id, call_sid)
            await self.store.update(request_id, {"call_sid": call_sid}, unless_status=FINAL_STATUSES)
            log.info(
                "request %s: call %s placed to %s", request_id, call_sid, mask_phone(row["number_to_call"])
            )
            try:
                await asyncio.wait_for(active.finished.wait(), self.settings.outbound_max_call_duration_s)
            except TimeoutError:
                log.warning("request %s: call %s exceeded the maximum duration", request_id, call_sid)
                if await self.finish_attempt(request_id, call_sid, "retry", "timeout"):
                    try:
                        await carrier.hangup(call_sid)
                    except Exception:
                        log.exception("hangup after timeout failed")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one request's failure never stops the others
            log.exception("request %s: call handling failed", request_id)
            with contextlib.suppress(Exception):
                await self.store.add_event(
                    request_id, "error", f"Internal error while calling: {type(exc).__name__}"
                )
            await self.finish_attempt(request_id, None, "retry", "no_result")
        finally:
            if self.active.get(request_id) is active:
                del self.active[request_id]
            self._wake.set()
