"""``GET /api/v1/health``: status, version, active providers (never a secret) and database reachability."""

from __future__ import annotations

import time
from importlib import metadata

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.chat.models import HealthOut
from api.deps import StateDep
from api.state import AppState

router = APIRouter(tags=["health"])


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
    try:
        from pipelines.settings import VoiceSettings

        voice = VoiceSettings()
        found["stt"] = _STT.get(voice.lisa_stt, voice.lisa_stt)
        found["tts"] = _TTS.get(voice.lisa_tts, voice.lisa_tts)
    except Exception:  # the voice area may be absent; report what is known
        found["stt"], found["tts"] = _STT["local"], _TTS["local"]
    found["telephony"] = state.telephony.carrier.name
    found["storage"] = "postgresql" if state.db.dialect == "postgresql" else "sqlite"
    found.update({k: str(v) for k, v in state.providers.items()})
    return found


@router.get(
    "/api/v1/health",
    response_model=HealthOut,
    summary="Health: status, version, providers, database",
    responses={503: {"model": HealthOut, "description": "the database is not reachable"}},
)
async def health(state: StateDep) -> JSONResponse:
    reachable = await state.db.ping()
    sessions: dict[str, int] = {}
    chat = state.chat
    if reachable:
        sessions["active"] = await chat.store.count("active")
    body = HealthOut(
        status="ok" if reachable else "degraded",
        version=version(),
        providers=providers(state),
        database={"kind": state.db.dialect, "reachable": reachable},
        sessions=sessions,
        uptime_s=round(time.monotonic() - chat.started, 1),
    )
    return JSONResponse(body.model_dump(), status_code=200 if reachable else 503)
