"""Conversation serialisation and the chat session store, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.calendar import Booking
from agent.conversation import (
    BookingRequest,
    Conversation,
    ConversationEvent,
    Language,
    Message,
    Mode,
    Status,
)
from agent.conversation_codec import (
    conversation_from_dict,
    conversation_to_dict,
    decode,
    dumps,
    encode,
    event_list,
    loads,
    stored_events,
)
from api.chat.store import ACTIVE, ENDED, ChatMessage, SessionRecord, SessionStore
from api.storage import Database

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)


def _conversation() -> Conversation:
    conv = Conversation(
        mode=Mode.OUTBOUND,
        language=Language.DE,
        request=BookingRequest(
            request_id="r-1",
            user_id="u-1",
            title="Zahnreinigung",
            description="bitte buchen",
            callback_number="+49 30 1234567",
            number_to_call="+49 30 7654321",
            preferred_time="Montag 10-12",
            user_profile={"username": "Max Mustermann"},
        ),
    )
    conv.history += [
        Message("assistant", "Guten Tag!", T0),
        Message("user", "Hallo", T0 + timedelta(seconds=3), {"stt_ms": 120}),
        Message("manager", "Hier ist Anna.", T0 + timedelta(seconds=9), {"manager": "Anna"}),
    ]
    conv.slots = {
        "when": T0 + timedelta(days=2),
        "day": date(2026, 11, 25),
        "at": time(15, 0),
        "offered": [T0, T0 + timedelta(hours=1)],
        "tried": {"mon", "tue"},
        "window": (time(10, 0), time(12, 0)),
        "booking": Booking(T0, T0 + timedelta(minutes=30), "Erika", "Physio"),
        "name": "Erika Musterfrau",
        "count": 2,
        "none": None,
    }
    conv.outcome.status = Status.BOOKED
    conv.outcome.appointment = datetime(2026, 11, 25, 15, 0, tzinfo=BERLIN)
    conv.outcome.summary = "gebucht"
    conv.events.append(ConversationEvent("booking_confirmed", "gebucht", T0))
    conv.state = {"phase": "confirm", "retries": {1: "x"}, "status": Status.OPEN, "gap": timedelta(minutes=5)}
    conv.end_requested = True
    conv.transfer_to = "+49 30 999999"
    return conv


def test_conversation_round_trips_through_json():
    conv = _conversation()
    text = dumps(conv)
    json.loads(text)  # plain JSON
    back = loads(text)
    assert back == conv
    assert back.slots["tried"] == {"mon", "tue"} and isinstance(back.slots["window"], tuple)
    assert isinstance(back.slots["booking"], Booking) and back.slots["when"].tzinfo is not None
    assert back.state["status"] is Status.OPEN and back.state["retries"] == {1: "x"}
    assert back.request.user_name == "Max Mustermann"
    assert conversation_to_dict(back) == conversation_to_dict(conv)


def test_message_times_are_stored_as_iso_text_by_both_json_writers():
    conv = _conversation()
    conv.history.append(Message("user", "ok", datetime(2026, 7, 1, 9, 15, 0, 1000, tzinfo=BERLIN)))
    stored = json.loads(dumps(conv))["history"]
    assert [m["at"] for m in stored] == [m.at.isoformat() for m in conv.history]
    conv.state["huge"] = 2**70  # beyond orjson: the standard library writes it, times as the same text
    fallback = json.loads(dumps(conv))
    assert fallback["history"] == stored and loads(dumps(conv)) == conv


def test_events_read_from_the_stored_text_are_the_conversations():
    conv = _conversation()
    conv.events.append(ConversationEvent("message_taken", "Rückruf erbeten", T0 + timedelta(minutes=1)))
    assert stored_events(dumps(conv)) == event_list(conv) and len(event_list(conv)) == 2
    assert stored_events(dumps(Conversation(mode=Mode.CHAT, language=Language.EN))) == []


def test_a_fresh_conversation_round_trips():
    conv = Conversation(mode=Mode.CHAT, language=Language.EN)
    assert conversation_from_dict(conversation_to_dict(conv)) == conv


def test_codec_refuses_foreign_classes_and_unknown_types():
    with pytest.raises(ValueError, match="refusing"):
        decode({"__t": "dataclass", "cls": "os:system", "v": {}})

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque 7>"

    assert decode(json.loads(json.dumps(encode({"x": Opaque()})))) == {"x": "<opaque 7>"}


def _session(sid: str, when: datetime, user: str | None = None) -> SessionRecord:
    conv = Conversation(mode=Mode.CHAT, language=Language.DE, id=sid)
    conv.history.append(Message("assistant", "Hallo!", when))
    return SessionRecord(
        id=sid,
        user_id=user,
        channel="app",
        language="de",
        status=ACTIVE,
        created_at=when,
        last_activity=when,
        metadata={"app": "flutter", "umlaut": "ä"},
        outcome=conv.outcome.as_dict(),
        conversation=conv,
    )


async def test_session_store_on_both_back_ends(db_url):
    db = await Database.connect(db_url)
    try:
        store = SessionStore(db)
        s1 = _session("s-1", T0, user="u-1")
        await store.create(s1, [ChatMessage("s-1", "lisa", "Hallo!", T0)])
        s2 = _session("s-2", T0 + timedelta(minutes=5))
        await store.create(s2, [])

        got = await store.get("s-1")
        assert got is not None and got.conversation is s1.conversation  # kept live by the store that wrote it
        stored = await SessionStore(db).get("s-1")  # another process decodes the stored one
        assert stored is not None and stored.conversation == s1.conversation is not stored.conversation
        assert got.metadata == {"app": "flutter", "umlaut": "ä"} and got.created_at == T0
        assert await store.get("missing") is None

        # a turn: new state + two messages in one transaction, numbered in order
        got.conversation.history.append(Message("user", "Termin bitte", T0 + timedelta(minutes=10)))
        got.conversation.events.append(ConversationEvent("booking_confirmed", "gebucht", T0))
        got.last_activity = T0 + timedelta(minutes=10)
        got.outcome = {"status": "booked", "appointment": "2026-11-25T15:00", "summary": "ok"}
        await store.save(
            got,
            [
                ChatMessage(
                    "s-1",
                    "user",
                    "Termin bitte",
                    T0 + timedelta(minutes=10),
                    user_id="u-1",
                    user_name='Max "Maxi" Müller',
                    metadata={"stt_ms": 120, "note": "ä\n€ \\ 🙂"},
                ),
                ChatMessage("s-1", "lisa", "Gern.", T0 + timedelta(minutes=10)),
            ],
        )
        messages = await store.messages("s-1")
        assert [(m.seq, m.sender, m.content) for m in messages] == [
            (1, "lisa", "Hallo!"),
            (2, "user", "Termin bitte"),
            (3, "lisa", "Gern."),
        ]
        assert [m.content for m in await store.messages("s-1", limit=2)] == ["Termin bitte", "Gern."]
        wire = messages[1].as_wire()
        assert wire["type"] == "text" and wire["userId"] == "u-1" and wire["createdAt"].endswith("Z")
        assert messages[2].as_wire()["type"] == "ai"

        # newest activity first; filters by user and status
        assert [s.id for s in await store.list_sessions()] == ["s-1", "s-2"]
        assert [s.id for s in await store.list_sessions(user_id="u-1")] == ["s-1"]
        assert (await store.get("s-1", with_conversation=False)).outcome["status"] == "booked"
        # a session's page: the record without its conversation, but with the conversation's events
        page, page_messages = await store.get_with_messages("s-1")
        assert page is not None and page.conversation is None and len(page_messages) == 3
        assert page.events() == event_list(got.conversation) != []
        assert page_messages == messages  # field by field, in order, as read on their own
        empty, none = await store.get_with_messages("s-2")
        assert empty is not None and empty.id == "s-2" and none == []
        assert await store.get_with_messages("missing") == (None, [])

        last = await store.last_messages(["s-1", "s-2"])
        assert last["s-1"].content == "Gern." and "s-2" not in last

        # idle lookup and ending
        assert await store.idle_since(T0 + timedelta(minutes=7)) == ["s-2"]
        s2.status = ENDED
        s2.ended_at = T0 + timedelta(hours=2)
        s2.end_reason = "idle_timeout"
        await store.save(s2)
        assert await store.idle_since(T0 + timedelta(hours=3)) == ["s-1"]
        assert await store.count() == 2 and await store.count(ACTIVE) == 1
        assert [s.id for s in await store.list_sessions(status=ENDED)] == ["s-2"]
    finally:
        await db.close()


async def test_a_kept_conversation_is_used_only_while_it_is_the_stored_one(db_url):
    """Two stores on one database are two worker processes: each keeps the conversations it wrote, and takes one
    again only when the row still holds the revision it wrote; a turn that fails before its write leaves
    nothing half-changed behind."""
    db = await Database.connect(db_url)
    try:
        first, second = SessionStore(db), SessionStore(db)
        await first.create(_session("s-1", T0), [])

        # the second worker answers a turn: the first one's kept conversation is stale and read again
        turn = await second.get("s-1")
        assert turn is not None and turn.conversation is not None
        turn.conversation.history.append(Message("user", "Dienstag?", T0 + timedelta(minutes=1)))
        await second.save(turn)
        again = await first.get("s-1")
        assert again is not None and again.conversation is not None
        assert again.conversation.history[-1].text == "Dienstag?"
        page, _ = await first.get_with_messages("s-1")
        assert page is not None and page.events() == event_list(turn.conversation)

        # a turn that changes the conversation and fails before writing it: the next turn reads what is stored
        again.conversation.history.append(Message("user", "never written", T0 + timedelta(minutes=2)))
        after = await first.get("s-1")
        assert after is not None and after.conversation is not None
        assert after.conversation.history[-1].text == "Dienstag?"

        # written by this store and not since: its own object again, and the page shows its events
        after.conversation.events.append(ConversationEvent("booking_confirmed", "gebucht", T0))
        await first.save(after)
        page, _ = await first.get_with_messages("s-1")
        assert page is not None and [e["type"] for e in page.events()][-1] == "booking_confirmed"
        assert (await first.get("s-1")).conversation is after.conversation
    finally:
        await db.close()


def test_a_conversation_with_what_only_the_standard_json_takes_still_round_trips():
    conv = _conversation()
    conv.slots["big"] = 2**70  # beyond orjson's 64-bit integers: written by the standard library instead
    conv.slots["text"] = "Grüße — 東京"
    again = loads(dumps(conv))
    assert again.slots["big"] == 2**70 and again.slots["text"] == "Grüße — 東京" and again == conv
    assert "Grüße" in dumps(conv)  # UTF-8, not \u escapes
