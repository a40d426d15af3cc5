"""Who ``POST /api/process-request`` may have Lisa dial, and how often: refused numbers get 422 naming
``number_to_call`` (nothing stored, nothing dialled); the limits per user and per destination are counted in
the database, so they hold across workers (two servers on one PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from conftest import ManualClock
from pydantic import ValidationError
from requests_support import SAMPLE

from agent.business import BusinessProfile
from api.requests.dial_policy import DialPolicy, business_country
from api.requests.models import ProcessRequestBody

SATURDAY = "2026-11-28T11:00:00+01:00"  # requests are scheduled for Monday: nothing is dialled in the test

NEVER = [
    ("112", "emergency"),
    ("110", "emergency"),
    ("911", "emergency"),
    ("999", "emergency"),
    ("+49 112", "emergency"),
    ("0049 110", "emergency"),
    ("116116", "short-code"),
    ("+49 116 116", "short-code"),
    ("+1 900 555 0100", "premium-rate"),
    ("+49 900 1234567", "premium-rate"),
    ("+49 9001 234567", "premium-rate"),
    ("+44 909 8790879", "premium-rate"),
    ("+43 900 123456", "premium-rate"),
    ("+49 180 1234567", "shared-cost"),
    ("+49 137 1234567", "shared-cost"),
    ("+49 700 12345678", "personal"),
    ("+881 6 12345678", "non-geographic"),
    ("+870 773111632", "non-geographic"),
]


@pytest.mark.parametrize(("number", "why"), NEVER)
def test_numbers_a_bot_never_dials_are_refused_naming_the_field(number, why):
    with pytest.raises(ValidationError) as err:
        ProcessRequestBody.model_validate({**SAMPLE, "number_to_call": number})
    [error] = err.value.errors()
    assert error["loc"] == ("number_to_call",) and why in error["msg"]


@pytest.mark.parametrize(
    "number", ["+49 30 7654321", "030 7654321", "+44 20 7946 0958", "+1 415 555 0100", "0800 1110111"]
)
def test_ordinary_and_toll_free_numbers_pass_validation(number):
    assert ProcessRequestBody.model_validate({**SAMPLE, "number_to_call": number}).number_to_call


def test_countries_and_deny_list():
    policy = DialPolicy.of(["de", " at"], ["+49 30 765", "0049 40 1234567"])
    assert policy.refusal("+49891234567") is None and policy.refusal("+43112345678") is None
    assert "deny list" in policy.refusal("+49307654321")
    assert "deny list" in policy.refusal("+49401234567")
    assert "in AT, DE" in policy.refusal("+442079460958") and "GB" in policy.refusal("+442079460958")
    assert DialPolicy.of(["*"]).refusal("+442079460958") is None
    assert "premium" in DialPolicy.of(["*"]).refusal("+19005550100")  # never, whatever the countries
    assert business_country(BusinessProfile(name="x", phone="+44 20 7946 0958")) == "GB"
    assert business_country(BusinessProfile(name="x", public_holidays={"country": "at"})) == "AT"
    assert business_country(None, "CH") == "CH"


async def post(server, body: dict) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        return await http.post("/api/process-request", json=body)


def request(number: str = SAMPLE["number_to_call"], user: str = SAMPLE["user_id"]) -> dict:
    return {**SAMPLE, "request_id": str(uuid.uuid4()), "number_to_call": number, "user_id": user}


async def test_refused_numbers_over_http_store_and_dial_nothing(app_server, monkeypatch):
    monkeypatch.setenv("OUTBOUND_DENY_NUMBERS", "+49 30 999, +49 40 1234567")
    server = await app_server(clock=ManualClock(SATURDAY))
    refused = [
        ("+1 900 555 0100", "premium-rate"),
        ("+881 6 12345678", "non-geographic"),
        ("112", "emergency"),
        ("+44 20 7946 0958", "calls go only to numbers in DE"),  # the business profile's country
        ("+49 30 9991234", "deny list"),
        ("040 1234567", "deny list"),
    ]
    for number, why in refused:
        r = await post(server, request(number))
        assert r.status_code == 422, (number, r.text)
        body = r.json()
        assert body["status"] == "error" and body["request_id"]
        assert body["error"].startswith("number_to_call") and why in body["error"], (number, body)
        assert any("number_to_call" in d["loc"] for d in body["detail"])
    assert await server.state.db.fetchall("SELECT id FROM requests") == []
    assert not server.state.telephony.carrier.placed
    assert (await post(server, request("+49 30 7654321"))).status_code == 200


async def test_allowed_countries_are_configurable(app_server, monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOWED_COUNTRIES", "DE,GB")
    server = await app_server(clock=ManualClock(SATURDAY))
    assert (await post(server, request("+44 20 7946 0958"))).status_code == 200
    r = await post(server, request("+1 415 555 0100"))
    assert r.status_code == 422 and "DE, GB" in r.json()["error"]


async def test_requests_per_user_and_per_number_are_limited(app_server, monkeypatch):
    monkeypatch.setenv("OUTBOUND_MAX_REQUESTS_PER_NUMBER_PER_DAY", "2")
    monkeypatch.setenv("OUTBOUND_MAX_REQUESTS_PER_USER_PER_DAY", "3")
    server = await app_server(clock=ManualClock(SATURDAY))
    first = request()
    assert (await post(server, first)).status_code == 200
    assert (await post(server, request())).status_code == 200
    r = await post(server, request())  # the same business a third time today
    assert r.status_code == 429 and r.json()["status"] == "error"
    assert "requests to call this number" in r.json()["error"] and r.json()["retry_after"] > 3600
    assert (await post(server, first)).status_code == 200  # a repeat of a known request is not counted
    assert (await post(server, request("+49 89 1234567"))).status_code == 200  # another business
    r = await post(server, request("+49 40 7654321"))  # the user's fourth request today
    assert r.status_code == 429 and "requests of this user" in r.json()["error"]
    assert (await post(server, request("+49 40 7654321", user="another-user"))).status_code == 200
    assert len(await server.state.db.fetchall("SELECT id FROM requests")) == 4


@pytest.mark.postgres
async def test_the_limit_holds_across_workers_on_postgres(app_server, postgres_url, monkeypatch):
    monkeypatch.setenv("OUTBOUND_MAX_REQUESTS_PER_NUMBER_PER_DAY", "3")
    one = await app_server(database_url=postgres_url, clock=ManualClock(SATURDAY))
    two = await app_server(database_url=postgres_url, clock=ManualClock(SATURDAY))
    bodies = [request(user=f"user-{i}") for i in range(10)]
    answers = await asyncio.gather(*(post(one if i % 2 else two, b) for i, b in enumerate(bodies)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 3 + [429] * 7, [r.text for r in answers]
    rows = await one.state.db.fetchall("SELECT id FROM requests")
    assert len(rows) == 3


async def test_a_number_denied_after_scheduling_is_not_dialled(app_server):
    clock = ManualClock(SATURDAY)
    server = await app_server(clock=clock)
    body = request("+49 30 7654321")
    r = await post(server, body)
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    processor = server.state.requests.processor
    processor.settings = processor.settings.model_copy(update={"outbound_deny_numbers": "+49 30 765"})
    clock.advance(2 * 86400 - 2 * 3600 + 60)  # Monday 09:01: the job is due

    async def failed():
        row = await server.state.db.fetchone(
            "SELECT status, last_error FROM requests WHERE id = :id", {"id": body["request_id"]}
        )
        return row if row["status"] == "failed" else None

    from requests_support import wait_for

    row = await wait_for(failed, within=10)
    assert "deny list" in row["last_error"]
    assert not server.state.telephony.carrier.placed
    jobs = await server.state.db.fetchall("SELECT result FROM request_jobs")
    assert [j["result"] for j in jobs] == ["refused"]
