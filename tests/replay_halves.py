"""Replaying scenario files in a child process: the replay suite runs two of these at once, so both cores
work (one Python process gets about one core: the GIL)."""

from __future__ import annotations

import asyncio

from api.replay.result import ScenarioResult
from api.replay.runner import replay_all
from api.replay.scenario import load_scenarios


def replay_files(paths: list[str], concurrency: int) -> list[ScenarioResult]:
    """Replay the scenarios of ``paths`` on the embedded default, ``concurrency`` at once (no latency check)."""
    return asyncio.run(replay_all(load_scenarios(paths), concurrency=concurrency, check_latency=False))
