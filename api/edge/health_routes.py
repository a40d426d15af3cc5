"""``GET /api/v1/health``: status, version, active providers (never a secret) and database reachability.

Load balancers poll it often, so it is cheap: the version is read once per process, the providers come from the
app's own settings, and a successful database check (a ping, then the active sessions' count) answers for a
second (:mod:`api.edge.database_check`; a failure is never reused, an outage seen by any request forgets it).
"""

from __future__ import annotations

import time
from functools import cache
from importlib import metadata

from fastapi import APIRouter
from fastapi.responses import Response

from api.chat.models import HealthOut
from api.deps import StateDep
from api.edge.database_check import last_check
from api.state import AppState

router = APIRouter(tags=["health"])


@cache
def version() -> str:
    try:
        return metadata.version("lisa-voice-agent")
    except metadata.PackageNotFoundError:
        return "0.0.0"


_STT = {"local": "faster-whisper tiny.en (local)", "deepgram": "deepgram"}
_TTS = {"local": "piper joe (local)", "elevenlabs": "elevenlabs"}


def providers(state: AppState) -> dict[str, str]:
    """Which provider serves each stage (names only). Areas may name theirs in ``state.providers``."""
    found: dict[str, str] = {"brain": state.agent_settings.lisa_brain}
    if state.agent_settings.lisa_brain == "llm":
        found["brain"] = f"llm ({state.agent_settings.llm_endpoint()[2]}; fallback rule)"
    voice = state.calls.voice_settings  # the voice settings the app's calls use
    found["stt"] = _STT.get(voice.lisa_stt, voice.lisa_stt)
    found["tts"] = _TTS.get(voice.lisa_tts, voice.lisa_tts)
    found["telephony"] = state.telephony.carrier.name
    found["storage"] = "postgresql" if state.db.dialect == "postgresql" else "sqlite"
    found.update({k: str(v) for k, v in state.providers.items()})
    return found


async def _active_sessions(state: AppState) -> int | None:
    """The active chat sessions, counted in the database (None: it cannot be reached)."""

    async def check() -> int | None:
        try:
            if not await state.db.ping():
                return None
            return await state.chat.store.count("active")
        except Exception:  # health reports, never raises
            return None

    return await last_check.count(state.db, check)


@router.get(
    "/api/v1/health",
    response_model=HealthOut,
    summary="Health: status, version, providers, database",
    responses={503: {"model": HealthOut, "description": "the database is not reachable"}},
)
async def health(state: StateDep) -> Response:
    active = await _active_sessions(state)
    reachable = active is not None
    body = HealthOut(
        status="ok" if reachable else "degraded",
        version=version(),
        providers=providers(state),
        database={"kind": state.db.dialect, "reachable": reachable},
        sessions={"active": active} if active is not None else {},
        uptime_s=round(time.monotonic() - state.chat.started, 1),
    )
    # pydantic's own serializer: no dict copy and no stdlib json pass
    return Response(
        body.model_dump_json(), status_code=200 if reachable else 503, media_type="application/json"
    )
