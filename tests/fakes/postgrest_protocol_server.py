"""A local HTTP server that speaks the PostgREST subset the ``supabase`` client uses against Supabase.

Not a mock of our code: it implements the wire protocol at ``/rest/v1/<table>`` — ``GET`` (``select`` and
``col=eq.value`` filters, ``order``), ``POST`` insert / upsert (``Prefer: resolution=merge-duplicates`` or
``ignore-duplicates`` with ``on_conflict``; ``return=representation|minimal``), ``PATCH`` update with ``eq``
filters, ``DELETE`` — and checks the service key in ``apikey`` / ``Authorization: Bearer``. Rows live in
memory (``server.tables``) and survive :meth:`stop` / :meth:`start`, so tests can take the "cloud" down and
bring it back on the same port.

Like PostgREST over its schema cache, it knows the tables and columns of our Supabase migration
(``supabase/migrations/*.sql``, :func:`migration_columns`): a payload with a column the migration does not
have is refused with PostgREST's 400 ``PGRST204``, a filter on one with ``42703``, an unknown table with 404
``PGRST205`` — so a typo in our Supabase writes fails a test.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MIGRATIONS = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
_CREATE = re.compile(r"create table (?:if not exists )?public\.(\w+)\s*\((.*?)\);", re.I | re.S)
_ALTER = re.compile(r"alter table (?:only )?(?:if exists )?public\.(\w+)\b(.*?);", re.I | re.S)
_ADD_COLUMN = re.compile(r"\badd column (?:if not exists )?(\w+)", re.I)
_NOT_COLUMNS = {"primary", "constraint", "unique", "check", "foreign", "exclude", "like"}


def migration_columns(directory: Path = MIGRATIONS) -> dict[str, set[str]]:
    """Table -> column names that the migrations in ``directory`` give ``public`` tables (``create table``
    column definitions and ``alter table … add column``), applied in file-name order."""
    tables: dict[str, set[str]] = {}
    for path in sorted(directory.glob("*.sql")):
        sql = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        for table, body in _CREATE.findall(sql):
            columns = tables.setdefault(table.lower(), set())
            for part in _top_level_parts(body):
                name = part.split(None, 1)[0].strip('"').lower() if part.strip() else ""
                if name and name not in _NOT_COLUMNS:
                    columns.add(name)
        for table, body in _ALTER.findall(sql):
            tables.setdefault(table.lower(), set()).update(c.lower() for c in _ADD_COLUMN.findall(body))
    return tables


def _top_level_parts(body: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in body:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    return [*parts, "".join(current)]


def _error(code: str, message: str) -> dict[str, Any]:
    """PostgREST's error body."""
    return {"code": code, "details": None, "hint": None, "message": message}


class PostgrestProtocolServer:
    def __init__(
        self,
        service_key: str,
        port: int = 0,
        primary_keys: dict[str, str] | None = None,
        columns: dict[str, set[str]] | None = None,
    ) -> None:
        self.service_key = service_key
        # the schema cache: table -> columns (default: those of supabase/migrations)
        self.columns = migration_columns() if columns is None else columns
        self.port = port
        self.primary_keys = primary_keys or {}
        self.tables: dict[str, list[dict[str, Any]]] = {}
        # optional (method, table, body) -> (status, error JSON) | None: answer like PostgreSQL refusing data
        self.refuse: Any = None
        self.log: list[tuple[str, str]] = []  # (method, path?query) of every authorised request
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[Any] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PostgrestProtocolServer:
        handler = type("Handler", (_Handler,), {"backend": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down like an unreachable cloud: stop listening and cut open keep-alive connections."""
        with self.lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.tables.get(table, [])]

    # --- protocol -----------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: list[tuple[str, str]], headers: Any, body: Any):
        if not path.startswith("/rest/v1/"):
            return 404, {"message": "not found"}, {}
        table = path.removeprefix("/rest/v1/").strip("/")
        filters = [
            (k, v) for k, v in query if k not in ("select", "order", "on_conflict", "columns", "limit")
        ]
        params = dict(query)
        prefer = {p.strip() for p in (headers.get("Prefer") or "").split(",") if p.strip()}
        if self.refuse is not None and (refused := self.refuse(method, table, body)):
            return refused[0], refused[1], {}
        if (unknown := self._check_schema(method, table, filters, body)) is not None:
            return unknown[0], unknown[1], {}
        with self.lock:
            rows = self.tables.setdefault(table, [])
            try:
                matched = [r for r in rows if all(_matches(r, k, v) for k, v in filters)]
            except ValueError as exc:
                return 400, {"code": "PGRST100", "message": str(exc)}, {}
            if method == "GET":
                out = matched
                if "order" in params:
                    col, _, direction = params["order"].partition(".")
                    out = sorted(out, key=lambda r: str(r.get(col)), reverse=direction == "desc")
                if "limit" in params:
                    out = out[: int(params["limit"])]
                return 200, out, {"Content-Range": f"0-{max(len(out) - 1, 0)}/*"}
            if method == "POST":
                items = body if isinstance(body, list) else [body]
                key = params.get("on_conflict") or self.primary_keys.get(table, "id")
                written = []
                for item in items:
                    if not isinstance(item, dict):
                        return 400, {"message": "rows must be JSON objects"}, {}
                    item = dict(item)
                    item.setdefault("id", str(uuid.uuid4()))
                    existing = next((r for r in rows if r.get(key) == item.get(key)), None)
                    if existing is not None:
                        if "resolution=merge-duplicates" in prefer:
                            existing.update(item)
                            written.append(dict(existing))
                        elif "resolution=ignore-duplicates" in prefer:
                            continue
                        else:
                            return 409, {"code": "23505", "message": "duplicate key value"}, {}
                    else:
                        item.setdefault("created_at", datetime.now(UTC).isoformat())
                        rows.append(item)
                        written.append(dict(item))
                return 201, written if "return=representation" in prefer else None, {}
            if method == "PATCH":
                if not isinstance(body, dict):
                    return 400, {"message": "update body must be a JSON object"}, {}
                for r in matched:
                    r.update(body)
                return 200, [dict(r) for r in matched] if "return=representation" in prefer else None, {}
            if method == "DELETE":
                self.tables[table] = [r for r in rows if r not in matched]
                return 200, matched if "return=representation" in prefer else None, {}
        return 405, {"message": f"method {method} not supported"}, {}

    def _check_schema(
        self, method: str, table: str, filters: list[tuple[str, str]], body: Any
    ) -> tuple[int, dict[str, Any]] | None:
        """PostgREST's answer to a table or column its schema cache does not have, else None."""
        if table not in self.columns:
            return 404, _error("PGRST205", f"Could not find the table 'public.{table}' in the schema cache")
        known = self.columns[table]
        for column, _ in filters:
            if column not in known:
                return 400, _error("42703", f"column {table}.{column} does not exist")
        if method in ("POST", "PATCH"):
            items = body if isinstance(body, list) else [body]
            for item in items:
                for column in item if isinstance(item, dict) else ():
                    if column not in known:
                        return 400, _error(
                            "PGRST204",
                            f"Could not find the '{column}' column of '{table}' in the schema cache",
                        )
        return None


def _matches(row: dict[str, Any], column: str, condition: str) -> bool:
    op, _, value = condition.partition(".")
    if op == "eq":
        return str(row.get(column)) == value
    if op == "neq":
        return str(row.get(column)) != value
    if op == "is" and value == "null":
        return row.get(column) is None
    raise ValueError(f"operator {op!r} is not supported by this server")


class _Handler(BaseHTTPRequestHandler):
    backend: PostgrestProtocolServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        with self.backend.lock:
            self.backend._connections.add(self.connection)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        key = self.backend.service_key
        if self.headers.get("apikey") != key or self.headers.get("Authorization") != f"Bearer {key}":
            return self._send(401, {"message": "Invalid API key"}, {})
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return self._send(400, {"message": "invalid JSON body"}, {})
        parts = urlsplit(self.path)
        self.backend.log.append((self.command, self.path))
        status, payload, headers = self.backend.handle(
            self.command, parts.path, parse_qsl(parts.query), self.headers, body
        )
        self._send(status, payload, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve
