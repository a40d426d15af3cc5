"""The operator console in a real browser: Playwright driving the system's headless Chromium against the app
served by uvicorn (the embedded default: SQLite, rule brain, loopback carrier).

An operator signs in (a wrong token and a missing CSRF token are refused, no token ever in a URL), watches a
loopback outbound call book live (badge, transcript turn by turn, then the timeline and the recording), takes
a chat over and gives it back, cancels a scheduled request; a second operator's browser sees it live.
Screenshots go to the test's directory, and to ``docs/console/`` with ``LISA_CONSOLE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from conftest import ManualClock
from prerequisites import chromium
from requests_support import SAMPLE, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("console-browser")]  # one Chromium at a time

SECRET = "console-browser-secret-0123456789abcdef"
SATURDAY = "2026-11-28T11:00:00+01:00"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "console"


def service_token() -> str:
    return jwt.encode({"role": "service_role", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    path = chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)  # a loaded CI machine (two workers, speech models) answers slower
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=path, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


class Operator:
    """One operator's browser context: its page, the URLs it requested, the errors it logged."""

    def __init__(self, context, page) -> None:
        self.context = context
        self.page = page
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def clean(self, allow: tuple[str, ...] = ()) -> list[str]:
        """Errors the page logged (CSP violations and script errors show up here), without ``allow``ed ones."""
        return [e for e in self.errors if not any(a in e for a in allow)]


async def operator(browser, base_url: str, phone: bool = False) -> Operator:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 860}
    context = await browser.new_context(base_url=base_url, viewport=viewport)
    return Operator(context, await context.new_page())


async def shot(page, tmp_path: Path, name: str) -> None:
    await page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    if os.environ.get("LISA_CONSOLE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)


async def test_sign_in_refusals_csrf_and_sign_out(app_server, browser, tmp_path):
    from playwright.async_api import expect

    server = await app_server(api={"auth_enabled": True, "supabase_jwt_secret": SECRET})
    op = await operator(browser, server.url)
    page = op.page
    await page.goto("/console")
    await expect(page.locator("#sign-in")).to_be_visible()
    await expect(page.locator("#nav")).to_be_hidden()
    await page.fill("#token", "wrong-token")
    await page.press("#token", "Enter")  # keyboard only
    await expect(page.locator("#sign-in-error")).to_contain_text("sign-in refused")
    token = service_token()
    await page.fill("#token", token)
    await page.click("#sign-in-form button[type=submit]")
    await expect(page.locator("#nav")).to_be_visible()
    await expect(page.locator("#auth-badge")).to_be_hidden()
    await expect(page.locator("#live")).to_have_text("live")
    await expect(page.locator("[data-counter=calls_in_progress] b")).to_have_text("0")
    await shot(page, tmp_path, "now")
    assert "lisa_console" not in await page.evaluate("document.cookie")  # HttpOnly: out of the page's reach
    [cookie] = [c for c in await op.context.cookies() if c["name"] == "lisa_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    refused = await page.evaluate(
        "async () => { const r = await fetch('/console/api/requests/x/cancel', {method: 'POST'});"
        " return [r.status, (await r.json()).detail]; }"
    )
    assert refused[0] == 403 and "CSRF" in refused[1]
    await page.click("nav a[data-page=requests]")
    await expect(page).to_have_url(f"{server.url}/console#/requests")
    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    await page.reload()
    await expect(page.locator("#sign-in")).to_be_visible()  # the session is gone, not just the page state
    assert op.urls and not [u for u in op.urls if token in u or "token=" in u]
    assert op.clean(allow=("401", "403")) == []


@pytest.mark.xdist_group("replay-suite")  # one speech pipeline at a time (see test_outbound_scenarios)
async def test_a_demo_call_books_live_in_two_operators_browsers(app_server, browser, tmp_path, monkeypatch):
    """The README's demo path: "Place demo call" on the Now page; the request page, then the call's page
    with its transcript growing turn by turn; a second operator on a phone sees the badge change live."""
    from playwright.async_api import expect

    from agent.clock import Clock
    from api.cli.demo import DEMO_TIMEZONE, demo_clock

    monkeypatch.setenv("LISA_RECORDING_DIR", str(tmp_path / "recordings"))
    monkeypatch.setenv("SCHEDULER_POLL_S", "0.05")
    clock = Clock(demo_clock("2026-11-23T09:15"), DEMO_TIMEZONE)
    server = await app_server(clock=clock, agent={"lisa_timezone": DEMO_TIMEZONE})

    first = await operator(browser, server.url)
    second = await operator(browser, server.url, phone=True)
    await first.page.goto("/console")
    await second.page.goto("/console#/requests")
    await expect(first.page.locator("#auth-badge")).to_have_text("auth off")
    await expect(second.page.locator("#live")).to_have_text("live")
    await expect(first.page.locator("#live")).to_have_text("live")
    await second.page.evaluate(
        """() => { window.seen = [];
          new MutationObserver(() => { const b = document.querySelector("tbody tr[data-id] .badge");
            if (b && window.seen[window.seen.length - 1] !== b.textContent) window.seen.push(b.textContent); })
          .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true}); }"""
    )
    await first.page.click("#demo-call")
    await expect(first.page.locator("#request-status")).to_be_visible(timeout=30_000)
    rid = first.page.url.split("#/requests/")[1]
    call_link = first.page.locator("#request-calls a").first
    await expect(call_link).to_be_visible(timeout=30_000)
    await call_link.click()
    transcript = first.page.locator("#transcript li")
    timeline = first.page.locator("img#latency-chart")
    sizes: list[int] = []
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not await timeline.count():
        sizes.append(await transcript.count())
        await asyncio.sleep(0.2)
    await expect(timeline.first).to_be_visible()
    # the server-drawn chart (matplotlib SVG) loads under the page's CSP; the text figures stay beside it
    await first.page.wait_for_function(
        "() => { const i = document.querySelector('img#latency-chart'); return i && i.complete && i.naturalWidth > 0; }"
    )
    await expect(first.page.locator("#latency li").first).to_contain_text("turn 1")
    final = await transcript.count()
    grown = sorted(set(sizes))
    assert len(grown) >= 3 and grown[0] < final, f"the transcript did not grow turn by turn: {sizes}"
    await expect(first.page.locator("#transcript li[data-speaker=lisa]").first).to_be_visible()
    await expect(first.page.locator("#ended-by")).not_to_be_empty()
    await expect(first.page.locator("#outcome")).to_contain_text("booked")
    audio = first.page.locator("audio#recording")
    await expect(audio).to_be_visible()
    fetched = await first.page.evaluate(
        "async () => { const a = document.querySelector('audio#recording');"
        " const r = await fetch(a.src); return [r.status, r.headers.get('content-type')]; }"
    )
    assert fetched == [200, "audio/wav"]
    await shot(first.page, tmp_path, "call")

    badge = second.page.locator(f'tr[data-id="{rid}"] .badge')
    await expect(badge).to_have_text("booked", timeout=30_000)
    seen = await second.page.evaluate("window.seen")
    assert seen[-1] == "booked" and "in_progress" in seen, seen
    assert seen.index("in_progress") < seen.index("booked")
    await shot(second.page, tmp_path, "requests-phone")
    await second.page.click(f'tr[data-id="{rid}"] a')
    await expect(second.page.locator("#request-status")).to_have_text("booked")
    await expect(second.page.locator("#request-calls a")).to_have_count(1)
    await expect(second.page.locator("#retry")).to_be_disabled()
    await first.page.goto("/console#/bookings")
    await first.page.fill("#b-day", "2026-11-30")
    await first.page.select_option("#b-range", "7")
    await first.page.click("#b-form button[type=submit]")
    await expect(first.page.locator("tr[data-booking]")).to_have_count(1)
    await expect(first.page.locator("tr[data-booking]")).to_contain_text("10:30")
    await shot(first.page, tmp_path, "bookings")
    assert first.clean() == [] and second.clean() == []


async def test_operator_takes_a_chat_over_writes_and_releases_while_a_colleague_watches(
    app_server, browser, tmp_path
):
    from playwright.async_api import expect

    server = await app_server()
    desk = await operator(browser, server.url)
    colleague = await operator(browser, server.url)
    await desk.page.goto("/console#/chats")
    await colleague.page.goto("/console#/chats")
    await expect(desk.page.locator("#live")).to_have_text("live")
    await expect(colleague.page.locator("#live")).to_have_text("live")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as user:
        chat_id = (await user.post("/api/v1/sessions", json={"language": "en"})).json()["session_id"]
        said = await user.post(
            f"/api/v1/sessions/{chat_id}/chat", json={"message": "What are your opening hours?"}
        )
        assert said.status_code == 200
        row = desk.page.locator(f'tr[data-id="{chat_id}"]')
        await expect(row).to_be_visible()  # arrived live
        await expect(colleague.page.locator(f'tr[data-id="{chat_id}"]')).to_be_visible()
        await row.locator("a").click()
        await colleague.page.locator(f'tr[data-id="{chat_id}"] a').click()
        await expect(desk.page.locator("#messages li[data-speaker=lisa]").first).to_be_visible()
        await desk.page.click("#chat-takeover")
        await expect(desk.page.locator("#chat-who")).to_contain_text("taken over by Manager")
        await desk.page.fill("#chat-text", "Hello, this is the front desk.")
        await desk.page.press("#chat-text", "Enter")
        mine = desk.page.locator("#messages li[data-speaker=manager]")
        await expect(mine).to_contain_text("Hello, this is the front desk.")
        await expect(colleague.page.locator("#messages li[data-speaker=manager]")).to_contain_text(
            "front desk"
        )
        await shot(desk.page, tmp_path, "chats")
        lisa_before = await desk.page.locator("#messages li[data-speaker=lisa]").count()
        quiet = await user.post(f"/api/v1/sessions/{chat_id}/chat", json={"message": "Thanks!"})
        assert quiet.status_code == 200
        await expect(desk.page.locator("#messages li[data-speaker=user]")).to_have_count(2)
        assert await desk.page.locator("#messages li[data-speaker=lisa]").count() == lisa_before  # taken over
        await desk.page.click("#chat-release")
        await expect(desk.page.locator("#chat-who")).to_have_text("Lisa answers")
        again = await user.post(
            f"/api/v1/sessions/{chat_id}/chat", json={"message": "When do you open tomorrow?"}
        )
        assert again.status_code == 200
        await expect(desk.page.locator("#messages li[data-speaker=lisa]")).to_have_count(lisa_before + 1)
        await expect(colleague.page.locator("#messages li[data-speaker=lisa]")).to_have_count(lisa_before + 1)
    assert desk.clean() == [] and colleague.clean() == []


async def test_cancel_a_scheduled_request_seen_live_by_a_second_operator(app_server, browser, tmp_path):
    from playwright.async_api import expect

    server = await app_server(clock=ManualClock(SATURDAY))
    rid = SAMPLE["request_id"]
    first = await operator(browser, server.url)
    second = await operator(browser, server.url)
    await first.page.goto("/console#/requests")
    await second.page.goto("/console#/requests")
    await expect(second.page.locator("#live")).to_have_text("live")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        assert (await client.post("/api/process-request", json=SAMPLE)).status_code == 200
    await expect(first.page.locator(f'tr[data-id="{rid}"] .badge')).to_have_text("outside_business_hours")
    await expect(second.page.locator(f'tr[data-id="{rid}"] .badge')).to_have_text("outside_business_hours")
    await first.page.select_option("#f-status", "outside_business_hours")
    await first.page.click("#filters button[type=submit]")
    await expect(first.page.locator("tbody tr[data-id]")).to_have_count(1)
    await first.page.click(f'tr[data-id="{rid}"] a')
    await expect(first.page.locator("#call-now")).to_be_enabled()
    await first.page.click("#call-now")
    await expect(first.page.locator("#toast")).to_contain_text("outside business hours")
    await shot(first.page, tmp_path, "request")
    await first.page.click("#cancel")
    await expect(first.page.locator("#request-status")).to_have_text("canceled")
    await expect(first.page.locator("#cancel")).to_be_disabled()
    await expect(second.page.locator(f'tr[data-id="{rid}"] .badge')).to_have_text("canceled")
    await wait_for(lambda: first.clean(allow=("409",)) == [], within=1)
    assert second.clean() == []
