"""Benchmark: the cost of Twilio Media Streams messages on our side, per 20 ms frame.

Parsing an incoming ``media`` message (JSON + base64 + validation) and building an outgoing one, compared
with plain ``json.loads`` / ``json.dumps``; and the CPU one :class:`MediaStreamClient` line costs (the
Twilio side used by tests, the loopback carrier and replay) while streaming silence to a local server.
Prints one JSON object and writes it to ``bench/results/media_stream.json``.

    .venv/bin/python -m bench.media_stream [--rounds 50000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import time
import timeit
from typing import Any

from bench.common import RESULTS_DIR, write_result
from simulation.media_stream_client import MediaStreamClient
from telephony.media_stream import OutboundMessages, TwilioMessages, parse_message

RESULTS = RESULTS_DIR / "media_stream.json"
FRAMES_PER_S = 50


def _us(fn: Any, rounds: int) -> float:
    return round(min(timeit.repeat(fn, number=rounds, repeat=3)) / rounds * 1e6, 3)


def protocol(rounds: int) -> dict[str, Any]:
    sid = "MZ" + "a" * 32
    tw = TwilioMessages(sid, "CA" + "b" * 32, "AC" + "c" * 32)
    raw = tw.media(bytes(range(160)), 1000)
    out = OutboundMessages(sid)
    frame = bytes(160)
    result = {
        "parse_media_us": _us(lambda: parse_message(raw), rounds),
        "json_loads_only_us": _us(lambda: json.loads(raw), rounds),
        "build_media_us": _us(lambda: out.media(frame), rounds),
        "json_dumps_equivalent_us": _us(
            lambda: json.dumps(
                {"event": "media", "streamSid": sid, "media": {"payload": base64.b64encode(frame).decode()}}
            ),
            rounds,
        ),
    }
    per_call_s = (result["parse_media_us"] + result["build_media_us"]) * FRAMES_PER_S / 1e6
    result["share_of_a_core_per_call_both_directions"] = round(per_call_s, 6)
    return result


async def client_line(seconds: float) -> dict[str, Any]:
    from websockets.asyncio.server import serve

    received = 0

    async def handler(ws: Any) -> None:
        nonlocal received
        async for _ in ws:
            received += 1

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        async with MediaStreamClient.connect(f"ws://127.0.0.1:{port}/twilio/media"):
            await asyncio.sleep(seconds)
        wall = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "seconds": round(wall, 2),
        "messages_received_by_server": received,
        "frames_per_s": round(received / wall, 1),
        "cpu_share_client_and_server": round(cpu / wall, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    result = {"protocol": protocol(args.rounds), "client_line": asyncio.run(client_line(args.seconds))}
    write_result(RESULTS, result, pretty=True)


if __name__ == "__main__":
    main()
