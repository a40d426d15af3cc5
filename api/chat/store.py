"""Chat sessions and their messages in the database (tables of migration 0003). Lisa's one-to-one chats are
the rows of ``kind`` 'lisa'; the team chat's direct and group chats (api/team_chat, migration 0010) share the
tables but are never seen here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.conversation import Conversation
from agent.conversation_codec import dumps, event_list, loads, stored_events
from api.storage.db import Database, Row, Step

ACTIVE = "active"
ENDED = "ended"


def to_utc_text(moment: datetime) -> str:
    """Stored timestamps: ISO-8601 in UTC with milliseconds, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def wire_time(moment: datetime) -> str:
    """Timestamps on the wire, as in seed 004: ``2024-01-01T12:00:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ChatMessage:
    """One line of a chat as the clients see it (seed 004 message shape)."""

    session_id: str
    sender: str  # "user" | "lisa" | "manager" | "system"
    content: str
    created_at: datetime
    user_id: str | None = None
    user_name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0

    @property
    def type(self) -> str:
        return {"lisa": "ai", "system": "system"}.get(self.sender, "text")

    def as_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "chatId": self.session_id,
            "userId": self.user_id or self.sender,
            "userName": self.user_name or {"lisa": "Lisa", "manager": "Manager"}.get(self.sender, ""),
            "content": self.content,
            "type": self.type,
            "sender": self.sender,
            "createdAt": wire_time(self.created_at),
        }
        if self.metadata:
            data["metadata"] = self.metadata
        return data


@dataclass
class SessionRecord:
    id: str
    channel: str
    language: str
    status: str
    created_at: datetime
    last_activity: datetime
    user_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] = field(default_factory=dict)
    taken_over_by: str | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    conversation: Conversation | None = None  # loaded on demand (`get`)
    stored_events: list[dict[str, str]] | None = (
        None  # its events, when read without it (`get_with_messages`)
    )

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def events(self) -> list[dict[str, str]]:
        """The conversation's events as JSON values (``type``, ``message``, ``at``), oldest first."""
        if self.conversation is not None:
            return event_list(self.conversation)
        return self.stored_events or []


def _record(row: Row, conversation: Conversation | None) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        user_id=row["user_id"],
        channel=row["channel"],
        language=row["language"],
        status=row["status"],
        metadata=json.loads(row["metadata"] or "{}"),
        outcome=json.loads(row["outcome"] or "{}"),
        taken_over_by=row["taken_over_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        last_activity=datetime.fromisoformat(row["last_activity"]),
        ended_at=datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None,
        end_reason=row["end_reason"],
        conversation=conversation,
    )


def message_of(row: Row) -> ChatMessage:
    """A ``chat_messages`` row as a message (Lisa's chats and team chats share the table)."""
    return ChatMessage(
        id=row["id"],
        session_id=row["session_id"],
        seq=row["seq"],
        sender=row["sender"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        content=row["content"],
        created_at=datetime.fromisoformat(row["created_at"]),
        metadata=json.loads(row["metadata"] or "{}"),
    )


def _messages_of_json(session_id: str, text: str | None) -> list[ChatMessage]:
    """The messages of a page's ``messages_json`` (see ``_GET_PAGE``; None: PostgreSQL's empty aggregate)."""
    items: list[list[Any]] = json.loads(text) if text else []
    items.sort(key=lambda item: item[1])  # by seq: a no-op on SQLite's ordered subquery, but guaranteed
    return [
        message_of({"session_id": session_id, **dict(zip(_MESSAGE_COLUMNS, item, strict=True))})
        for item in items
    ]


async def last_messages(db: Database, chat_ids: list[str]) -> dict[str, ChatMessage]:
    """The latest message of each of the given chats (Lisa's sessions or team chats), by chat id."""
    if not chat_ids:
        return {}
    names = {f"s{i}": cid for i, cid in enumerate(chat_ids)}
    rows = await db.fetchall(
        "SELECT m.* FROM chat_messages m JOIN (SELECT session_id, MAX(seq) AS seq FROM chat_messages"
        f" WHERE session_id IN ({', '.join(':' + n for n in names)}) GROUP BY session_id) last"
        " ON m.session_id = last.session_id AND m.seq = last.seq",
        names,
    )
    return {r["session_id"]: message_of(r) for r in rows}


_COLUMNS = (
    "id", "user_id", "channel", "language", "status", "metadata", "conversation", "outcome_status", "outcome",
    "taken_over_by", "created_at", "last_activity", "ended_at", "end_reason", "revision",
)  # fmt: skip
_INSERT_SESSION = (
    f"INSERT INTO chat_sessions ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)
_UPDATE_SESSION = (
    "UPDATE chat_sessions SET "
    + ", ".join(f"{c} = :{c}" for c in _COLUMNS if c not in ("id", "created_at"))
    + " WHERE id = :id"
)
_INSERT_MESSAGE = (
    "INSERT INTO chat_messages (id, session_id, seq, sender, user_id, user_name, content, created_at, metadata)"
    " VALUES (:id, :sid, (SELECT COALESCE(MAX(seq), 0) + 1 FROM chat_messages WHERE session_id = :sid),"
    " :sender, :uid, :uname, :content, :at, :meta)"
)
_GET_SESSION = "SELECT * FROM chat_sessions WHERE id = :id AND kind = 'lisa'"
_MESSAGES = "SELECT * FROM chat_messages WHERE session_id = :id ORDER BY seq"
# what lists and summaries read: all but the (large) conversation, outcome_status (a copy of outcome["status"])
# and the revision
_SUMMARY_COLUMNS = ", ".join(c for c in _COLUMNS if c not in ("conversation", "outcome_status", "revision"))
LIVE_CONVERSATIONS = 1000  # conversations kept decoded between turns, the most recently written
_GET_SUMMARY = f"SELECT {_SUMMARY_COLUMNS} FROM chat_sessions WHERE id = :id AND kind = 'lisa'"
# a session's page in one statement (one round trip): its row and, in one column, its messages as a JSON array
# of [id, seq, sender, user_id, user_name, content, created_at, metadata] (the row's large conversation once,
# not repeated as a join would); SQLite before 3.44 has no ORDER BY in an aggregate, so its order is the
# ordered subquery's (and sorted again when read, to be sure)
_MESSAGE_COLUMNS = ("id", "seq", "sender", "user_id", "user_name", "content", "created_at", "metadata")
_MESSAGE_FIELDS = ", ".join(_MESSAGE_COLUMNS)
_GET_PAGE = {
    "sqlite": "SELECT s.*, (SELECT json_group_array(json_array(" + _MESSAGE_FIELDS + "))"
    " FROM (SELECT * FROM chat_messages WHERE session_id = s.id ORDER BY seq)) AS messages_json"
    " FROM chat_sessions s WHERE s.id = :id AND s.kind = 'lisa'",
    "postgresql": "SELECT s.*, (SELECT json_agg(json_build_array(" + _MESSAGE_FIELDS + ") ORDER BY seq)::text"
    " FROM chat_messages WHERE session_id = s.id) AS messages_json"
    " FROM chat_sessions s WHERE s.id = :id AND s.kind = 'lisa'",
}


class SessionStore:
    """Repository of chat sessions: each write of a turn (session state + its new messages) is one transaction.

    The conversation of a session this store wrote last is kept decoded (up to ``LIVE_CONVERSATIONS``), with the
    revision token written with it: the next turn takes it instead of decoding the stored JSON (~0.1 ms at 25
    turns, growing with the chat) when the row still holds that token, i.e. no other process wrote since. A turn
    takes the object out while it changes it and it is kept again only once its write committed, so a failed
    turn leaves nothing half-changed behind."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # SQLite has one writer at a time; queueing our writes here is much faster than its busy-wait retries
        self._write_lock = asyncio.Lock() if db.dialect == "sqlite" else contextlib.nullcontext()
        self._live: OrderedDict[str, tuple[int, Conversation]] = OrderedDict()

    def _take_live(self, row: Row) -> Conversation | None:
        """The kept conversation of ``row``'s session, taken out, when it is the one stored (else None)."""
        kept = self._live.pop(row["id"], None)
        return kept[1] if kept is not None and kept[0] == row["revision"] else None

    def _keep_live(self, session_id: str, revision: int, conversation: Conversation) -> None:
        self._live[session_id] = (revision, conversation)
        self._live.move_to_end(session_id)
        while len(self._live) > LIVE_CONVERSATIONS:
            self._live.popitem(last=False)

    def _session_params(self, s: SessionRecord) -> dict[str, Any]:
        assert s.conversation is not None, "a session is written together with its conversation"
        return {
            "id": s.id,
            "user_id": s.user_id,
            "channel": s.channel,
            "language": s.language,
            "status": s.status,
            "metadata": json.dumps(s.metadata, ensure_ascii=False),
            "conversation": dumps(s.conversation),
            "outcome_status": s.outcome.get("status", "open"),
            "outcome": json.dumps(s.outcome, ensure_ascii=False),
            "taken_over_by": s.taken_over_by,
            "created_at": to_utc_text(s.created_at),
            "last_activity": to_utc_text(s.last_activity),
            "ended_at": to_utc_text(s.ended_at) if s.ended_at else None,
            "end_reason": s.end_reason,
            "revision": secrets.randbits(62),  # another process writing the session writes another one
        }

    @staticmethod
    def _message_rows(session_id: str, messages: list[ChatMessage]) -> list[dict[str, Any]]:
        return [
            {
                "id": m.id,
                "sid": session_id,
                "sender": m.sender,
                "uid": m.user_id,
                "uname": m.user_name,
                "content": m.content,
                "at": to_utc_text(m.created_at),
                "meta": json.dumps(m.metadata, ensure_ascii=False),
            }
            for m in messages
        ]

    async def create(self, session: SessionRecord, messages: list[ChatMessage]) -> None:
        """Insert a new session with its first messages (one transaction)."""
        await self._write(_INSERT_SESSION, session, messages)

    async def save(self, session: SessionRecord, messages: list[ChatMessage] | None = None) -> None:
        """Write the session's state and append its new messages (one transaction)."""
        await self._write(_UPDATE_SESSION, session, messages or [])

    async def _write(self, sql: str, session: SessionRecord, messages: list[ChatMessage]) -> None:
        """The session's row and its new messages (numbered after its last one) in one transaction."""
        params = self._session_params(session)
        self._live.pop(session.id, None)  # what is kept is this very object or older: the write decides
        steps: list[Step] = [(sql, params)]
        if messages:
            steps.append((_INSERT_MESSAGE, self._message_rows(session.id, messages)))
        async with self._write_lock:
            await self.db.write(steps)
        assert session.conversation is not None
        self._keep_live(session.id, params["revision"], session.conversation)

    async def get(self, session_id: str, with_conversation: bool = True) -> SessionRecord | None:
        """The session; with its conversation (the caller's to change and :meth:`save`) unless told not to."""
        if not with_conversation:
            row = await self.db.fetchone(_GET_SUMMARY, {"id": session_id})
            return _record(row, None) if row else None
        row = await self.db.fetchone(_GET_SESSION, {"id": session_id})
        if row is None:
            return None
        kept = self._take_live(row)
        return _record(row, kept if kept is not None else loads(row["conversation"]))

    async def get_with_messages(self, session_id: str) -> tuple[SessionRecord | None, list[ChatMessage]]:
        """The session (without its conversation, but with the conversation's events) and its messages, in
        one statement (one round trip): what a session's page shows."""
        row = await self.db.fetchone(_GET_PAGE[self.db.dialect], {"id": session_id})
        if row is None:
            return None, []
        record = _record(row, None)
        kept = self._live.get(
            session_id
        )  # only read here: the kept conversation's events, when it is current
        if kept is not None and kept[0] == row["revision"]:
            record.stored_events = event_list(kept[1])
        else:
            record.stored_events = stored_events(row["conversation"])
        return record, _messages_of_json(session_id, row["messages_json"])

    async def list_sessions(
        self, user_id: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[SessionRecord]:
        where = ["kind = 'lisa'"]
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if user_id is not None:
            where.append("user_id = :user_id")
            params["user_id"] = user_id
        if status is not None:
            where.append("status = :status")
            params["status"] = status
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self.db.fetchall(
            f"SELECT {_SUMMARY_COLUMNS} FROM chat_sessions{clause}"
            " ORDER BY last_activity DESC, id LIMIT :limit OFFSET :offset",
            params,
        )
        return [_record(r, None) for r in rows]

    async def messages(self, session_id: str, limit: int | None = None) -> list[ChatMessage]:
        """The session's messages in order (the last ``limit`` of them when given)."""
        if limit is None:
            rows = await self.db.fetchall(_MESSAGES, {"id": session_id})
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM chat_messages WHERE session_id = :id ORDER BY seq DESC LIMIT :limit",
                {"id": session_id, "limit": limit},
            )
            rows.reverse()
        return [message_of(r) for r in rows]

    async def last_messages(self, session_ids: list[str]) -> dict[str, ChatMessage]:
        """The latest message of each of the given sessions."""
        return await last_messages(self.db, session_ids)

    async def idle_since(self, before: datetime) -> list[str]:
        """Ids of active sessions whose last activity is older than ``before``."""
        rows = await self.db.fetchall(
            "SELECT id FROM chat_sessions WHERE status = :active AND last_activity < :before",
            {"active": ACTIVE, "before": to_utc_text(before)},
        )
        return [r["id"] for r in rows]

    async def count(self, status: str | None = None) -> int:
        if status is None:
            row = await self.db.fetchone("SELECT COUNT(*) AS n FROM chat_sessions WHERE kind = 'lisa'")
        else:
            row = await self.db.fetchone(
                "SELECT COUNT(*) AS n FROM chat_sessions WHERE kind = 'lisa' AND status = :s", {"s": status}
            )
        return int(row["n"]) if row else 0
