"""A local HTTP server that publishes signing keys the way Supabase Auth does, and signs tokens with them.

``GET /auth/v1/.well-known/jwks.json`` answers ``{"keys": [...]}`` with the public halves (EC P-256 for ES256,
RSA for RS256; ``kid``, ``alg``, ``use: sig``, ``key_ops: ["verify"]``) and ``Cache-Control: max-age=600``, as
Supabase's endpoint does; no API key needed. Keys are made with ``cryptography``; :meth:`rotate` publishes a new
key (optionally retiring the old one) like a key rotation in the Supabase dashboard. :meth:`sign` issues a
user token with a private key, as Supabase Auth would (``iss`` = ``<url>/auth/v1``). Every request is
counted (``fetches``) so tests can show the app caches and rate-limits its refetches.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

JWKS_PATH = "/auth/v1/.well-known/jwks.json"


class SigningKey:
    def __init__(self, algorithm: str = "ES256", kid: str | None = None) -> None:
        self.algorithm = algorithm
        self.kid = kid or str(uuid.uuid4())
        if algorithm == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            algo = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256)
        elif algorithm == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            algo = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256)
        else:
            raise ValueError(f"unsupported algorithm {algorithm}")
        self.public_jwk: dict[str, Any] = json.loads(algo.to_jwk(self.private.public_key()))
        self.public_jwk.update(kid=self.kid, alg=algorithm, use="sig", key_ops=["verify"], ext=True)


class JwksProtocolServer:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.keys: list[SigningKey] = []
        self.fetches = 0
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The project URL (``SUPABASE_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> JwksProtocolServer:
        handler = type("Handler", (_Handler,), {"backend": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def rotate(self, algorithm: str = "ES256", retire_old: bool = False) -> SigningKey:
        """Publish a new signing key (the newest signs from now on); optionally drop the old ones."""
        key = SigningKey(algorithm)
        with self.lock:
            self.keys = [key] if retire_old else [*self.keys, key]
        return key

    def sign(self, key: SigningKey | None = None, sub: str | None = "user-a", **claims: Any) -> str:
        key = key or self.keys[-1]
        now = int(time.time())
        payload = {
            "iss": f"{self.url}/auth/v1",
            "aud": "authenticated",
            "role": "authenticated",
            "iat": now,
            "exp": now + 3600,
            **({"sub": sub} if sub else {}),
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key.private, algorithm=key.algorithm, headers={"kid": key.kid})

    def document(self) -> dict[str, Any]:
        with self.lock:
            self.fetches += 1
            return {"keys": [k.public_jwk for k in self.keys]}


class _Handler(BaseHTTPRequestHandler):
    backend: JwksProtocolServer

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # http.server's name
        if self.path.split("?", 1)[0] != JWKS_PATH:
            self._send(404, {"message": "not found"})
            return
        self._send(200, self.backend.document(), {"Cache-Control": "public, max-age=600"})

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
