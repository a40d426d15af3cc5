"""PostgreSQL restarted (fast shutdown) or crashed (SIGKILL) mid-chat and mid-call, on a throwaway server of
this test's own (never the machine's shared one): requests during the outage get 503 and health says
``degraded``; the app recovers by itself when the database is back (no restart); no chat turn is lost or
stored twice; the call goes on and its record is written once the database returns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from typing import Any

import httpx
import pytest
from call_support import app_stream
from doubles.party_voice import phone_line, say_on_the_line
from fault_support import CloudVoice, throwaway_postgres
from requests_support import SAMPLE
from websockets.asyncio.client import ClientConnection, connect

from api.state import Overrides

pytestmark = [pytest.mark.timeout(90), pytest.mark.postgres]


async def wait_status(client: httpx.AsyncClient, path: str, status: int, timeout_s: float) -> float:
    began = time.monotonic()
    while True:
        try:
            if (await client.get(path)).status_code == status:
                return time.monotonic() - began
        except httpx.HTTPError:
            pass
        assert time.monotonic() - began < timeout_s, f"{path} never answered {status}"
        await asyncio.sleep(0.1)


async def next_frame(ws: ClientConnection, match: Any, timeout_s: float = 15) -> dict[str, Any]:
    """The next frame ``match`` accepts (others are skipped)."""
    async with asyncio.timeout(timeout_s):
        while True:
            frame = json.loads(await ws.recv())
            if match(frame):
                return frame


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["restart", "crash"])
async def test_postgres_outage_mid_chat_and_mid_call(app_server, stop):
    await phone_line("When are you open?")
    voice = CloudVoice("When are you open?")
    with throwaway_postgres() as pg:
        async with voice.running(), contextlib.AsyncExitStack() as stack:
            overrides = Overrides(voice_settings=voice.settings())
            server = await app_server(database_url=pg.url, overrides=overrides)
            async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
                created = await client.post("/api/v1/sessions", json={"language": "en"})
                assert created.status_code == 201, created.text
                sid = created.json()["session_id"]
                chat = f"/api/v1/sessions/{sid}/chat"
                first = await client.post(chat, json={"message": "When are you open?"})
                assert first.status_code == 200, first.text

                socket = await stack.enter_async_context(connect(f"{server.ws_url}/ws"))
                greeting = await next_frame(socket, lambda f: f.get("sender") == "lisa")
                assert "Lisa" in greeting["content"]

                async with app_stream(server) as call:
                    await call.wait_lisa_speaking(10)
                    await call.wait_lisa_done(15, new_utterance=False, settle=0.3)
                    call_sid = call.call_sid

                    # the database goes away, mid-chat and mid-call
                    down_at = time.monotonic()
                    await asyncio.to_thread(pg.stop, stop)
                    lost = await client.post(chat, json={"message": "Do you have parking?"})
                    assert lost.status_code == 503, lost.text
                    assert lost.json()["detail"] == "database unavailable" and lost.json()["error_id"]
                    assert lost.headers["retry-after"]
                    health = await client.get("/api/v1/health")
                    assert health.status_code == 503 and health.json()["status"] == "degraded"
                    assert health.json()["database"]["reachable"] is False
                    assert (await client.get(f"/api/v1/sessions/{sid}")).status_code == 503
                    refused = await client.post("/api/process-request", json=SAMPLE)  # seed 002's shape
                    assert refused.status_code == 503, refused.text
                    assert (
                        refused.json()["status"] == "error"
                        and "database unavailable" in refused.json()["error"]
                    )
                    await socket.send(json.dumps({"type": "message", "content": "Where are you located?"}))
                    frame = await next_frame(socket, lambda f: f.get("type") == "error")
                    assert (frame["code"], frame["detail"]) == (503, "database unavailable")  # socket stays

                    # the call goes on: the caller asks, Lisa answers; then the caller hangs up
                    said_ms = await say_on_the_line(call, "When are you open?", silence_ms=800)
                    await call.wait_lisa_speaking(15, after_ms=said_ms)
                    await call.wait_lisa_done(15, new_utterance=False, settle=0.3)
                    assert not call.closed
                    await call.stop()
                await asyncio.sleep(0.5)
                assert (await client.get(f"/api/calls/{call_sid}")).status_code == 503  # still down

                # the database is back: the app recovers by itself
                outage_s = time.monotonic() - down_at
                back_at = time.monotonic()
                await asyncio.to_thread(pg.start)
                await wait_status(client, "/api/v1/health", 200, 20)
                recovered_s = time.monotonic() - back_at  # from the database's start to the app's health
                assert (await client.get("/api/v1/health")).json()["status"] == "ok"
                began = time.monotonic()
                while True:  # the call's end, kept while the database was down, is written now
                    answer = await client.get(f"/api/calls/{call_sid}")
                    if answer.status_code == 200 and answer.json()["ended_at"]:
                        break
                    assert time.monotonic() - began < 15, answer.text
                    await asyncio.sleep(0.1)
                written_s = time.monotonic() - back_at
                record = answer.json()
                assert record["ended_by"] == "party"
                assert [t["text"] for t in record["transcript"] if t["speaker"] == "party"] == [
                    "When are you open?"
                ]
                assert len([t for t in record["transcript"] if t["speaker"] == "lisa"]) >= 2

                # the chat goes on; the turn refused with 503 is sent again by the client, once
                again = await client.post(chat, json={"message": "Do you have parking?"})
                assert again.status_code == 200, again.text
                await socket.send(json.dumps({"type": "message", "content": "Where are you located?"}))
                answer = await next_frame(socket, lambda f: f.get("sender") == "lisa")
                assert "Parkstraße" in answer["content"]  # the same socket, after the outage
                accepted = await client.post("/api/process-request", json=SAMPLE)
                assert accepted.json()["status"] == "accepted", accepted.text
                history = (await client.get(f"/api/v1/sessions/{sid}")).json()
    texts = [m["text"] if "text" in m else m.get("content") for m in history["history"]]
    assert texts.count("When are you open?") == 1 and texts.count("Do you have parking?") == 1, texts
    roles = [m.get("role") or m.get("sender") for m in history["history"]]
    assert len(roles) == len(texts)
    print(
        f"\nFIGURES postgres {signal.Signals(stop).name}: outage {outage_s:.1f} s; app healthy "
        f"{recovered_s:.2f} s after the database was started; call record written {written_s:.2f} s after it"
    )
