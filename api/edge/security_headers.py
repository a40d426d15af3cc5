"""Security headers: ``nosniff`` and a ``Referrer-Policy`` on every response; HTML pages also get a
Content-Security-Policy (their own inline scripts and styles allowed by hash, nothing else inline, no
framing) and ``X-Frame-Options: DENY``. The API docs pages may also load Swagger UI / ReDoc from their CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = ("/docs", "/redoc")
DOCS_SOURCES = "https://cdn.jsdelivr.net"
_INLINE = re.compile(rb"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def _hashes(html: bytes) -> tuple[list[str], list[str]]:
    scripts: list[str] = []
    styles: list[str] = []
    for match in _INLINE.finditer(html):
        digest = base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode()
        (scripts if match.group(1).lower() == b"script" else styles).append(f"'sha256-{digest}'")
    return scripts, styles


@lru_cache(maxsize=32)  # the pages are few and mostly constant (docs, console): hashed once, not per request
def content_security_policy(html: bytes, docs: bool = False, host: str | None = None) -> str:
    """A CSP for one HTML page: its inline blocks by hash, same-origin fetches and sockets, no framing.
    ``host`` (the request's, when it is a plain host[:port]) names the page's own WebSocket origin too, for
    browsers that do not count ``ws(s)://`` as ``'self'``."""
    scripts, styles = _hashes(html)
    extra = f" {DOCS_SOURCES}" if docs else ""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self'{extra} {' '.join(scripts)}".rstrip(),
            f"style-src 'self'{extra} {' '.join(styles)}".rstrip()
            + (" https://fonts.googleapis.com" if docs else ""),
            "img-src 'self' data:" + (" https://fastapi.tiangolo.com https://cdn.redoc.ly" if docs else ""),
            "font-src 'self'" + (" https://fonts.gstatic.com" if docs else ""),
            "media-src 'self'",  # the console's call recordings
            f"connect-src 'self'{sockets}",
            "worker-src blob:" if docs else "worker-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """ASGI middleware adding the headers above (HTML bodies are buffered to hash their inline blocks)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "HEAD":
            await self.app(scope, receive, self._plain(send))
            return
        docs = scope["path"].startswith(DOCS_PATHS)
        start: Message | None = None
        parts: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                is_html = any(
                    k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers
                )
                if not is_html:
                    message["headers"] = list(message.get("headers", [])) + ALWAYS
                    await send(message)
                    return
                start = {**message, "headers": headers}
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(parts)
            host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), None)
            csp = content_security_policy(body, docs, host).encode()
            start["headers"] = [
                *start["headers"],
                *ALWAYS,
                (b"content-security-policy", csp),
                (b"x-frame-options", b"DENY"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _plain(send: Send) -> Send:
        async def plain(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *ALWAYS, (b"x-frame-options", b"DENY")]
            await send(message)

        return plain
