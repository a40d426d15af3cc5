"""What the app keeps for its lifetime: settings, database, engine and the long-running services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.engine import Engine
from agent.settings import AgentSettings
from api.settings import ApiSettings
from api.storage import Database


@dataclass
class AppState:
    settings: ApiSettings
    agent_settings: AgentSettings
    db: Database
    engine: Engine
    # services added by each area (chat hub, call manager, request processor, carrier...), by name
    services: dict[str, Any] = field(default_factory=dict)
