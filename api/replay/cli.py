"""``lisa replay FILE... [--json OUT] [--report-dir DIR] [--server URL] [--concurrency N]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from api.logging_setup import setup_logging
from api.replay.report import class_summary, write_json, write_scenario_files
from api.replay.result import ScenarioResult
from api.replay.runner import replay_all
from api.replay.scenario import ScenarioError, load_scenarios


def _print_result(result: ScenarioResult) -> None:
    mark = "PASS" if result.passed else "FAIL"
    latency = f" latency {max(result.turn_latency_ms)} ms max" if result.turn_latency_ms else ""
    status = result.outcome.get("status")
    print(
        f"{mark}  {result.name} [{result.kind}] status={status}{latency} ({result.duration_ms / 1000:.1f} s)"
    )
    for failure in result.failures:
        print(f"      - {failure}")
    sys.stdout.flush()


def run_replay(args: argparse.Namespace) -> int:
    """Replay the files; 0 when every expectation of every scenario holds, 1 when one fails, 2 on bad files."""
    setup_logging("WARNING")  # warnings only (pipecat's too), phone numbers masked
    try:
        scenarios = load_scenarios([Path(f) for f in args.files])
    except ScenarioError as exc:
        print(f"lisa replay: invalid scenario file(s):\n{exc}", file=sys.stderr)
        return 2
    concurrency = max(1, int(getattr(args, "concurrency", 1) or 1))
    server = getattr(args, "server", None)
    print(
        f"replaying {len(scenarios)} scenario(s), {concurrency} at once, against {server or 'an in-process app'}"
    )
    results = asyncio.run(
        replay_all(scenarios, server=server, concurrency=concurrency, on_result=_print_result)
    )
    by_class = class_summary(scenarios, results)
    for name, entry in by_class.items():
        print(f"class {name}: {entry['passed']}/{entry['total']} passed")
    if getattr(args, "json_out", None):
        print(f"report: {write_json(args.json_out, results, by_class)}")
    if getattr(args, "report_dir", None):
        for result in results:
            write_scenario_files(args.report_dir, result)
        print(f"per-scenario reports: {args.report_dir}")
    failed = [r.name for r in results if not r.passed]
    print(
        f"{len(results) - len(failed)} passed, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0
