"""Schemathesis fuzzing of the whole HTTP API from its OpenAPI schema, against a real ``lisa serve``.

Used by ``tests/test_fuzz_http.py`` (a short, seeded run in CI) and ``bench/fuzz_api.py`` (a longer run).
Schemathesis's own engine runs its phases over every operation of ``/openapi.json`` (examples, coverage —
boundary and invalid values of every parameter and body field —, random fuzzing of valid and invalid data,
stateful sequences), once per caller (:class:`Variant`), then again with the path ids of real resources (a
chat session and a booking request made beforehand) so that the routes behind a 404 are reached too.

Every response must not be a 5xx (``not_a_server_error``) and must have a documented status code, content
type and body schema (``status_code_conformance``, ``content_type_conformance``,
``response_schema_conformance``). With auth on, a caller whose token is missing, expired, for another
audience, signed with another secret or tampered with must get 401 from every operation that documents 401,
and a valid token must never get 401 (``auth_conformance``, checked here on every recorded interaction).

Failures are collected, not raised, so one run reports all of them: once per (operation, caller, check,
status), with a curl command to reproduce it and, for a 5xx, what the server logged meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.engine import from_schema as engine_for

from api.cli.inprocess_server import free_port

ROOT = Path(__file__).resolve().parents[1]
JWT_SECRET = "fuzz-jwt-secret-0123456789abcdef0123456789"  # only ever known to the fuzzed server
CLOCK = "2026-11-23T09:00:00+01:00"  # Lisa's clock: a Monday morning
REQUEST_TIMEOUT_S = 10.0
USER_ID = "fuzz-user-1"
EDGE_FIRST = {408, 413, 415}  # answered by the HTTP edge before authentication (api/edge/body_limit.py)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# settings the served app reads: none of the developer's or CI's may leak into the fuzzed server
_APP_ENV_PREFIXES = ("LISA_", "SUPABASE_", "TWILIO_", "DEEPGRAM_", "ELEVENLABS_", "OPENAI_", "BUSINESS_",
                     "OUTBOUND_", "AUTH_", "DATABASE_", "RATE_LIMIT", "PUBLIC_URL", "SESSION_", "CORS")  # fmt: skip


# --- the server ------------------------------------------------------------------------------------
class LisaServe:
    """``lisa serve`` in a child process on the embedded default: a temp dir (its SQLite file, no ``.env``),
    a free loopback port, loopback telephony, rate limit off; ``auth`` turns bearer-token auth on (HS256 with
    :data:`JWT_SECRET`). ``root`` is the checkout whose code is served."""

    def __init__(self, *, auth: bool = False, env: dict[str, str] | None = None, root: Path = ROOT) -> None:
        self.auth = auth
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory(prefix="lisa-fuzz-")
        self.log_path = Path(self._dir.name) / "server.log"
        base = {k: v for k, v in os.environ.items() if not k.upper().startswith(_APP_ENV_PREFIXES)}
        self.env = {
            **base,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{self._dir.name}/fuzz.db",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_MINUTE": "0",
            "LISA_TELEPHONY": "loopback",
            "LISA_CLOCK": CLOCK,
            "AUTH_ENABLED": "true" if auth else "false",
            "API_DOCS": "public",  # the schema to fuzz from, also with auth on (where it is off by default)
            "PYTHONPATH": str(root),
            **({"SUPABASE_JWT_SECRET": JWT_SECRET} if auth else {}),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LisaServe:
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", "serve"],
            cwd=self._dir.name,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.__exit__()
                raise RuntimeError(f"lisa serve exited during start-up:\n{self.log()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/api/v1/health", timeout=1)
                return self
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("lisa serve did not start within 120 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self._dir.cleanup()

    def log(self, start: int = 0) -> str:
        """The server's output from byte ``start`` on."""
        with contextlib.suppress(OSError), self.log_path.open("rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", errors="replace")
        return ""

    def log_size(self) -> int:
        with contextlib.suppress(OSError):
            return self.log_path.stat().st_size
        return 0


# --- callers ---------------------------------------------------------------------------------------
def make_token(secret: str = JWT_SECRET, *, expires_in: float = 3600, **claims: Any) -> str:
    """An HS256 token as Supabase issues them (``iat`` now, ``exp`` ``expires_in`` from now)."""
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + int(expires_in), **claims}, secret, algorithm="HS256")


def tampered(token: str, **claims: Any) -> str:
    """``token`` with its payload replaced by ``claims``, its header and signature kept."""
    header, _, signature = token.split(".")
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{payload}.{signature}"


@dataclass(frozen=True)
class Variant:
    """A caller: the headers it sends; ``refused`` callers must get 401 wherever 401 is documented, and are
    fuzzed lightly (random data only: the answer never depends on it)."""

    name: str
    headers: dict[str, str]
    refused: bool = False


USER_CLAIMS = {"sub": USER_ID, "role": "authenticated", "aud": "authenticated"}
ADMIN_CLAIMS = {"sub": "fuzz-admin", "role": "service_role", "aud": "authenticated"}


def auth_off_variants() -> list[Variant]:
    return [Variant("anonymous", {})]


def auth_on_variants(secret: str = JWT_SECRET) -> list[Variant]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    now = int(time.time())
    user = make_token(secret, **USER_CLAIMS)
    return [
        Variant("user", bearer(user)),
        Variant("service_role", bearer(make_token(secret, **ADMIN_CLAIMS))),
        Variant("no_token", {}, refused=True),
        Variant("expired", bearer(make_token(secret, expires_in=-60, **USER_CLAIMS)), refused=True),
        Variant(
            "wrong_audience", bearer(make_token(secret, **{**USER_CLAIMS, "aud": "other-app"})), refused=True
        ),
        Variant(
            "other_secret",
            bearer(make_token("not-our-secret-but-just-as-long-0123456789", **ADMIN_CLAIMS)),
            refused=True,
        ),
        Variant(
            "service_role_wrong_audience",
            bearer(make_token(secret, **{**ADMIN_CLAIMS, "aud": "other-app"})),
            refused=True,
        ),
        Variant("no_expiry", bearer(jwt.encode({**ADMIN_CLAIMS, "iat": now}, secret, "HS256")), refused=True),
        Variant("tampered", bearer(tampered(user, **ADMIN_CLAIMS, iat=now, exp=now + 3600)), refused=True),
    ]


# --- results ---------------------------------------------------------------------------------------
@dataclass
class FoundFailure:
    operation: str
    caller: str
    check: str
    status: int | None
    message: str
    reproduce: str
    server_log: str = ""

    def describe(self) -> str:
        text = f"{self.operation} [{self.caller}] {self.check} (status {self.status}): {self.message}\n"
        text += "    " + self.reproduce.replace("\n", "\n    ")
        if self.server_log.strip():
            text += "\n    server log:\n" + "\n".join(
                "      " + line for line in self.server_log.splitlines()
            )
        return text


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    cases: Counter[str] = field(default_factory=Counter)  # operation -> requests sent
    phases: Counter[str] = field(default_factory=Counter)  # phase -> requests sent
    callers: Counter[str] = field(default_factory=Counter)  # caller -> requests sent
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str, int | None], FoundFailure] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the engine could not test something
    seconds: float = 0.0

    @property
    def total_cases(self) -> int:
        return sum(self.cases.values())

    @property
    def server_errors(self) -> list[FoundFailure]:
        return [f for f in self.failures.values() if f.status is None or f.status >= 500]

    def describe(self) -> str:
        lines = [f.describe() for f in self.failures.values()] + [f"engine error: {e}" for e in self.errors]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "operations": len(self.operations),
            "endpoints": len({op.split(" ", 1)[1] for op in self.operations}),
            "cases": self.total_cases,
            "cases_per_operation": dict(sorted(self.cases.items())),
            "cases_per_phase": dict(sorted(self.phases.items())),
            "cases_per_caller": dict(self.callers),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": len(self.server_errors),
            "failures": [vars(f) for f in self.failures.values()],
            "engine_errors": self.errors,
            "seconds": round(self.seconds, 1),
        }


# --- fuzzing ---------------------------------------------------------------------------------------
@dataclass
class Budget:
    """How much to generate: ``max_examples`` per operation and phase for full callers, ``refused_examples``
    for refused ones; ``seed`` and ``deterministic`` make a run reproducible."""

    max_examples: int = 10
    refused_examples: int = 3
    seed: int = 11
    deterministic: bool = True
    stateful: bool = True


class Fuzzer:
    """Fuzzes every operation of a running server's schema under each caller; :meth:`run` -> report."""

    def __init__(self, server: LisaServe, variants: list[Variant], budget: Budget) -> None:
        self.server = server
        self.variants = variants
        self.budget = budget
        self.report = FuzzReport()
        self.raw = requests.get(server.url + "/openapi.json", timeout=REQUEST_TIMEOUT_S).json()
        self.documents_401 = {
            f"{method.upper()} {path}": "401" in op.get("responses", {})
            for path, item in self.raw["paths"].items()
            for method, op in item.items()
        }
        self.report.operations = sorted(self.documents_401)
        # ``security: []`` marks an operation that takes no bearer token (a sign-in): its 401 is about the
        # credentials in its body, so the token callers' rules do not apply there
        self.public = {
            f"{method.upper()} {path}"
            for path, item in self.raw["paths"].items()
            for method, op in item.items()
            if op.get("security") == []
        }

    def run(self) -> FuzzReport:
        started = time.monotonic()
        owner = next((v for v in self.variants if not v.refused), self.variants[0])
        known = self.make_resources(owner.headers)
        for variant in self.variants:
            self.fuzz(variant)
            if not variant.refused:  # the same again with ids that exist, so 404 does not hide the route
                self.fuzz(variant, parameters=known)
        self.report.seconds = time.monotonic() - started
        return self.report

    def make_resources(self, headers: dict[str, str]) -> dict[str, str]:
        """A chat session and a booking request owned by the caller; their ids for the fixed-id pass."""
        url = self.server.url
        created = requests.post(url + "/api/v1/sessions", json={}, headers=headers, timeout=REQUEST_TIMEOUT_S)
        created.raise_for_status()
        session_id = created.json()["session_id"]
        body = {
            "request_id": "fuzz-request-1",
            "user_id": USER_ID,
            "title": "Haircut",
            "description": "A haircut for Alex",
            "callback_number": "+4915112345678",
            "number_to_call": "+493012345678",
            "preferred_time": "tomorrow at 10",
        }
        requested = requests.post(url + "/api/process-request", json=body, headers=headers, timeout=30)
        if requested.status_code >= 300:
            raise RuntimeError(
                f"could not make a request to fuzz with: {requested.status_code} {requested.text}"
            )
        return {"session_id": session_id, "chat_id": session_id, "request_id": body["request_id"]}

    def config(self, variant: Variant, parameters: dict[str, str] | None) -> SchemathesisConfig:
        refused = variant.refused
        return SchemathesisConfig.from_dict(
            {
                "seed": self.budget.seed,
                "base-url": self.server.url,
                "headers": variant.headers,
                "workers": 1,
                "request-timeout": REQUEST_TIMEOUT_S,
                "continue-on-failure": True,
                "parameters": parameters or {},
                "generation": {
                    "mode": "all",
                    "max-examples": self.budget.refused_examples if refused else self.budget.max_examples,
                    "deterministic": self.budget.deterministic,
                    "database": "none",
                },
                "phases": {
                    "examples": {"enabled": not refused},
                    "coverage": {"enabled": not refused},
                    "stateful": {"enabled": self.budget.stateful and not refused and not parameters},
                },
                "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            }
        )

    def fuzz(self, variant: Variant, parameters: dict[str, str] | None = None) -> None:
        schema = schemathesis.openapi.from_dict(self.raw, config=self.config(variant, parameters))
        if parameters:  # only the operations that take one of these ids in their path
            names = "|".join(parameters)
            schema = schema.include(path_regex=rf"\{{({names})\}}")
        caller = variant.name + (" (existing ids)" if parameters else "")
        log_from = self.server.log_size()
        for event in engine_for(schema).execute():
            if isinstance(event, events.ScenarioStarted):
                log_from = self.server.log_size()
            elif isinstance(event, events.ScenarioFinished):
                self.record(event, variant, caller, log_from)
            elif isinstance(event, events.NonFatalError):
                self.report.errors.append(
                    f"{event.label} [{caller}]: {event.info.title}: {event.info.message}"[:500]
                )
            elif isinstance(event, events.FatalError):
                self.report.errors.append(f"[{caller}] fatal: {event.exception!r}"[:500])

    def record(self, event: events.ScenarioFinished, variant: Variant, caller: str, log_from: int) -> None:
        recorder = event.recorder
        phase = event.phase.name.lower()
        for case_id, interaction in recorder.interactions.items():
            node = recorder.cases.get(case_id)
            label = node.value.operation.label if node else (event.label or "?")
            self.report.cases[label] += 1
            self.report.phases[phase] += 1
            self.report.callers[caller] += 1
            response = interaction.response
            if response is None:
                self.add(label, caller, "no_response", None, "no response", "", self.server.log(log_from))
                continue
            self.report.statuses[response.status_code] += 1
            if problem := self.auth_problem(variant, label, response.status_code, interaction.request.uri):
                curl = self.curl(node, variant)
                self.add(label, caller, "auth_conformance", response.status_code, problem, curl)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                interaction = recorder.interactions.get(case_id)
                status = interaction.response.status_code if interaction and interaction.response else None
                node = recorder.cases.get(case_id)
                label = node.value.operation.label if node else (event.label or "?")
                failure = check.failure_info.failure
                message = f"{failure.title}: {failure.message}".strip(": ")
                server_log = self.server.log(log_from)[-4000:] if status is None or status >= 500 else ""
                self.add(
                    label, caller, check.name, status, message, check.failure_info.code_sample, server_log
                )

    def auth_problem(self, variant: Variant, label: str, status: int, uri: str) -> str | None:
        """The refused caller's answer is 401, unless the HTTP edge (api/edge/body_limit.py) refused the request
        before anyone looked at the token, as it does by design: 408/413/415, and 422 for a NUL in the URL."""
        if not self.server.auth or label in self.public:
            return None
        edge = status in EDGE_FIRST or (status == 422 and "%00" in uri)
        if variant.refused and self.documents_401.get(label) and status != 401 and not edge:
            return f"a caller with {variant.name.replace('_', ' ')} got {status}, not 401"
        if not variant.refused and status == 401:
            return f"a valid {variant.name} token was refused (401)"
        return None

    def curl(self, node: Any, variant: Variant) -> str:
        if node is None:
            return ""
        try:
            return node.value.as_curl_command(headers=variant.headers)
        except Exception as exc:  # reproduction text is best effort
            return f"(no curl command: {exc})"

    def add(
        self,
        label: str,
        caller: str,
        check: str,
        status: int | None,
        message: str,
        reproduce: str,
        server_log: str = "",
    ) -> None:
        key = (label, caller, check, status)
        if key not in self.report.failures:
            self.report.failures[key] = FoundFailure(
                label, caller, check, status, message[:800], reproduce, server_log
            )


def fuzz(*, auth: bool, budget: Budget, root: Path = ROOT) -> FuzzReport:
    """One whole run: start a fresh server, fuzz every operation under every caller, stop the server."""
    with LisaServe(auth=auth, root=root) as server:
        variants = auth_on_variants() if auth else auth_off_variants()
        return Fuzzer(server, variants, budget).run()
