"""The whole HTTP API fuzzed from its OpenAPI schema with Schemathesis, against a real ``lisa serve``.

A short, reproducible run (fixed seed, deterministic generation) on the embedded default: auth off, and auth
on with valid, expired, wrong-audience, unsigned-by-us, tampered and expiry-less tokens. No 5xx anywhere,
every status code, content type and body as documented, 401 for every refused caller where 401 is documented
(tests/openapi_fuzz.py says what is checked). ``python -m bench.fuzz_api`` runs the same for longer.
"""

from __future__ import annotations

import pytest
from openapi_fuzz import Budget, FuzzReport, fuzz

# CI's budget: ~20 s without auth, ~40 s with its nine callers, on a loaded 2-core machine
BUDGET = Budget(max_examples=10, refused_examples=3, seed=20261123, deterministic=True)


def check(report: FuzzReport) -> None:
    assert not report.failures and not report.errors, f"{len(report.failures)} failures:\n{report.describe()}"
    untested = set(report.operations) - set(report.cases)
    assert not untested, f"operations never called: {sorted(untested)}"
    assert not report.server_errors


@pytest.mark.timeout(300)
@pytest.mark.xdist_group("fuzz-http-off")
def test_every_operation_fuzzed_without_auth() -> None:
    report = fuzz(auth=False, budget=BUDGET)
    check(report)
    assert len(report.operations) >= 20 and report.total_cases >= 500, report.as_json()
    assert {"coverage", "fuzzing", "stateful_testing"} <= set(report.phases), report.phases
    assert report.callers["anonymous (existing ids)"] > 0  # the routes behind existing ids were reached


@pytest.mark.timeout(300)
@pytest.mark.xdist_group("fuzz-http-on")
def test_every_operation_fuzzed_with_auth_and_bad_tokens() -> None:
    report = fuzz(auth=True, budget=BUDGET)
    check(report)
    assert report.total_cases >= 1000, report.as_json()
    refused = ("no_token", "expired", "wrong_audience", "other_secret", "tampered", "service_role_wrong_audience",
               "no_expiry")  # fmt: skip
    assert all(report.callers[name] > 0 for name in ("user", "service_role", *refused)), report.callers
    assert report.statuses[401] > 0 and report.statuses[200] > 0


async def test_an_offset_beyond_the_database_integers_is_refused_not_a_500(app_server) -> None:
    """Found by the fuzzer: ``?offset=10**22`` overflowed SQLite's 64-bit integer in the driver (500)."""
    import httpx

    server = await app_server()
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/api/v1/sessions", "/api/calls"):
            answer = await http.get(path, params={"offset": 10**22})
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["detail"][0]["loc"] == ["query", "offset"]
            assert (await http.get(path, params={"offset": 1_000_000_000})).status_code == 200
