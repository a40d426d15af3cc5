"""A longer fuzzing run of the whole HTTP API (Schemathesis, tests/openapi_fuzz.py) against ``lisa serve``.

    .venv/bin/python -m bench.fuzz_api [--examples 100] [--seed N] [--deterministic]

Auth off, then auth on with every kind of caller (valid user and service role; missing, expired,
wrong-audience, foreign-signed, tampered and expiry-less tokens). Writes ``bench/results/fuzz_api.json``:
operations and endpoints fuzzed, cases tried per operation / phase / caller, statuses, and every failure
(5xx with the server's log, undocumented status codes or bodies, refused callers not answered 401). Exits 1
when anything failed. CI runs the same checks with a small budget (tests/test_fuzz_http.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from bench.common import RESULTS_DIR, write_result
from tests.openapi_fuzz import Budget, fuzz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and phase")
    parser.add_argument("--refused-examples", type=int, default=10, help="... for refused callers")
    parser.add_argument(
        "--seed", type=int, default=None, help="default: a new one (in the result, to replay)"
    )
    parser.add_argument("--deterministic", action="store_true", help="Hypothesis derandomized (as in CI)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    budget = Budget(args.examples, args.refused_examples, seed=seed, deterministic=args.deterministic)
    started = time.monotonic()
    runs = {"auth_off": fuzz(auth=False, budget=budget), "auth_on": fuzz(auth=True, budget=budget)}
    result = {
        "tool": "schemathesis " + _version("schemathesis"),
        "seed": seed,
        "examples_per_operation_and_phase": args.examples,
        "deterministic": args.deterministic,
        "seconds": round(time.monotonic() - started, 1),
        "cases": sum(r.total_cases for r in runs.values()),
        "server_errors": sum(len(r.server_errors) for r in runs.values()),
        "failures": sum(len(r.failures) for r in runs.values()),
        **{name: report.as_json() for name, report in runs.items()},
    }
    write_result(RESULTS_DIR / "fuzz_api.json", result)
    for name, report in runs.items():
        if report.failures or report.errors:
            print(f"== {name}\n{report.describe()}", file=sys.stderr)
    return 1 if result["failures"] or any(r.errors for r in runs.values()) else 0


def _version(name: str) -> str:
    from importlib import metadata

    return metadata.version(name)


if __name__ == "__main__":
    sys.exit(main())
