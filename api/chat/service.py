"""Text chat with Lisa: sessions, turns, human takeover and idle expiry, on top of the dialogue engine.

A session is one engine conversation (mode ``chat``) kept in the database after every turn, so a restarted
server continues where it stopped. Turns of one session run one after the other (a lock per session);
different sessions run in parallel. While a manager has taken a chat over, Lisa stays silent there: the
user's messages are stored and shown to the managers, and Lisa answers again once the chat is released.
Taking over is explicit (``takeover``) or implicit: a manager's first message into a chat takes it over.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from agent.conversation import Conversation, Message, Mode, Status
from agent.engine import Engine
from api.auth import ANONYMOUS, Principal
from api.chat.hub import ChatHub
from api.chat.staff_names import reserved_name
from api.chat.store import ACTIVE, ENDED, ChatMessage, SessionRecord, SessionStore, wire_time
from api.settings import ApiSettings
from api.storage import Database

log = logging.getLogger(__name__)

NOTES = {
    "ended": {"en": "The chat has ended.", "de": "Der Chat wurde beendet."},
    "takeover": {
        "en": "A team member has joined the chat.",
        "de": "Ein Mitarbeiter ist dem Chat beigetreten.",
    },
    "released": {"en": "Lisa is back in the chat.", "de": "Lisa ist wieder im Chat."},
}
_CHAT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class ChatError(Exception):
    """A request the chat cannot carry out; ``status_code`` is the HTTP answer."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class SessionNotFound(ChatError):
    status_code = 404


class SessionEnded(ChatError):
    status_code = 409


class NotYourSession(ChatError):
    status_code = 403


class MessageTooLong(ChatError):
    status_code = 413


class InvalidMessage(ChatError):
    status_code = 422


class LisaUnavailable(ChatError):
    status_code = 503


@dataclass
class TurnResult:
    session: SessionRecord
    message: ChatMessage  # what the user (or manager) wrote
    reply: ChatMessage | None  # Lisa's answer; None while a manager has the chat


def valid_chat_id(chat_id: str) -> bool:
    return bool(_CHAT_ID.match(chat_id))


def session_summary(s: SessionRecord) -> dict[str, Any]:
    """A session as listed to managers and admins."""
    return {
        "session_id": s.id,
        "status": s.status,
        "channel": s.channel,
        "language": s.language,
        "user_id": s.user_id,
        "created_at": wire_time(s.created_at),
        "last_activity": wire_time(s.last_activity),
        "ended_at": wire_time(s.ended_at) if s.ended_at else None,
        "end_reason": s.end_reason,
        "taken_over_by": s.taken_over_by,
        "outcome": s.outcome,
    }


def _accessible(session: SessionRecord | None, session_id: str, principal: Principal) -> SessionRecord:
    """``session`` when it exists and ``principal`` may see it (else 404 / 403)."""
    if session is None:
        raise SessionNotFound(f"session {session_id} not found")
    if not principal.may_access(session.user_id):
        raise NotYourSession("this session belongs to another user")
    return session


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class _SessionLocks:
    """One asyncio lock per session id, forgotten when nobody holds or waits for it. With ``across`` (a
    PostgreSQL database shared by several worker processes) the holder also takes a transaction-scoped advisory
    lock on the id, so turns of one session run one after the other in every process."""

    # each held advisory lock keeps a pooled connection in a transaction: at most this many at once, so the
    # turns themselves always find a connection (the pool has 10 + 20 overflow)
    ACROSS_AT_ONCE = 8

    def __init__(self, across: Database | None = None) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._across = across
        self._across_slots = asyncio.Semaphore(self.ACROSS_AT_ONCE)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self._across is None:
                    yield
                else:  # released with the transaction, whatever happens inside
                    async with self._across_slots, self._across.transaction() as conn:
                        await conn.execute(_ADVISORY_LOCK, {"key": f"lisa-chat:{key}"})
                        yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class ChatService:
    """Sessions and turns of the text chat (REST sessions and /ws chats are the same sessions)."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        settings: ApiSettings,
        default_language: str = "en",
        hub: ChatHub | None = None,
    ) -> None:
        self.store = SessionStore(db)
        self.engine = engine
        self.settings = settings
        self.default_language = default_language
        self.hub = hub or ChatHub()
        # several worker processes on one PostgreSQL database: turns locked and events relayed across them
        self.spans_workers = settings.lisa_workers > 1 and db.dialect == "postgresql"
        self.locks = _SessionLocks(db if self.spans_workers else None)
        self._sweeper: asyncio.Task | None = None
        self.started = time.monotonic()

    def now(self) -> datetime:
        """Lisa's clock (tests inject one, so idle expiry is testable)."""
        return self.engine.clock.now()

    # --- publishing -----------------------------------------------------------------------------------

    def _publish(self, message: ChatMessage) -> None:
        wire = message.as_wire()
        self.hub.to_chat(message.session_id, wire)
        self.hub.to_managers({"event": "message", "chat_id": message.session_id, "message": wire})

    def _publish_session(self, event: str, session: SessionRecord, **extra: Any) -> None:
        self.hub.to_managers(
            {"event": event, "chat_id": session.id, "session": session_summary(session), **extra}
        )

    def _system(self, session: SessionRecord, note: str, **meta: Any) -> ChatMessage:
        """A system line in the chat's language (``note`` is a key of NOTES)."""
        texts = NOTES[note]
        return ChatMessage(
            session.id, "system", texts.get(session.language, texts["en"]), self.now(), metadata=meta
        )

    # --- loading ------------------------------------------------------------------------------------------

    async def _load(self, session_id: str, principal: Principal) -> SessionRecord:
        return _accessible(await self.store.get(session_id), session_id, principal)

    async def get(self, session_id: str, principal: Principal = ANONYMOUS) -> SessionRecord:
        """The session (its idle expiry applied first)."""
        session = await self._load(session_id, principal)
        if session.active and self._idle(session):
            async with self.locks.hold(session_id):
                session = await self._load(session_id, principal)
                await self._expire_if_idle(session)
        return session

    async def with_history(
        self, session_id: str, principal: Principal = ANONYMOUS
    ) -> tuple[SessionRecord, list[ChatMessage]]:
        """:meth:`get` and the session's messages, read together (:meth:`history` would read the session
        again); a session due for its idle expiry goes through :meth:`get`."""
        found, messages = await self.store.get_with_messages(session_id)
        session = _accessible(found, session_id, principal)
        if session.active and self._idle(session):
            return await self.get(session_id, principal), await self.store.messages(session_id)
        return session, messages

    async def history(
        self, session_id: str, principal: Principal = ANONYMOUS, limit: int | None = None
    ) -> list[ChatMessage]:
        await self._load(session_id, principal)
        return await self.store.messages(session_id, limit)

    async def list_sessions(
        self, principal: Principal = ANONYMOUS, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[SessionRecord]:
        user = None if principal.is_admin else principal.user_id
        return await self.store.list_sessions(user_id=user, status=status, limit=limit, offset=offset)

    # --- session life ---------------------------------------------------------------------------------

    async def create(
        self,
        language: str | None = None,
        channel: str = "api",
        metadata: dict[str, Any] | None = None,
        principal: Principal = ANONYMOUS,
        session_id: str | None = None,
    ) -> tuple[SessionRecord, ChatMessage | None]:
        """A new session and Lisa's greeting."""
        session_id = session_id or str(uuid.uuid4())
        conv = self.engine.new_conversation(
            Mode.CHAT, language or self.default_language, conversation_id=session_id
        )
        greeting_text = await self.engine.reply(conv, None)
        now = self.now()
        session = SessionRecord(
            id=session_id,
            user_id=principal.user_id,
            channel=channel,
            language=str(conv.language),
            status=ACTIVE,
            created_at=now,
            last_activity=now,
            metadata=metadata or {},
            outcome=conv.outcome.as_dict(),
            conversation=conv,
        )
        greeting = ChatMessage(session_id, "lisa", greeting_text, now) if greeting_text else None
        await self.store.create(session, [greeting] if greeting else [])
        self._publish_session("session_created", session)
        if greeting:
            self._publish(greeting)
        return session, greeting

    async def open_chat(
        self, chat_id: str | None, principal: Principal, language: str | None = None
    ) -> tuple[SessionRecord, ChatMessage | None]:
        """The chat of a /ws connection: an existing session (its owner's, with auth on), else a new one with
        greeting. A new chat always gets an id made here: an id a client picks could be squatted by someone
        who guessed it first, so an unknown ``chat_id`` starts a new chat under a new id (in every message)."""
        if chat_id is not None and not valid_chat_id(chat_id):
            raise InvalidMessage("chat_id may only hold letters, digits and _.:- (at most 128)")
        if chat_id is not None and await self.store.get(chat_id, with_conversation=False) is not None:
            return await self.get(chat_id, principal), None
        return await self.create(language, channel="ws", principal=principal)

    def _idle(self, session: SessionRecord, now: datetime | None = None) -> bool:
        limit = timedelta(seconds=self.settings.session_idle_timeout_s)
        return (now or self.now()) - session.last_activity >= limit

    async def _expire_if_idle(self, session: SessionRecord) -> bool:
        """End an active session that has been idle too long (history kept). Caller holds the lock."""
        if not session.active or not self._idle(session):
            return False
        await self._end(session, "idle_timeout")
        return True

    async def _end(self, session: SessionRecord, reason: str) -> None:
        conv = session.conversation
        assert conv is not None
        if conv.outcome.status is Status.OPEN:
            conv.outcome.status = Status.ABANDONED
        session.status = ENDED
        session.ended_at = self.now()
        session.end_reason = reason
        session.taken_over_by = None
        session.outcome = conv.outcome.as_dict()
        note = self._system(session, "ended", reason=reason)
        await self.store.save(session, [note])
        self._publish(note)
        self._publish_session("session_ended", session)
        log.info("chat session %s ended (%s)", session.id, reason)

    async def end(
        self, session_id: str, principal: Principal = ANONYMOUS, reason: str = "ended_by_user"
    ) -> SessionRecord:
        async with self.locks.hold(session_id):
            session = await self._load(session_id, principal)
            if not session.active:
                raise SessionEnded(f"session {session_id} has already ended")
            await self._end(session, reason)
            return session

    async def sweep_idle(self) -> list[str]:
        """End every session idle for longer than ``session_idle_timeout_s``; returns their ids."""
        cutoff = self.now() - timedelta(seconds=self.settings.session_idle_timeout_s)
        ended = []
        for session_id in await self.store.idle_since(cutoff + timedelta(milliseconds=1)):
            async with self.locks.hold(session_id):
                session = await self.store.get(session_id)
                if session and await self._expire_if_idle(session):
                    ended.append(session_id)
        return ended

    async def _sweep_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sweep_idle()
            except Exception:  # the sweeper must keep running
                log.exception("idle sweep failed")

    def start(self, interval_s: float) -> None:
        if self._sweeper is None and interval_s > 0:
            self._sweeper = asyncio.create_task(self._sweep_forever(interval_s), name="chat-idle-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.hub.close_all()

    # --- turns -------------------------------------------------------------------------------------------

    def _check_text(self, text: str) -> str:
        if not isinstance(text, str):
            raise InvalidMessage("message must be a string")
        text = text.strip()
        if not text:
            raise InvalidMessage("message must not be empty")
        if len(text) > self.settings.max_message_chars:
            raise MessageTooLong(
                f"message is {len(text)} characters long; at most {self.settings.max_message_chars} are allowed"
            )
        return text

    async def _active(self, session_id: str, principal: Principal) -> SessionRecord:
        session = await self._load(session_id, principal)
        await self._expire_if_idle(session)
        if not session.active:
            raise SessionEnded(f"session {session_id} has ended ({session.end_reason or 'ended'})")
        return session

    async def send(
        self, session_id: str, text: str, principal: Principal = ANONYMOUS, user_name: str | None = None
    ) -> TurnResult:
        """The user writes ``text``; Lisa answers unless a manager has the chat."""
        text = self._check_text(text)
        staff = self.settings.chat_reserved_names.split(",")
        if reserved_name(user_name, self.engine.business.name, staff):
            raise InvalidMessage(f"userName {user_name!r} is reserved for Lisa and the staff; choose another")
        async with self.locks.hold(session_id):
            session = await self._active(session_id, principal)
            conv = session.conversation
            assert conv is not None
            message = ChatMessage(
                session_id, "user", text, self.now(), user_id=principal.user_id, user_name=user_name
            )
            self._publish(message)
            events_before = len(conv.events)
            reply: ChatMessage | None = None
            if session.taken_over_by:
                conv.history.append(Message("user", text, message.created_at))
            else:
                try:
                    reply_text = await self.engine.reply(conv, text)
                except Exception as exc:
                    log.exception("engine failed in chat session %s", session_id)
                    session.last_activity = message.created_at
                    await self.store.save(session, [message])
                    raise LisaUnavailable("Lisa could not answer just now; your message was kept") from exc
                if reply_text:
                    reply = ChatMessage(session_id, "lisa", reply_text, self.now())
            session.last_activity = message.created_at
            session.outcome = conv.outcome.as_dict()
            session.language = str(conv.language)  # a chat asked to go on in the other language
            await self.store.save(session, [message] + ([reply] if reply else []))
            if reply:
                self._publish(reply)
            self._publish_events(session, conv, events_before)
            if conv.end_requested and session.active:
                await self._end(session, "completed")
            return TurnResult(session, message, reply)

    def _publish_events(self, session: SessionRecord, conv: Conversation, since: int) -> None:
        for event in conv.events[since:]:
            self.hub.to_managers(
                {
                    "event": "conversation_event",
                    "chat_id": session.id,
                    "type": event.type,
                    "message": event.message,
                    "at": wire_time(event.at),
                    "outcome": session.outcome,
                }
            )

    # --- managers ----------------------------------------------------------------------------------------

    async def takeover(self, session_id: str, manager: str = "manager") -> SessionRecord:
        async with self.locks.hold(session_id):
            session = await self._active(session_id, ANONYMOUS)
            if session.taken_over_by is None:
                await self._set_takeover(session, manager)
            return session

    async def _set_takeover(self, session: SessionRecord, manager: str | None) -> None:
        session.taken_over_by = manager
        if manager:
            note = self._system(session, "takeover", takeover=True, manager=manager)
        else:
            note = self._system(session, "released", takeover=False)
        await self.store.save(session, [note])
        self._publish(note)
        self._publish_session("takeover" if manager else "released", session)

    async def release(self, session_id: str) -> SessionRecord:
        async with self.locks.hold(session_id):
            session = await self._active(session_id, ANONYMOUS)
            if session.taken_over_by is not None:
                await self._set_takeover(session, None)
            return session

    async def manager_send(self, session_id: str, text: str, manager: str = "manager") -> TurnResult:
        """A manager writes into a chat; the first manager message takes the chat over."""
        text = self._check_text(text)
        async with self.locks.hold(session_id):
            session = await self._active(session_id, ANONYMOUS)
            if session.taken_over_by is None:
                await self._set_takeover(session, manager)
            conv = session.conversation
            assert conv is not None
            message = ChatMessage(session_id, "manager", text, self.now(), user_id=manager, user_name=manager)
            conv.history.append(Message("manager", text, message.created_at, {"manager": manager}))
            session.last_activity = message.created_at
            await self.store.save(session, [message])
            self._publish(message)
            return TurnResult(session, message, None)
