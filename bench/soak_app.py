"""``lisa serve`` for the soak benchmark, counting its asyncio tasks from inside on request.

    python -m bench.soak_app serve        (what :class:`bench.app_process.AppProcess` runs for bench/soak.py)

The task count comes from inside the process, never over HTTP: with ``LISA_SOAK_TASKS_FILE`` set, SIGUSR1
makes the app's event loop write its live task count (and the most frequent coroutines) and its database
pool's state (connections checked out / idle) to that file as JSON. The signal handler itself only schedules the count on the loop (``call_soon_threadsafe``), so the
count runs between callbacks, never inside one. Nothing is added to the app: production ``lisa serve``
has no such handler and no route exposing internals. ``LISA_SOAK_OBJECTS=1`` adds live objects by type (to
hunt a leak). With ``LISA_SOAK_LOG`` set, the app's stdout and
stderr go to that file (the soak counts the warnings and errors logged).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import os
import signal
import sys
import time
import weakref
from typing import Any


def task_kind(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return str(getattr(coro, "__qualname__", None) or type(coro).__name__)


_ENGINES: weakref.WeakSet[Any] = weakref.WeakSet()


def track_engines() -> None:
    """Remember every SQLAlchemy engine the app connects with (a class-level event: no heap walk, which would
    itself raise the RSS being measured)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "engine_connect", lambda conn: _ENGINES.add(conn.engine))


def pool_status() -> dict[str, int]:
    """Connections of the app's SQLAlchemy pool(s): checked out (in use) and idle in the pool."""
    pools = [e.pool for e in list(_ENGINES)]
    return {
        "checked_out": sum(p.checkedout() for p in pools if hasattr(p, "checkedout")),
        "idle_in_pool": sum(p.checkedin() for p in pools if hasattr(p, "checkedin")),
    }


def write_task_count(path: str) -> None:
    """On the event loop: the live tasks, counted, and the database pool's state, to ``path`` (replaced
    atomically)."""
    tasks = [t for t in asyncio.all_tasks() if not t.done()]
    kinds = collections.Counter(task_kind(t) for t in tasks)
    tmp = f"{path}.tmp"
    data: dict[str, Any] = {
        "at": time.time(),
        "tasks": len(tasks),
        "top": kinds.most_common(8),
        "db_pool": pool_status(),
    }
    if os.environ.get("LISA_SOAK_OBJECTS"):  # a leak hunt: live objects by type (costs ~0.1-0.5 s a count)
        gc.collect()  # only what is still reachable, not garbage in cycles waiting for the collector
        data["objects"] = collections.Counter(type(o).__qualname__ for o in gc.get_objects()).most_common(40)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _on_sigusr1(_signum: int, _frame: Any) -> None:
    path = os.environ.get("LISA_SOAK_TASKS_FILE")
    try:
        loop = asyncio.get_running_loop()  # the handler runs on the main thread, where uvicorn's loop runs
    except RuntimeError:
        return  # still starting: no loop yet, no answer
    loop.call_soon_threadsafe(write_task_count, path)


def main() -> int:
    if log := os.environ.get("LISA_SOAK_LOG"):
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    if os.environ.get("LISA_SOAK_TASKS_FILE"):
        track_engines()
        signal.signal(signal.SIGUSR1, _on_sigusr1)
    from api.cli.main import main as lisa

    with contextlib.suppress(KeyboardInterrupt):
        return lisa(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
