"""Endings are idempotent: ``DELETE /api/v1/sessions/{id}`` of an ended session and cancelling a request that is
already final answer the thing as it is (200), whatever ended it before (Lisa's goodbye, idle, an earlier
DELETE; a booking, a failure, an earlier cancel)."""

from __future__ import annotations

import httpx
import pytest
from conftest import ManualClock
from requests_support import SAMPLE

RID = SAMPLE["request_id"]
SATURDAY = "2026-11-28T11:00:00+01:00"


@pytest.mark.parametrize(
    ("language", "goodbye"),
    [("en", "No, that's all, thanks. Goodbye!"), ("de", "Nein danke, das war alles. Tschüss!")],
)
async def test_delete_of_a_session_lisa_ended_answers_it_as_it_is(app_server, language, goodbye):
    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        sid = (await http.post("/api/v1/sessions", json={"language": language})).json()["session_id"]
        r = await http.post(f"/api/v1/sessions/{sid}/chat", json={"message": goodbye})
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        for _ in range(2):
            r = await http.delete(f"/api/v1/sessions/{sid}")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "ended" and r.json()["end_reason"] == "completed"
        history = (await http.get(f"/api/v1/sessions/{sid}")).json()["history"]
        assert sum(m["sender"] == "system" for m in history) == 1  # ended once, no second note
        assert (await http.delete("/api/v1/sessions/unknown-session")).status_code == 404


@pytest.mark.parametrize("final", ["booked", "failed", "canceled"])
async def test_cancel_of_a_final_request_answers_its_state(app_server, monkeypatch, final):
    monkeypatch.setenv("SCHEDULER_POLL_S", "0.05")
    server = await app_server(clock=ManualClock(SATURDAY))
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        assert (await http.post("/api/process-request", json=SAMPLE)).status_code == 200
        if final == "canceled":
            assert (await http.post(f"/api/requests/{RID}/cancel")).json()["status"] == "canceled"
        else:
            await server.state.db.execute(
                "UPDATE requests SET status = :s WHERE id = :id", {"s": final, "id": RID}
            )
        events_before = (await http.get(f"/api/requests/{RID}")).json()["events"]
        for _ in range(2):
            r = await http.post(f"/api/requests/{RID}/cancel")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == final and r.json()["request_status"] == final
            assert r.json()["request_id"] == RID and "already" in r.json()["message"]
        after = (await http.get(f"/api/requests/{RID}")).json()
        assert after["status"] == final and after["events"] == events_before
