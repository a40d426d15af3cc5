"""`lisa chat`: talk to Lisa in the terminal (interactive, or one message per line from a pipe)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TextIO

from agent.calendar import InMemoryCalendar
from agent.clock import Clock
from agent.conversation import Conversation, Language
from agent.engine import Engine
from agent.phrases import phrase
from agent.settings import AgentSettings

PROMPT = {Language.EN: "You: ", Language.DE: "Sie: "}


def _build(args: argparse.Namespace) -> tuple[Engine, Conversation]:
    settings = AgentSettings()
    from agent.factory import build_engine

    clock_start = getattr(args, "clock", None) or settings.lisa_clock
    try:
        clock = Clock(clock_start, settings.lisa_timezone)
    except ValueError as exc:
        raise ValueError(
            f"--clock: {clock_start!r} is not an ISO datetime like 2026-11-23T09:00:00+01:00"
        ) from exc
    engine = build_engine(settings, calendar=InMemoryCalendar(), clock=clock)
    language = getattr(args, "lang", None) or settings.lisa_language
    conv = engine.new_conversation(getattr(args, "mode", None) or "chat", language)
    return engine, conv


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


async def _say(engine: Engine, conv: Conversation, text: str | None, out: TextIO) -> None:
    pieces = engine.opening(conv) if text is None else engine.respond(conv, text)
    sentences = [s async for s in pieces]
    if sentences:
        _print(out, "Lisa: " + " ".join(sentences))
    if conv.transfer_to and not conv.state.get("cli_transfer_announced"):
        conv.state["cli_transfer_announced"] = True
        _print(out, "(handed over to a colleague of the business)")


async def _chat(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    engine, conv = _build(args)
    interactive = stdin.isatty() and out.isatty()
    await _say(engine, conv, None, out)
    while not conv.end_requested:
        if interactive:
            try:
                line = await asyncio.to_thread(input, PROMPT[conv.language])
            except EOFError:
                break
        else:
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
        await _say(engine, conv, line, out)
    if not conv.end_requested:  # the user left without a goodbye: settle the outcome the usual way
        await engine.toolbox(conv).end_conversation(reason=phrase(conv.language, "inbound.reason_chat_left"))
    if args.json:
        _print(out, json.dumps(conv.outcome.as_dict(), ensure_ascii=False))
    return 0


def run_chat(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run a terminal chat; with ``--json`` the outcome is the last line of output."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    stdin, out = stdin or sys.stdin, out or sys.stdout
    try:
        return asyncio.run(_chat(args, stdin, out))
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # e.g. a malformed --clock
        print(f"lisa chat: {exc}", file=sys.stderr)
        return 2
