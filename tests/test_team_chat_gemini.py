"""Lisa on the LLM brain pointed at Gemini's OpenAI-compatible endpoint (``GEMINI_API_KEY``, ``GEMINI_MODEL``),
here the OpenAI protocol server: in a team chat she gets the room's recent messages as context and answers
in the question's language; the request carries Gemini's key and model."""

from __future__ import annotations

import httpx
import pytest
from fakes.openai_protocol_server import OpenAIProtocolServer, stream
from team_chat_support import register, team_env  # noqa: F401

from agent.settings import AgentSettings

pytestmark = pytest.mark.usefixtures("team_env")


def test_gemini_key_alone_points_the_llm_brain_at_gemini(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = AgentSettings(
        _env_file=None, lisa_brain="llm", gemini_api_key="g-key", gemini_model="gemini-x"
    )
    key, url, model = settings.llm_endpoint()
    assert (key, model) == ("g-key", "gemini-x") and url.startswith(
        "https://generativelanguage.googleapis.com/"
    )
    both = AgentSettings(_env_file=None, gemini_api_key="g-key", openai_api_key="o-key")
    assert both.llm_endpoint()[0] == "o-key", "an explicit OpenAI key wins"


async def test_lisa_in_a_room_on_gemini(app_server, team_env):  # noqa: F811
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        team_env.delenv(name, raising=False)
    async with OpenAIProtocolServer(api_key="gemini-test-key") as gemini:
        gemini.script(stream("Завтра ", "в десять подходит."))
        server = await app_server(
            agent={
                "lisa_brain": "llm",
                "gemini_api_key": "gemini-test-key",
                "gemini_base_url": gemini.url,
                "gemini_model": "gemini-2.0-flash",
                "openai_timeout_s": 5.0,
            }
        )
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            a, b = await register(client, "Anna"), await register(client, "Ben")
            group = (
                await client.post(
                    "/groups",
                    json={"name": "Team", "participantIds": [b["user"]["id"]]},
                    headers=a["headers"],
                )
            ).json()["group"]
            await client.post(
                f"/chats/{group['id']}/messages", json={"content": "Ben, are you free?"}, headers=a["headers"]
            )
            asked = await client.post(
                "/ai/ask",
                json={"chatId": group["id"], "question": "Лиза, можем созвониться завтра?"},
                headers=b["headers"],
            )
            assert asked.status_code == 200, asked.text
            message = asked.json()["message"]
            assert "Завтра в десять подходит." in message["content"]
            assert message["metadata"]["suggestMeet"] is True
        request = gemini.requests[-1]
        assert request.body["model"] == "gemini-2.0-flash"
        assert request.headers["authorization"] == "Bearer gemini-test-key"
        sent = " ".join(str(m.get("content")) for m in request.messages)
        assert "Anna: Ben, are you free?" in sent and "можем созвониться" in sent
