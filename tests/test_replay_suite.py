"""The whole replay suite through the real runner: ours (tests/scenarios) and ../shared/scenarios.

Every scenario is replayed end to end on the embedded default (in-process app per scenario, real
WebSocket, real audio, real speech models), ``CONCURRENCY`` at once, once per test session; each scenario
is then reported as its own test. Turn latency is measured but not enforced here (speed is measured in
``bench/``, and CI machines are shared): ``lisa replay`` enforces ``max_turn_latency_ms``.

Scenarios that fail because of a known bug outside the replay harness are listed in ``KNOWN_ISSUES`` with
the reason; they still run, and show up as XFAIL (or XPASS once fixed). A failed scenario is never replayed
again: a flaky scenario is a bug to fix at its cause. Without ``../shared/scenarios`` the suite skips them
(locally) or fails (under ``CI=true``, tests/prerequisites.py).
"""

from __future__ import annotations

import asyncio
import fcntl
import pickle
import threading
from pathlib import Path

import pytest
from prerequisites import SHARED_SCENARIOS, require_shared_scenarios, shared_scenarios

from api.replay.report import class_summary, write_json, write_scenario_files
from api.replay.result import ScenarioResult
from api.replay.runner import replay_all
from api.replay.scenario import Scenario, ScenarioError, load_scenarios
from api.replay.settings import ReplaySettings

OURS = Path(__file__).parent / "scenarios"
SHARED = SHARED_SCENARIOS  # ../shared/scenarios, beside the repository
SETTINGS = ReplaySettings()
CONCURRENCY = SETTINGS.lisa_replay_concurrency
REPORT_DIR = SETTINGS.lisa_replay_report_dir  # keep the WAVs/timelines of a test run there

KNOWN_ISSUES: dict[str, str] = {}


def _files() -> list[Path]:
    return sorted(OURS.glob("*.yaml")) + shared_scenarios()  # test_shared_scenarios_are_there: when none


try:
    SCENARIOS: list[Scenario] = load_scenarios(_files())
    LOAD_ERROR = ""
except ScenarioError as exc:  # reported by test_suite_is_big_enough instead of breaking collection
    SCENARIOS, LOAD_ERROR = [], str(exc)


def _replay(scenarios: list[Scenario]) -> list[ScenarioResult]:
    box: dict[str, list[ScenarioResult]] = {}

    def run() -> None:  # its own thread and event loop: independent of the tests' loops
        box["results"] = asyncio.run(replay_all(scenarios, concurrency=CONCURRENCY, check_latency=False))

    thread = threading.Thread(target=run, name="replay-suite")
    thread.start()
    thread.join()
    if "results" not in box:
        raise RuntimeError("the replay suite crashed (see the log)")
    return box["results"]


def _replay_and_report(out: Path) -> dict[str, ScenarioResult]:
    results = {r.name: r for r in _replay(SCENARIOS)}
    write_json(out / "report.json", list(results.values()), class_summary(SCENARIOS, list(results.values())))
    for result in results.values():
        write_scenario_files(out, result)
    return results


@pytest.fixture(scope="module")
def suite_results(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, ScenarioResult]:
    """Every scenario replayed once per test run (no second attempt for a failed one). With several xdist
    workers, whichever needs the results first replays; the others wait for its results and read them (two
    replays at once would double the load and be two different runs)."""
    if worker_id == "master":
        return _replay_and_report(Path(REPORT_DIR) if REPORT_DIR else tmp_path_factory.mktemp("replay"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, the same for every worker
    cache = shared / "replay-suite.pickle"
    with (shared / "replay-suite.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cache.exists():
            return pickle.loads(cache.read_bytes())  # written by this very test run
        results = _replay_and_report(Path(REPORT_DIR) if REPORT_DIR else tmp_path_factory.mktemp("replay"))
        cache.write_bytes(pickle.dumps(results))
        return results


def _param(scenario: Scenario) -> object:
    marks = [pytest.mark.xdist_group("replay-suite"), pytest.mark.timeout(2400)]
    if scenario.kind != "chat":
        marks.append(pytest.mark.voice)
    if scenario.name in KNOWN_ISSUES:
        marks.append(pytest.mark.xfail(reason=KNOWN_ISSUES[scenario.name], strict=False))
    return pytest.param(scenario, id=scenario.name, marks=marks)


def test_shared_scenarios_are_there() -> None:
    """The shared scenarios are part of the suite: their absence skips (locally) or fails (CI), never passes."""
    found = require_shared_scenarios()
    shared = [s for s in SCENARIOS if s.path and s.path.parent == SHARED]
    assert len(shared) == len(found), "every shared scenario is in the suite"


def test_suite_is_big_enough() -> None:
    assert not LOAD_ERROR, LOAD_ERROR
    ours = [s for s in SCENARIOS if s.path and s.path.parent == OURS.resolve()]
    assert len(ours) >= 20
    kinds = {s.kind for s in ours}
    assert kinds == {"inbound", "outbound", "chat"}


# the failure classes of issue 10 ("Lisa understands real phone talk"), each covered by our own scenarios
ISSUE_10_CLASSES = (
    "record_matches_call", "misheard_confirmation", "several_offers", "unanswerable_question",
    "misheard_in_context", "paraphrase", "new_request_not_yes", "message_not_booking", "loops",
    "fillers_corrections", "unsure_names",
)  # fmt: skip


# the situations of issue 15 (calls that survive the real phone network): outbound voice only
ISSUE_15_CLASSES = ("on_hold", "phone_menu", "voicemail", "call_screener")


def _impaired(scenario: Scenario) -> bool:
    """A line with noise, lost frames or jitter, or a party that barges in."""
    channel = scenario.channel
    noisy = channel is not None and (
        channel.snr_db is not None or channel.drop_rate > 0 or channel.jitter_ms > 0
    )
    return noisy or any(turn.barge_in_after_ms is not None for turn in scenario.party)


def test_every_failure_class_has_scenarios_in_voice_and_chat() -> None:
    ours = [s for s in SCENARIOS if s.path and s.path.parent == OURS.resolve()]
    classed = [s for s in ours if getattr(s, "classes", None)]
    assert len(classed) >= 60
    for name in ISSUE_10_CLASSES:
        voice = [s for s in classed if name in s.classes and s.kind != "chat"]
        kinds = {s.kind for s in voice}
        # classes 1-5 are about the offers and confirmations of a business Lisa calls: outbound only
        wanted = {"outbound"} if name in ISSUE_10_CLASSES[:5] else {"inbound", "outbound"}
        assert kinds >= wanted, f"{name}: voice scenarios only {sorted(kinds)}"
        for kind in wanted:
            lines = {_impaired(s) for s in voice if s.kind == kind}
            assert lines == {True, False}, f"{name}: {kind} only {'impaired' if True in lines else 'clean'}"
    for name in set(ISSUE_10_CLASSES) - {
        "record_matches_call",
        "misheard_confirmation",
        "several_offers",
        "unanswerable_question",
        "misheard_in_context",
        "unsure_names",
    }:
        languages = {s.language for s in classed if name in s.classes and s.kind == "chat"}
        assert languages == {"en", "de"}, f"{name}: chat scenarios in {sorted(languages)}"
    for name in ISSUE_15_CLASSES:
        outbound = [s for s in classed if name in s.classes and s.kind == "outbound"]
        assert len(outbound) >= 2, f"{name}: fewer than two outbound voice scenarios"
    unknown = {c for s in classed for c in s.classes} - set(ISSUE_10_CLASSES) - set(ISSUE_15_CLASSES)
    assert not unknown, f"unknown classes: {sorted(unknown)}"


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario, suite_results: dict[str, ScenarioResult]) -> None:
    result = suite_results[scenario.name]
    assert result.passed, f"{scenario.name}: " + "; ".join(result.failures)
    if scenario.kind == "inbound" or result.ids.get("call_sid"):
        # the call went over the media stream: the party's audio, a transcript from the call record, and
        # Lisa's audio whenever she said something (to a fax or a mailbox she must not leave a message on she
        # says nothing)
        assert result.party_audio and result.transcript
        if any(
            line["speaker"] == "lisa" and not line["text"].startswith("[DTMF") for line in result.transcript
        ):
            assert result.lisa_audio
