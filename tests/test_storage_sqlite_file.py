"""The SQLite file's own writer (api/storage/db.py ``SqliteFile``): writes on the event loop's thread, the WAL
checkpointed by a thread of its own so that it stays small without the writer ever copying pages back."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from api.storage import Database


def size(path: str) -> int:
    return os.path.getsize(path)


async def test_the_wal_is_checkpointed_off_the_writers_thread_and_stays_small(tmp_path: Path, monkeypatch):
    db = await Database.connect(f"sqlite:///{tmp_path}/lisa.db")
    try:
        assert db.file is not None
        monkeypatch.setattr(db.file, "CHECKPOINT_EVERY", 20)
        wal = f"{tmp_path}/lisa.db-wal"
        blob = "x" * 16_000  # four pages a write
        db.file.write([("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", {})])
        for n in range(400):
            assert db.write_now(
                [
                    (
                        "INSERT OR REPLACE INTO notes (id, body) VALUES (:id, :body)",
                        {"id": n % 10, "body": blob + str(n)},
                    )
                ]
            )
            if (
                n % 20 == 19
            ):  # the checkpoint thread's turn (it never holds up the writer, so wait for it here)
                for _ in range(500):
                    if db.file.checkpoints == (n + 1) // 20:
                        break
                    await asyncio.sleep(0.01)
        written = 400 * len(blob)
        # without checkpoints the WAL holds every write (13 MB here); checkpointed, SQLite reuses it from its start
        # (0.3 MB alone; up to 2 MB seen beside other tests, when a write found it still in use)
        assert size(wal) < written, (size(wal), written)
        rows = await db.fetchall("SELECT id, length(body) AS n FROM notes ORDER BY id")
        assert [r["id"] for r in rows] == list(range(10)) and all(r["n"] >= len(blob) for r in rows)
        assert (
            db.file.checkpoints == 20
            and db.file._checkpointer is not None
            and db.file._checkpointer.is_alive()
        )
    finally:
        await db.close()
    assert db.file._checkpointer is None  # closed with the database
