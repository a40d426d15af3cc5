"""Untrusted JSON (HTTP bodies, WebSocket frames) parsed safely: bounded nesting, valid UTF-8, and text that
every store accepts (no unpaired surrogates, no NUL). Problems raise :class:`BadJson` naming the field."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # Lisa's bodies nest 3 levels; free-form metadata gets room, a 100k-deep `[[[…` does not

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# an escape that may decode to an unpaired surrogate or NUL (a cheap test before walking the parsed value)
_SUSPECT = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJson(ValueError):
    """The input is not acceptable JSON; ``field`` is where (``body`` for the whole), ``reason`` says why."""

    def __init__(self, field: str, reason: str, kind: str = "json_invalid") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.kind = kind

    def detail(self) -> list[dict[str, Any]]:
        """FastAPI's 422 shape: ``[{loc, msg, type}]``."""
        loc = ["body", *(p for p in re.split(r"[.\[\]]+", self.field) if p and p != "body")]
        return [{"loc": loc, "msg": self.reason, "type": self.kind}]


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays/objects nest in ``raw`` (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (None when it can)."""
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    if _SURROGATE.search(value):
        return "contains an unpaired UTF-16 surrogate (invalid Unicode)"
    return None


def check_text(value: Any, path: str = "body") -> None:  # any parsed JSON value
    """Raise :class:`BadJson` at the first string (key or value) that cannot be stored as text."""
    if isinstance(value, str):
        if reason := bad_text(value):
            raise BadJson(path, reason, "string_invalid")
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = str(key) if path == "body" else f"{path}.{key}"
            if reason := bad_text(key):
                raise BadJson(path if path != "body" else "body", f"a key {reason}", "string_invalid")
            check_text(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{path}[{index}]")


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:  # any JSON value
    """Parse untrusted JSON; raises :class:`BadJson` (invalid UTF-8 or JSON, too deep, bad text)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")  # strict: lone surrogates encoded as bytes are refused here too
        except UnicodeDecodeError as exc:
            raise BadJson("body", f"not valid UTF-8 (byte {exc.start})", "utf8_invalid") from exc
    else:
        text = raw
        if _SURROGATE.search(text):
            raise BadJson("body", "contains an unpaired UTF-16 surrogate (invalid Unicode)", "string_invalid")
    if data.count(b"[") + data.count(b"{") > max_depth and nesting_depth(data) > max_depth:
        raise BadJson("body", f"JSON nested deeper than {max_depth} levels", "json_too_deep")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJson("body", f"malformed JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:  # not reached after the depth check; kept as the last line of defence
        raise BadJson("body", "JSON nested too deeply", "json_too_deep") from exc
    if _SUSPECT.search(data):
        check_text(value)
    return value
