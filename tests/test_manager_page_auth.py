"""The /manager page keeps tokens out of URLs: it takes the token from the URL fragment (never sent to the
server) or a sign-in form, and opens /manager/ws with the subprotocol ``["bearer", token]``. Its script runs in
Node's WebSocket (a browser's API) with a minimal DOM against the real server with auth on."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time

import httpx
import jwt
from prerequisites import missing

SECRET = "test-only-jwt-secret-0123456789abcdef"
NODE = shutil.which("node")

SHIM = """
const elements = {};
const el = (id) => (elements[id] ??= {id, textContent: "", innerHTML: "", hidden: id === "login", disabled: false,
  value: "", scrollTop: 0, dataset: {}, insertAdjacentHTML() {}});
globalThis.document = {getElementById: el, querySelectorAll: () => []};
globalThis.location = {hash: HASH, search: "", pathname: "/manager", protocol: "http:", host: HOST};
globalThis.sessionStorage = {m: {}, getItem(k) { return this.m[k] ?? null; }, setItem(k, v) { this.m[k] = v; }};
globalThis.history = {replaceState(_s, _t, url) { location.hash = ""; report.address = url; }};
const report = {sockets: [], fetches: []};
const realFetch = fetch;
globalThis.fetch = (url, opts) => { report.fetches.push(url); return realFetch("http://" + HOST + url, opts); };
const RealWebSocket = WebSocket;
globalThis.WebSocket = class extends RealWebSocket {
  constructor(url, protocols) { report.sockets.push({url, protocols: protocols.length}); super(url, protocols); }
};
setTimeout(() => {
  report.status = el("status").textContent; report.login = !el("login").hidden; report.hash = location.hash;
  console.log(JSON.stringify(report)); process.exit(0);
}, 2500);
"""


async def run_page(server, page: str, fragment: str) -> dict:
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    prelude = f"const HASH = {json.dumps(fragment)}; const HOST = {json.dumps(f'127.0.0.1:{server.port}')};"
    proc = await asyncio.create_subprocess_exec(
        NODE, "--experimental-websocket", "--no-warnings", "-e", prelude + SHIM + script,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_manager_page_signs_in_without_a_token_in_any_url(app_server):
    if NODE is None:
        missing("needs node (>= 20) to run the page's script")
    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    now = int(time.time())
    admin = jwt.encode({"role": "service_role", "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = (await http.get("/manager")).text

    signed_in = await run_page(server, page, f"#token={admin}")
    assert signed_in["status"] == "live", signed_in
    assert signed_in["sockets"] == [{"url": f"ws://127.0.0.1:{server.port}/manager/ws", "protocols": 2}]
    assert signed_in["address"] == "/manager" and signed_in["hash"] == ""  # the fragment is gone too
    assert all(admin not in url for url in signed_in["fetches"])

    anonymous = await run_page(server, page, "")
    assert anonymous["login"] and anonymous["status"].startswith("sign in") and anonymous["sockets"] == []

    user = jwt.encode(
        {"sub": "u", "role": "authenticated", "aud": "authenticated", "exp": now + 600},
        SECRET,
        algorithm="HS256",
    )
    refused = await run_page(server, page, f"#token={user}")  # not the service role
    assert refused["login"] and refused["status"] != "live"
