"""Benchmark: what the LLM brain itself adds, against the local OpenAI protocol server (no model latency).

Measures, over real HTTP on 127.0.0.1: time to the first streamed piece and to the whole reply for plain
answers, a booking turn with two tool-call rounds (three requests), and whether the requests-per-minute
limiter holds a configured rate under a burst. Prints one JSON object and writes it to
``bench/results/llm_brain.json``.

    .venv/bin/python -m bench.llm_brain [--turns 30]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from agent.brain import TurnContext
from agent.business import load_business
from agent.calendar import InMemoryCalendar
from agent.clock import Clock
from agent.conversation import Conversation, Language, Message, Mode
from agent.llm_brain import LLMBrain
from agent.rate_limit import RateLimiter
from agent.tools import Toolbox
from bench.common import RESULTS_DIR, latency_ms, write_result
from tests.fakes.openai_protocol_server import OpenAIProtocolServer, stream, tool_call

RESULTS = RESULTS_DIR / "llm_brain.json"
CLOCK = "2026-11-23T09:00:00+01:00"


async def _turn(brain: LLMBrain, conv: Conversation, text: str, ctx: TurnContext) -> tuple[float, float, str]:
    conv.history.append(Message("user", text, ctx.clock.now()))
    started = time.perf_counter()
    first = 0.0
    said = ""
    async for piece in brain.reply(conv, text, ctx):
        if not said:
            first = time.perf_counter() - started
        said += piece
    total = time.perf_counter() - started
    conv.history.append(Message("assistant", said, ctx.clock.now()))
    return first, total, said


async def run(turns: int) -> dict[str, Any]:
    business = load_business(None)
    clock = Clock(CLOCK)
    results: dict[str, Any] = {"turns": turns}
    async with OpenAIProtocolServer() as server:
        brain = LLMBrain(model="bench", base_url=server.url, timeout_s=5, max_retries=0)

        conv = Conversation(Mode.CHAT, Language.EN)
        ctx = TurnContext(clock, business, Toolbox(conv, business, InMemoryCalendar(), clock))
        server.script(
            *(stream("Sure, ", "we are open ", "until six. ", "Anything ", "else?") for _ in range(turns))
        )
        firsts, totals = [], []
        for n in range(turns):
            first, total, _ = await _turn(brain, conv, f"Question {n}?", ctx)
            firsts.append(first)
            totals.append(total)
        results["plain_answer"] = {"first_piece": latency_ms(firsts, 2), "whole_reply": latency_ms(totals, 2)}

        booking_totals = []
        calendar = InMemoryCalendar()
        for n in range(turns):
            conv = Conversation(Mode.INBOUND, Language.EN)
            ctx = TurnContext(clock, business, Toolbox(conv, business, calendar, clock))
            day = 24 + n % 5  # Tue..Sat of that week; Saturday is refused and answered all the same
            start = f"2026-11-{day}T{8 + n // 5 % 9:02d}:00"
            server.script(
                stream(tool_call("check_availability", {"start": start})),
                stream(tool_call("book_appointment", {"start": start, "name": f"Guest {n}"})),
                stream("You're booked. ", "See you then!"),
            )
            _, total, _ = await _turn(brain, conv, "Book me in, please.", ctx)
            booking_totals.append(total)
        results["booking_turn_3_requests"] = {"whole_reply": latency_ms(booking_totals, 2)}
        await brain.aclose()

    limiter = RateLimiter(5, 0.5)  # 600/min in a small window, so the run stays short
    started = time.perf_counter()
    admitted: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        admitted.append(time.perf_counter() - started)

    await asyncio.gather(*(one() for _ in range(20)))
    admitted.sort()
    # admissions in any window of the limiter's length (10 ms shorter: wake-up jitter of the event loop)
    worst = max(sum(1 for b in admitted if a <= b < a + 0.49) for a in admitted)
    reserve_started = time.perf_counter()
    cheap = RateLimiter(10**9, 60.0)
    for _ in range(100_000):
        cheap.reserve()
    results["rate_limiter"] = {
        "configured": "5 per 0.5 s",
        "burst": 20,
        "burst_done_s": round(admitted[-1], 3),
        "max_admitted_in_any_window": worst,
        "reserve_cost_us": round((time.perf_counter() - reserve_started) / 100_000 * 1e6, 3),
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    results = asyncio.run(run(args.turns))
    write_result(RESULTS, results)


if __name__ == "__main__":
    main()
