"""``GET /api/v1/health``: status, version, active providers (never a secret) and database reachability.

Load balancers poll it often, so it is cheap: the version is read once per process, the providers come from the
app's own settings, and a successful database check (a ping, then the active sessions' count) answers for a
second (:mod:`api.edge.database_check`; a failure is never reused, an outage seen by any request forgets it); the
body is built again only when the sessions count or the uptime (to 0.1 s) changes.
"""

from __future__ import annotations

import time
import weakref
from functools import cache
from importlib import metadata

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.chat.models import HealthOut
from api.edge.database_check import last_check
from api.state import AppState, app_state

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


class _LastAnswer:
    """The last health body and what it was built from: the same app, sessions count and uptime (to 0.1 s)
    give the same bytes, so a load balancer's polling rebuilds it at most ten times a second."""

    key: tuple[weakref.ref[AppState], int | None, float] | None = None
    body = b""


_last = _LastAnswer()


@router.get(
    "/api/v1/health",
    response_model=HealthOut,
    summary="Health: status, version, providers, database",
    responses={503: {"model": HealthOut, "description": "the database is not reachable"}},
)
async def health(request: Request) -> Response:
    state = app_state(request)  # not StateDep: a dependency level costs ~10 µs, a fifth of this route
    active = await _active_sessions(state)
    reachable = active is not None
    uptime = round(time.monotonic() - state.chat.started, 1)
    key = _last.key
    if key is None or key[0]() is not state or key[1:] != (active, uptime):
        _last.body = (
            HealthOut(
                status="ok" if reachable else "degraded",
                version=version(),
                providers=providers(state),
                database={"kind": state.db.dialect, "reachable": reachable},
                sessions={"active": active} if active is not None else {},
                uptime_s=uptime,
            )
            .model_dump_json()
            .encode()
        )  # pydantic's own serializer: no dict copy and no stdlib json pass
        _last.key = (weakref.ref(state), active, uptime)
    return Response(_last.body, status_code=200 if reachable else 503, media_type="application/json")
