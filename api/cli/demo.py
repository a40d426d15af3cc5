"""`lisa demo`: an outbound booking call end to end on the embedded default, shown live in the terminal.

It starts the app in-process (uvicorn on a free loopback port, a temporary SQLite database, the loopback
carrier), puts a simulated receptionist on the practice's number (a scripted party speaking with the local
Piper voice), submits seed 002's sample request (the dental cleaning) through ``POST /api/process-request``,
and follows the call: a status line plus the transcript as it happens. It ends by printing the request row
and its events, and exits 0 when the appointment was booked.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.conversation import Conversation, ConversationEvent
from pipelines.call_hooks import CallInfo, CallResult

if TYPE_CHECKING:  # imported where they are used: the command line starts without them
    from rich.console import Console
    from rich.table import Table

    from api.settings import ApiSettings
    from api.state import AppState
    from simulation.scripted_party import ScriptedParty

DEMO_TIMEZONE = "Europe/Berlin"
REQUEST: dict[str, Any] = {  # seed 002's sample request, in English for the embedded (English) voices
    "request_id": "3f0c7c1e-8a52-4a3e-9d1b-0d6a2f1c9b11",
    "user_id": "9b2d4c8e-1f3a-4b5c-8d7e-6f5a4b3c2d1e",
    "title": "Book a dental cleaning",
    "description": "I need an appointment for a dental cleaning",
    "callback_number": "+49 30 1234567",
    "number_to_call": "+49 30 7654321",
    "preferred_time": "next week, Monday 10-12",
    "user_profile": {
        "username": "Max Mustermann",
        "street": "Musterstraße",
        "house_number": "123",
        "postal_code": "12345",
        "city": "Berlin",
        "country": "Germany",
    },
}
RECEPTIONIST = [  # the practice's side of the call
    {"say": "Good morning, Miller dental practice, how can I help you?"},
    {"say": "Let me check. Next Monday at half past ten would be free."},
    {"say": "And the name of the patient, please?"},
    {"say": "Alright, Monday at ten thirty. See you then, goodbye."},
]
FINAL = ("booked", "failed", "canceled")


def demo_clock(value: str | None, now: datetime | None = None) -> datetime:
    """``--clock``: an ISO datetime, or by default the next weekday (today if it is one) at 09:15 Berlin,
    inside business hours so the call happens at once."""
    from api.requests.business_hours import BusinessHours

    tz = ZoneInfo(DEMO_TIMEZONE)
    if value and value.strip().lower() not in ("", "next weekday 09:15 europe/berlin"):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    hours = BusinessHours(timezone=DEMO_TIMEZONE)
    day = (now or datetime.now(tz)).astimezone(tz).date()
    while not hours.is_open_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tz).replace(hour=9, minute=15)


class LiveView:
    """Call hooks that feed the terminal: the conversation of the demo call and its events."""

    def __init__(self) -> None:
        self.conversation: Conversation | None = None
        self.events: list[ConversationEvent] = []
        self.ended = asyncio.Event()

    async def on_call_started(self, call: CallInfo, conversation: Conversation) -> None:
        self.conversation = conversation

    async def on_conversation_event(self, call: CallInfo, event: ConversationEvent) -> None:
        self.events.append(event)

    async def on_call_ended(self, call: CallInfo, result: CallResult) -> None:
        self.ended.set()


async def demo(
    clock_value: str | None = None, timeout_s: float = 240.0, console: Console | None = None
) -> int:
    import httpx
    from rich.console import Console
    from rich.table import Table

    from agent.clock import Clock
    from agent.settings import AgentSettings
    from api.app import create_app
    from api.cli.inprocess_server import loopback_socket, loopback_telephony, serve_in_process
    from api.settings import ApiSettings
    from api.state import Overrides
    from simulation.scripted_party import ScriptedParty
    from telephony.loopback import LoopbackCarrier

    console = console or Console()
    start = demo_clock(clock_value)
    # the demo's receptionist lives on the loopback carrier
    with loopback_telephony(), tempfile.TemporaryDirectory(prefix="lisa-demo-") as tmp:
        sock = loopback_socket()
        api = ApiSettings(
            _env_file=None,
            host="127.0.0.1",
            port=sock.getsockname()[1],
            database_url=f"sqlite:///{Path(tmp) / 'lisa.db'}",
        )
        api = api.model_copy(
            update={
                "auth_enabled": False,
                "rate_limit_per_minute": 0,
                "supabase_url": None,
                "public_url": None,
            }
        )
        agent = AgentSettings(_env_file=None, lisa_language="en", lisa_timezone=DEMO_TIMEZONE)
        view = LiveView()  # the call as it happens, told like any call hook
        app = create_app(
            api, agent, clock=Clock(start, DEMO_TIMEZONE), overrides=Overrides(call_hooks=[view])
        )
        console.print(f"[bold]Lisa demo[/bold] · Lisa's clock: {start:%A %d.%m.%Y %H:%M} ({DEMO_TIMEZONE})")
        served = None
        try:
            with console.status("Starting the app and loading the speech models…"):
                served = await serve_in_process(app, sock)
                party = ScriptedParty(RECEPTIONIST, language="en", first_speaker="party")
                await party.prepare()
                carrier = served.state.telephony.carrier
                if not isinstance(carrier, LoopbackCarrier):
                    raise RuntimeError(f"the demo needs the loopback carrier, not {carrier.name!r}")
                carrier.register_party(REQUEST["number_to_call"], party)
            return await _follow(console, api, served.state, view, party, timeout_s, httpx, Table)
        finally:
            if served is not None:
                await served.stop()


async def _follow(
    console: Console,
    api: ApiSettings,
    state: AppState,
    view: LiveView,
    party: ScriptedParty,
    timeout_s: float,
    httpx: ModuleType,
    Table: type[Table],  # the class (imported where it is used)
) -> int:
    base = f"http://127.0.0.1:{api.port}"
    rid = REQUEST["request_id"]
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        console.print(
            f"[dim]POST {base}/api/process-request[/dim]  {REQUEST['title']!r} for "
            f"{REQUEST['user_profile']['username']}, calling {REQUEST['number_to_call']}"
        )
        answer = await client.post("/api/process-request", json=REQUEST)
        console.print(f"[dim]→ {answer.status_code}[/dim] {answer.json()}")
        shown_events = 0
        shown_lines = 0
        data: dict[str, Any] = {}
        deadline = time.monotonic() + timeout_s
        with console.status("queued") as status_line:
            while time.monotonic() < deadline:
                data = (await client.get(f"/api/requests/{rid}")).json()
                for event in data["events"][shown_events:]:
                    console.print(f"  [cyan]● {event['type']}[/cyan] [dim]{event['message']}[/dim]")
                shown_events = len(data["events"])
                conv = view.conversation
                if conv is not None:
                    for message in conv.history[shown_lines:]:
                        if message.role == "user":
                            console.print(f"    [yellow]Receptionist:[/yellow] {message.text}")
                        elif message.role == "assistant":
                            console.print(f"    [green]Lisa:[/green] {message.text}")
                    shown_lines = len(conv.history)
                status_line.update(f"status: [bold]{data['status']}[/bold]")
                if data["status"] in FINAL and (party.done.is_set() or not party.started.is_set()):
                    break
                await asyncio.sleep(0.2)
        data = (await client.get(f"/api/requests/{rid}")).json()
    row = await state.db.fetchone("SELECT * FROM requests WHERE id = :id", {"id": rid})
    table = Table(title="requests row", show_header=False)
    for key in (
        "id",
        "status",
        "summary",
        "appointment",
        "number_to_call",
        "language",
        "attempts",
        "created_at",
        "updated_at",
    ):
        table.add_row(key, str(row.get(key)) if row else "")
    console.print(table)
    events = Table(title="events")
    for col in ("created_at", "type", "message"):
        events.add_column(col)
    for event in data["events"]:
        events.add_row(event["created_at"], event["type"], event["message"])
    console.print(events)
    if data["status"] == "booked":
        console.print(f"[bold green]Booked:[/bold green] {data['summary']}")
        return 0
    console.print(f"[bold red]Not booked[/bold red] (status {data['status']})")
    return 1


def run_demo(args: argparse.Namespace) -> int:
    """Entry point of ``lisa demo``."""
    from api.logging_setup import setup_logging

    setup_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    try:
        return asyncio.run(demo(getattr(args, "clock", None)))
    except KeyboardInterrupt:
        return 130
