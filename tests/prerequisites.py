"""What some tests need from outside the repository: PostgreSQL and the shared scenarios (``../shared``).

Locally a missing prerequisite skips the test, with the reason. Under ``CI=true`` it fails the test instead:
CI never passes by skipping the tests that prove the most (two instances never call twice, row-level
security, the shared scenarios)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()
SHARED_SCENARIOS = SHARED / "scenarios"


def missing(reason: str) -> NoReturn:
    """Skip the running test because ``reason`` (a prerequisite is absent); fail it under ``CI=true``."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing prerequisite fails the test)", pytrace=False)
    pytest.skip(reason)


def shared_scenarios(pattern: str = "*.yaml") -> list[Path]:
    """The shared scenario files matching ``pattern``, sorted (none when ``../shared`` is absent)."""
    return sorted(SHARED_SCENARIOS.glob(pattern)) if SHARED_SCENARIOS.is_dir() else []


def require_shared_scenarios(pattern: str = "*.yaml") -> list[Path]:
    """The shared scenario files matching ``pattern``; :func:`missing` when there are none."""
    found = shared_scenarios(pattern)
    if not found:
        missing(f"no shared scenarios {pattern} at {SHARED_SCENARIOS}")
    return found


CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium() -> str:
    """The system's Chromium for the browser tests (``make test`` installs Debian's ``chromium`` when it
    runs as root); :func:`missing` when there is none, or when the ``playwright`` package is absent."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("playwright") is None:
        missing("the playwright package is not installed (pip install -e '.[dev]')")
    found = os.environ.get("LISA_CHROMIUM") or next(
        (p for p in CHROMIUM_PATHS if Path(p).is_file()), shutil.which("chromium")
    )
    if not found:
        missing("no system Chromium (apt-get install -y chromium, as root; `make test` does it)")
    return found
