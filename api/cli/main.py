"""The `lisa` command line: chat, serve, demo, replay."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lisa", description="Lisa, a telephony-first voice and chat agent.")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to Lisa in the terminal")
    chat.add_argument("--lang", choices=["en", "de"], default=None)
    chat.add_argument("--clock", default=None, help="ISO datetime Lisa's clock starts at")
    chat.add_argument("--mode", choices=["chat", "inbound"], default="chat")
    chat.add_argument("--json", action="store_true", help="print the outcome as JSON as the last line")

    serve = sub.add_parser("serve", help="run the HTTP/WebSocket app")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=None, help="processes on the port (LISA_WORKERS)")

    demo = sub.add_parser("demo", help="an outbound booking call end to end on the embedded default")
    demo.add_argument("--clock", default=None)

    replay = sub.add_parser("replay", help="replay scenario files and check their expectations")
    replay.add_argument("files", nargs="+")
    replay.add_argument("--json", dest="json_out", default=None)
    replay.add_argument("--report-dir", default=None)
    replay.add_argument("--server", default=None)
    replay.add_argument("--concurrency", type=int, default=1)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "chat":
        from api.cli.chat import run_chat

        return run_chat(args)
    if args.command == "serve":
        from api.cli.server import serve

        return serve(args.host, args.port, args.workers)
    if args.command == "demo":
        from api.cli.demo import run_demo

        return run_demo(args)
    if args.command == "replay":
        from api.replay.cli import run_replay

        return run_replay(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
