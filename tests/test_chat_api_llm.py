"""The chat API with the LLM brain, against the local OpenAI protocol server (tests/fakes): a provider
rate limit is answered late rather than with an error, and the brain's tool rounds survive a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fakes.openai_protocol_server import OpenAIProtocolServer, error, stream, tool_call

API_KEY = "sk-test-chat"


@pytest.fixture
async def llm() -> AsyncIterator[OpenAIProtocolServer]:
    async with OpenAIProtocolServer(api_key=API_KEY) as server:
        yield server


def llm_agent(server: OpenAIProtocolServer) -> dict:
    return {
        "lisa_brain": "llm",
        "openai_api_key": API_KEY,
        "openai_base_url": server.url,
        "openai_model": "test-model",
        "openai_timeout_s": 5.0,
        "openai_max_retries": 3,
        "openai_backoff_base_s": 0.01,
        "openai_backoff_max_s": 0.05,
    }


async def test_llm_chat_books_absorbs_a_rate_limit_and_survives_a_restart(app_server, db_url, llm):
    llm.script(stream("Hello, this is Lisa from Parkside Physiotherapy. ", "How can I help?"))
    first = await app_server(database_url=db_url, agent=llm_agent(llm))
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as client:
        created = (await client.post("/api/v1/sessions")).json()
        assert created["greeting"] == "Hello, this is Lisa from Parkside Physiotherapy. How can I help?"
        sid = created["session_id"]

        llm.script(
            error(
                429, "slow down", retry_after=0.3
            ),  # the provider's limit: answered late, not with an error
            stream("Let me check. ", tool_call("check_availability", {"start": "2026-11-24T10:00"})),
            stream(
                tool_call(
                    "book_appointment",
                    {"start": "2026-11-24T10:00", "name": "Anna Schmidt", "service": "appointment"},
                )
            ),
            stream("You're booked for Tuesday at 10 am, Anna. ", "Anything else?"),
        )
        r = await client.post(
            f"/api/v1/sessions/{sid}/chat", json={"message": "Tomorrow at ten please, I'm Anna Schmidt."}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["reply"] == "Let me check. You're booked for Tuesday at 10 am, Anna. Anything else?"
        assert body["outcome"]["status"] == "booked" and body["outcome"]["appointment"] == "2026-11-24T10:00"
        assert llm.unused == 0
    await first.stop()

    # a new server on the same database: the model is shown the earlier turn with its tool rounds
    llm.script(stream("You're welcome, Anna. Goodbye!"))
    second = await app_server(database_url=db_url, agent=llm_agent(llm))
    async with httpx.AsyncClient(base_url=second.url, timeout=60) as client:
        r = await client.post(f"/api/v1/sessions/{sid}/chat", json={"message": "No, thanks!"})
        assert r.status_code == 200 and r.json()["reply"] == "You're welcome, Anna. Goodbye!"
        assert r.json()["outcome"]["status"] == "booked"
    sent = llm.requests[-1].messages
    roles = [m["role"] for m in sent]
    assert roles.count("tool") == 2 and roles[-1] == "user"
    assert any("Tomorrow at ten" in str(m.get("content")) for m in sent if m["role"] == "user")
    tool_names = [c["function"]["name"] for m in sent if m.get("tool_calls") for c in m["tool_calls"]]
    assert tool_names == ["check_availability", "book_appointment"]
