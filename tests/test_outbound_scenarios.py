"""``../shared/scenarios/outbound_*.yaml`` end to end: the real API, the loopback carrier, the Twilio media
WebSocket with the voice pipeline (Whisper + Piper), and a scripted party speaking the scenario's lines.

The request goes in through ``POST /api/process-request``; the outcome is read back through
``GET /api/requests/{id}`` and the call record ``GET /api/calls/{sid}``, as a frontend or the replay runner does.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import yaml
from prerequisites import require_shared_scenarios, shared_scenarios
from requests_support import wait_for

from agent.clock import Clock

SCENARIOS = shared_scenarios("outbound_*.yaml")
FINAL = ("booked", "failed", "canceled", "waiting_for_callback")

# one speech pipeline at a time with the replay suite: on 2 cores, parallel calls change what Whisper hears
pytestmark = [pytest.mark.voice, pytest.mark.xdist_group("replay-suite")]


def test_shared_outbound_scenarios_are_there() -> None:
    """Without them the parametrised test below is empty: this one skips (locally) or fails (CI=true)."""
    require_shared_scenarios("outbound_*.yaml")


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_outbound_scenario(app_server, path):
    from simulation.scripted_party import ScriptedParty

    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect = scenario.get("expect", {})
    clock = Clock(scenario["clock"], scenario.get("timezone", "Europe/Berlin"))
    server = await app_server(agent={"lisa_language": scenario.get("language", "en")}, clock=clock)
    request = scenario["request"]
    party = ScriptedParty(scenario["party"], language=scenario.get("language", "en"), first_speaker="party")
    await party.prepare()
    server.state.telephony.carrier.register_party(request["number_to_call"], party)

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        accepted = await client.post("/api/process-request", json=request)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text

        async def settled():
            data = (await client.get(f"/api/requests/{request['request_id']}")).json()
            return data if data["status"] in FINAL and party.done.is_set() else None

        await wait_for(settled, within=120, interval=0.2)
        await asyncio.sleep(0.5)  # the call's last hooks land
        data = (await client.get(f"/api/requests/{request['request_id']}")).json()
        record = None
        if party.call_sid:
            r = await client.get(f"/api/calls/{party.call_sid}")
            record = r.json() if r.status_code == 200 else None

    events = [e["type"] for e in data["events"]]
    context = f"status={data['status']} events={events} summary={data['summary']!r} party={party.lines}"
    if "status" in expect:
        assert data["status"] == expect["status"], context
    if "appointment" in expect:
        assert data["outcome"]["appointment"] == expect["appointment"], context
    for event in expect.get("events_include", []):
        assert event in events, context
    for text in expect.get("summary_contains", []):
        assert text in (data["summary"] or ""), context
    if record is not None:
        said = " ".join(t["text"] for t in record.get("transcript", []) if t["speaker"] == "lisa").lower()
        for text in expect.get("lisa_says", []):
            assert text.lower() in said, f"Lisa never said {text!r}: {said}"
        if "ended_by" in expect:
            assert record.get("ended_by") == expect["ended_by"], record.get("ended_by")
