"""Processes the tests start (``lisa serve``, PostgreSQL): the children of one of them. (A free port:
``api.cli.inprocess_server.free_port``.)"""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from ``/proc``; zombies and multiprocessing's resource tracker left
    out)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            try:
                cmd = Path(stat.parent, "cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmd:
                found.append(int(stat.parent.name))
    return found
