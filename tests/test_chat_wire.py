"""The session page's JSON, built straight from the records, is byte for byte what its response model gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.chat.models import EventOut, MessageOut, SessionOut, SessionSummaryOut, session_page_json
from api.chat.store import ChatMessage, SessionRecord

T0 = datetime(2026, 11, 23, 8, 0, 0, 250_000, tzinfo=UTC)


def _through_models(session: SessionRecord, history: list[ChatMessage]) -> bytes:
    """What the route answered before: the models built, then serialized."""
    summary = SessionSummaryOut.of(session)
    return (
        SessionOut(
            **summary.model_dump(),
            metadata=session.metadata,
            history=[MessageOut.of(m) for m in history],
            events=[EventOut(**e) for e in session.events()],
        )
        .model_dump_json()
        .encode()
    )


def _messages(session_id: str) -> list[ChatMessage]:
    return [
        ChatMessage(session_id, "lisa", "Guten Tag, hier ist Lisa.", T0),
        ChatMessage(
            session_id, "user", "Hallo 👋 „Termin“ \u2028 bitte", T0 + timedelta(seconds=1), user_id="u1"
        ),
        ChatMessage(session_id, "manager", "Hier ist Anna.", T0 + timedelta(seconds=2), user_name="Anna"),
        ChatMessage(session_id, "system", "The chat has ended.", T0, metadata={"reason": "ended_by_user"}),
    ]


@pytest.mark.parametrize(
    ("outcome", "metadata", "ended", "events"),
    [
        ({"status": "open", "appointment": None, "summary": ""}, {}, False, []),
        ({"status": "booked", "appointment": "2026-11-25T15:00", "summary": "Booked"}, {"a": 1}, True, None),
        # an outcome stored without the optional keys, or with others: the model's defaults, its fields only
        ({"summary": "x", "status": "answered", "extra": 1}, {"nested": {"x": [1, 2.5, None]}}, False, []),
        (
            {"status": "open"},
            {"big": 2**70, "f": 1e-7, "u": "ü\x00", "t": True, "neg": -0.0, "list": []},
            True,
            [{"type": "booking_confirmed", "message": "Booked", "at": "2026-11-23T09:00:01+01:00", "x": "y"}],
        ),
    ],
)
def test_session_page_json_is_the_response_models_json(
    outcome: dict[str, Any], metadata: dict[str, Any], ended: bool, events: list[dict[str, str]] | None
) -> None:
    session = SessionRecord(
        id="6f1c2b9e-8a4d-4f7b-9c3e-2d1a0b9c8d7e",
        channel="app",
        language="de",
        status="ended" if ended else "active",
        created_at=T0,
        last_activity=T0 + timedelta(minutes=1),
        user_id="u1" if ended else None,
        metadata=metadata,
        outcome=outcome,
        taken_over_by="Anna" if ended else None,
        ended_at=T0 + timedelta(minutes=2) if ended else None,
        end_reason="ended_by_user" if ended else None,
        stored_events=events,
    )
    for history in ([], _messages(session.id)):
        assert session_page_json(session, history) == _through_models(session, history)


def test_the_plainly_served_read_keeps_its_openapi_and_answers_as_before(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import ApiSettings

    with TestClient(create_app(ApiSettings(database_url=f"sqlite:///{tmp_path}/lisa.db"))) as client:
        read = client.get("/openapi.json").json()["paths"]["/api/v1/sessions/{session_id}"]["get"]
        assert [p["name"] for p in read["parameters"]] == ["session_id"]
        assert read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/SessionOut"
        )
        assert {"401", "403", "404", "429"} <= set(read["responses"])
        sid = client.post("/api/v1/sessions", json={"language": "en"}).json()["session_id"]
        page = client.get(f"/api/v1/sessions/{sid}")
        assert page.status_code == 200 and page.headers["content-type"] == "application/json"
        assert SessionOut.model_validate_json(page.content).session_id == sid
        missing = client.get("/api/v1/sessions/no-such-session")
        assert missing.status_code == 404 and "not found" in missing.json()["detail"]


def test_serve_plainly_refuses_an_endpoint_the_router_does_not_have():
    from fastapi import APIRouter

    from api.edge.plain_routes import serve_plainly

    async def elsewhere() -> None: ...

    with pytest.raises(ValueError, match="0 routes"):
        serve_plainly(APIRouter(), elsewhere, elsewhere)  # type: ignore[arg-type]
