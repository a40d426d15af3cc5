"""The app served in-process for one scenario: uvicorn on a free loopback port, a fresh SQLite database in a
temporary folder, Lisa's clock, timezone and language from the scenario."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.settings import AgentSettings
from api.cli.inprocess_server import InProcessServer, loopback_socket, serve_in_process
from api.replay.scenario import Scenario
from api.settings import ApiSettings
from api.state import Overrides
from pipelines.settings import VoiceSettings

log = logging.getLogger(__name__)


@dataclass
class LocalServer:
    """The served app and its temporary folder (removed on :meth:`stop`)."""

    served: InProcessServer
    tmp: tempfile.TemporaryDirectory[str]

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def ws_url(self) -> str:
        return self.served.ws_url

    @property
    def state(self) -> Any:
        """The app's :class:`api.state.AppState`."""
        return self.served.state

    async def stop(self) -> None:
        await self.served.stop()
        with contextlib.suppress(OSError):
            self.tmp.cleanup()


def scenario_settings(scenario: Scenario, port: int, database_url: str) -> tuple[ApiSettings, AgentSettings]:
    """Settings for one scenario: the environment's speech and LLM providers, the scenario's clock/timezone/
    language, a fresh database, no auth, rate limit or Supabase (the replay is the only client, and its
    outcomes must not reach a real frontend)."""
    api = ApiSettings(
        host="127.0.0.1", port=port, public_url=None, database_url=database_url, rate_limit_per_minute=0
    )
    api = api.model_copy(update={"auth_enabled": False, "supabase_url": None, "supabase_service_key": None})
    agent = AgentSettings(lisa_timezone=scenario.timezone, lisa_language=scenario.language)
    own = {k: v for k, v in scenario.settings.items() if k in AgentSettings.model_fields}
    agent = agent.model_copy(update={"lisa_clock": scenario.clock, **own})
    return api, agent


def scenario_overrides(scenario: Scenario) -> Overrides:
    """What the scenario sets of the voice pipeline (``settings:`` keys of ``VoiceSettings``)."""
    voice = {k: v for k, v in scenario.settings.items() if k in VoiceSettings.model_fields}
    return Overrides(voice_settings=VoiceSettings(**voice)) if voice else Overrides()


async def start_local_server(scenario: Scenario) -> LocalServer:
    """Start the app for ``scenario``; raises the app's start-up error if it cannot start."""
    from api.app import create_app

    tmp = tempfile.TemporaryDirectory(prefix=f"lisa-replay-{scenario.name[:40]}-")
    sock = loopback_socket()
    api, agent = scenario_settings(scenario, sock.getsockname()[1], f"sqlite:///{Path(tmp.name) / 'lisa.db'}")
    try:
        served = await serve_in_process(
            create_app(api, agent, overrides=scenario_overrides(scenario)),
            sock,
            name=f"replay-server-{scenario.name}",
        )
    except BaseException:
        tmp.cleanup()
        raise
    return LocalServer(served, tmp)
