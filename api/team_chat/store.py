"""Team chat rows in the database (migration 0010): accounts, refresh tokens, one-time codes, the SMS outbox,
Google tokens, and direct/group chats. A team chat is a row of ``chat_sessions`` (``kind`` direct | group)
with its members in ``chat_participants``; its messages are rows of ``chat_messages`` like every chat's.
SQL runs unchanged on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from agent.conversation import Conversation, Language, Mode
from agent.conversation_codec import dumps
from api.chat.store import ChatMessage, last_messages, message_of, to_utc_text
from api.storage.db import Database, Row

_CHAT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
TEAM_KINDS = ("direct", "group")
TEAM_STATUS = "open"  # never "active": the idle sweeper of Lisa's chats leaves team chats alone
LISA_USER_ID = "lisa"
MEMBER = "member"
OPERATOR = "operator"


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class User:
    id: str
    email: str | None
    phone: str | None
    name: str | None
    role: str
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)

    @property
    def display_name(self) -> str:
        return self.name or (self.email.split("@")[0] if self.email else "") or "User"


@dataclass
class TeamChat:
    id: str
    kind: str  # direct | group
    name: str
    participant_ids: list[str]
    created_at: datetime
    last_activity: datetime
    invite_code: str | None = None
    created_by: str | None = None
    last_message: ChatMessage | None = None


def _user(row: Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        phone=row["phone"],
        name=row["name"],
        role=row["role"],
        created_at=datetime.fromisoformat(row["created_at"]),
        password_hash=row["password_hash"],
    )


class Duplicate(Exception):
    """A unique value (email, phone, invite code) is taken."""


class TeamStore:
    """Repository of the team chat's rows."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # SQLite has one writer at a time: queueing message writes here beats its busy-wait retries
        self._write_lock = asyncio.Lock() if db.dialect == "sqlite" else contextlib.nullcontext()

    # --- accounts ---------------------------------------------------------------------------------------
    async def create_user(
        self,
        email: str | None,
        phone: str | None,
        name: str | None,
        password_hash: str | None,
        role: str = MEMBER,
        user_id: str | None = None,
    ) -> User:
        user = User(
            id=user_id or str(uuid.uuid4()),
            email=email,
            phone=phone,
            name=name,
            role=role,
            created_at=now_utc(),
            password_hash=password_hash,
        )
        try:
            await self.db.execute(
                "INSERT INTO team_users (id, email, phone, name, password_hash, role, created_at)"
                " VALUES (:id, :email, :phone, :name, :hash, :role, :at)",
                {
                    "id": user.id,
                    "email": email,
                    "phone": phone,
                    "name": name,
                    "hash": password_hash,
                    "role": role,
                    "at": to_utc_text(user.created_at),
                },
            )
        except IntegrityError as exc:
            raise Duplicate("account exists") from exc
        return user

    async def user(self, user_id: str) -> User | None:
        row = await self.db.fetchone("SELECT * FROM team_users WHERE id = :id", {"id": user_id})
        return _user(row) if row else None

    async def user_by_email(self, email: str) -> User | None:
        row = await self.db.fetchone("SELECT * FROM team_users WHERE email = :e", {"e": email})
        return _user(row) if row else None

    async def user_by_phone(self, phone: str) -> User | None:
        row = await self.db.fetchone("SELECT * FROM team_users WHERE phone = :p", {"p": phone})
        return _user(row) if row else None

    async def users(self, user_ids: list[str]) -> dict[str, User]:
        if not user_ids:
            return {}
        names = {f"u{i}": uid for i, uid in enumerate(dict.fromkeys(user_ids))}
        rows = await self.db.fetchall(
            f"SELECT * FROM team_users WHERE id IN ({', '.join(':' + n for n in names)})", names
        )
        return {r["id"]: _user(r) for r in rows}

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self.db.execute(
            "UPDATE team_users SET password_hash = :h WHERE id = :id", {"h": password_hash, "id": user_id}
        )

    # --- secrets ------------------------------------------------------------------------------------------
    async def secret(self, name: str) -> str:
        """A random secret kept in the database, made once (the first worker to ask wins the race)."""
        row = await self.db.fetchone("SELECT value FROM team_secrets WHERE name = :n", {"n": name})
        if row:
            return row["value"]
        await self.db.execute(
            "INSERT INTO team_secrets (name, value, created_at) VALUES (:n, :v, :at) ON CONFLICT (name) DO NOTHING",
            {"n": name, "v": secrets.token_urlsafe(48), "at": to_utc_text(now_utc())},
        )
        row = await self.db.fetchone("SELECT value FROM team_secrets WHERE name = :n", {"n": name})
        assert row is not None
        return row["value"]

    # --- refresh tokens ---------------------------------------------------------------------------------
    async def add_refresh(self, token_hash: str, family_id: str, user_id: str, expires_at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO team_refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)"
            " VALUES (:h, :f, :u, :at, :exp)",
            {
                "h": token_hash,
                "f": family_id,
                "u": user_id,
                "at": to_utc_text(now_utc()),
                "exp": to_utc_text(expires_at),
            },
        )

    async def refresh_row(self, token_hash: str) -> Row | None:
        return await self.db.fetchone(
            "SELECT * FROM team_refresh_tokens WHERE token_hash = :h", {"h": token_hash}
        )

    async def use_refresh(self, token_hash: str) -> bool:
        """Mark a refresh token used; False when it already was (or is revoked): a replay."""
        changed = await self.db.execute(
            "UPDATE team_refresh_tokens SET used_at = :at"
            " WHERE token_hash = :h AND used_at IS NULL AND revoked_at IS NULL",
            {"h": token_hash, "at": to_utc_text(now_utc())},
        )
        return changed == 1

    async def revoke_family(self, family_id: str) -> None:
        await self.db.execute(
            "UPDATE team_refresh_tokens SET revoked_at = :at WHERE family_id = :f AND revoked_at IS NULL",
            {"f": family_id, "at": to_utc_text(now_utc())},
        )

    # --- one-time codes and the SMS outbox ----------------------------------------------------------------
    async def put_code(self, phone: str, code_hash: str, expires_at: datetime) -> None:
        params = {"p": phone, "h": code_hash, "exp": to_utc_text(expires_at), "at": to_utc_text(now_utc())}
        await self.db.execute(
            "INSERT INTO team_phone_codes (phone, code_hash, expires_at, attempts, created_at)"
            " VALUES (:p, :h, :exp, 0, :at) ON CONFLICT (phone) DO UPDATE SET code_hash = :h,"
            " expires_at = :exp, attempts = 0, created_at = :at",
            params,
        )

    async def code(self, phone: str) -> Row | None:
        return await self.db.fetchone("SELECT * FROM team_phone_codes WHERE phone = :p", {"p": phone})

    async def count_code_attempt(self, phone: str) -> None:
        await self.db.execute(
            "UPDATE team_phone_codes SET attempts = attempts + 1 WHERE phone = :p", {"p": phone}
        )

    async def drop_code(self, phone: str) -> None:
        await self.db.execute("DELETE FROM team_phone_codes WHERE phone = :p", {"p": phone})

    async def to_outbox(self, phone: str, body: str) -> None:
        await self.db.execute(
            "INSERT INTO team_sms_outbox (id, phone, body, created_at) VALUES (:id, :p, :b, :at)",
            {"id": str(uuid.uuid4()), "p": phone, "b": body, "at": to_utc_text(now_utc())},
        )

    async def outbox(self, phone: str | None = None, limit: int = 20) -> list[Row]:
        """The newest texts of the local SMS outbox (for one number when given)."""
        where = " WHERE phone = :p" if phone else ""
        rows = await self.db.fetchall(
            f"SELECT phone, body, created_at FROM team_sms_outbox{where} ORDER BY created_at DESC LIMIT :n",
            {"p": phone, "n": limit},
        )
        return rows

    # --- Google tokens --------------------------------------------------------------------------------
    async def put_google_token(
        self, user_id: str, encrypted: str, email: str | None, scope: str | None, expires_at: datetime | None
    ) -> None:
        params = {
            "u": user_id,
            "t": encrypted,
            "e": email,
            "s": scope,
            "exp": to_utc_text(expires_at) if expires_at else None,
            "at": to_utc_text(now_utc()),
        }
        await self.db.execute(
            "INSERT INTO team_google_tokens (user_id, token_encrypted, google_email, scope, expires_at,"
            " updated_at) VALUES (:u, :t, :e, :s, :exp, :at) ON CONFLICT (user_id) DO UPDATE SET"
            " token_encrypted = :t, google_email = :e, scope = :s, expires_at = :exp, updated_at = :at",
            params,
        )

    async def google_token(self, user_id: str) -> Row | None:
        return await self.db.fetchone("SELECT * FROM team_google_tokens WHERE user_id = :u", {"u": user_id})

    # --- chats ----------------------------------------------------------------------------------------
    async def create_chat(
        self,
        kind: str,
        name: str,
        creator_id: str,
        member_ids: list[str],
        invite_code: str | None = None,
        direct_key: str | None = None,
    ) -> TeamChat:
        """A new direct or group chat with its members (one transaction); Duplicate when the invite code or
        the direct pair is taken."""
        moment = now_utc()
        chat_id = str(uuid.uuid4())
        members = list(dict.fromkeys([creator_id, *member_ids]))
        conversation = Conversation(mode=Mode.CHAT, language=Language.EN)
        conversation.id = chat_id
        at = to_utc_text(moment)
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO chat_sessions (id, user_id, channel, language, status, metadata, conversation,"
                        " outcome_status, outcome, created_at, last_activity, kind, name, invite_code, direct_key)"
                        " VALUES (:id, :uid, :kind, 'en', :status, '{}', :conv, 'open', '{}', :at, :at, :kind,"
                        " :name, :code, :dkey)"
                    ),
                    {
                        "id": chat_id,
                        "uid": creator_id,
                        "kind": kind,
                        "status": TEAM_STATUS,
                        "conv": dumps(conversation),
                        "at": at,
                        "name": name,
                        "code": invite_code,
                        "dkey": direct_key,
                    },
                )
                await conn.execute(
                    text("INSERT INTO chat_participants (chat_id, user_id, joined_at) VALUES (:c, :u, :at)"),
                    [{"c": chat_id, "u": uid, "at": at} for uid in members],
                )
        except IntegrityError as exc:
            raise Duplicate("chat exists") from exc
        return TeamChat(
            id=chat_id,
            kind=kind,
            name=name,
            participant_ids=members,
            created_at=moment,
            last_activity=moment,
            invite_code=invite_code,
            created_by=creator_id,
        )

    async def _chats(self, where: str, params: dict[str, Any]) -> list[TeamChat]:
        rows = await self.db.fetchall(
            "SELECT id, kind, name, invite_code, user_id, created_at, last_activity FROM chat_sessions"
            f" WHERE kind IN ('direct', 'group') AND {where} ORDER BY last_activity DESC, id",
            params,
        )
        if not rows:
            return []
        names = {f"c{i}": r["id"] for i, r in enumerate(rows)}
        members = await self.db.fetchall(
            "SELECT chat_id, user_id FROM chat_participants"
            f" WHERE chat_id IN ({', '.join(':' + n for n in names)}) ORDER BY joined_at, user_id",
            names,
        )
        by_chat: dict[str, list[str]] = {}
        for m in members:
            by_chat.setdefault(m["chat_id"], []).append(m["user_id"])
        return [
            TeamChat(
                id=r["id"],
                kind=r["kind"],
                name=r["name"] or "",
                participant_ids=by_chat.get(r["id"], []),
                created_at=datetime.fromisoformat(r["created_at"]),
                last_activity=datetime.fromisoformat(r["last_activity"]),
                invite_code=r["invite_code"],
                created_by=r["user_id"],
            )
            for r in rows
        ]

    async def chat(self, chat_id: str) -> TeamChat | None:
        found = await self._chats("id = :id", {"id": chat_id})
        return found[0] if found else None

    async def is_team_chat(self, chat_id: str) -> bool:
        row = await self.db.fetchone(
            "SELECT kind FROM chat_sessions WHERE id = :id AND kind IN ('direct', 'group')", {"id": chat_id}
        )
        return row is not None

    async def chat_by_invite(self, code: str) -> TeamChat | None:
        found = await self._chats("invite_code = :code", {"code": code})
        return found[0] if found else None

    async def chat_by_direct_key(self, key: str) -> TeamChat | None:
        found = await self._chats("direct_key = :key", {"key": key})
        return found[0] if found else None

    async def chats_of(self, user_id: str) -> list[TeamChat]:
        """The user's chats, newest activity first, each with its last message."""
        chats = await self._chats(
            "id IN (SELECT chat_id FROM chat_participants WHERE user_id = :u)", {"u": user_id}
        )
        last = await self.last_messages([c.id for c in chats])
        for c in chats:
            c.last_message = last.get(c.id)
        return chats

    async def groups(self) -> list[TeamChat]:
        """Every group (read-only listings such as the console's)."""
        return await self._chats("kind = 'group'", {})

    async def is_member(self, chat_id: str, user_id: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 AS ok FROM chat_participants WHERE chat_id = :c AND user_id = :u",
            {"c": chat_id, "u": user_id},
        )
        return row is not None

    async def add_member(self, chat_id: str, user_id: str) -> bool:
        """Add a member; False when already one (joining twice is harmless)."""
        changed = await self.db.execute(
            "INSERT INTO chat_participants (chat_id, user_id, joined_at) VALUES (:c, :u, :at)"
            " ON CONFLICT (chat_id, user_id) DO NOTHING",
            {"c": chat_id, "u": user_id, "at": to_utc_text(now_utc())},
        )
        return changed == 1

    # --- messages -------------------------------------------------------------------------------------
    async def add_message(self, message: ChatMessage) -> ChatMessage:
        """Append a message (numbered after the chat's last) and move the chat's last activity. On PostgreSQL
        the writers of one chat take turns (an advisory lock on its id), so numbers never collide."""
        async with self._write_lock, self.db.transaction() as conn:
            if self.db.dialect == "postgresql":
                await conn.execute(_CHAT_LOCK, {"key": f"team-chat:{message.session_id}"})
            await conn.execute(
                text(
                    "INSERT INTO chat_messages (id, session_id, seq, sender, user_id, user_name, content,"
                    " created_at, metadata) VALUES (:id, :sid, (SELECT COALESCE(MAX(seq), 0) + 1 FROM"
                    " chat_messages WHERE session_id = :sid), :sender, :uid, :uname, :content, :at, :meta)"
                ),
                {
                    "id": message.id,
                    "sid": message.session_id,
                    "sender": message.sender,
                    "uid": message.user_id,
                    "uname": message.user_name,
                    "content": message.content,
                    "at": to_utc_text(message.created_at),
                    "meta": json.dumps(message.metadata, ensure_ascii=False),
                },
            )
            await conn.execute(
                text("UPDATE chat_sessions SET last_activity = :at WHERE id = :sid"),
                {"at": to_utc_text(message.created_at), "sid": message.session_id},
            )
        return message

    async def message(self, chat_id: str, message_id: str) -> ChatMessage | None:
        row = await self.db.fetchone(
            "SELECT * FROM chat_messages WHERE session_id = :c AND id = :id", {"c": chat_id, "id": message_id}
        )
        return message_of(row) if row else None

    async def messages(self, chat_id: str, limit: int, before_seq: int | None = None) -> list[ChatMessage]:
        """The last ``limit`` messages (before ``before_seq`` when given), oldest first."""
        where = " AND seq < :before" if before_seq is not None else ""
        rows = await self.db.fetchall(
            f"SELECT * FROM chat_messages WHERE session_id = :c{where} ORDER BY seq DESC LIMIT :n",
            {"c": chat_id, "before": before_seq, "n": limit},
        )
        rows.reverse()
        return [message_of(r) for r in rows]

    async def last_messages(self, chat_ids: list[str]) -> dict[str, ChatMessage]:
        return await last_messages(self.db, chat_ids)
