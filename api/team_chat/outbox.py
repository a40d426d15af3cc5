"""Print the local SMS outbox (the embedded default's one-time codes): ``python -m api.team_chat.outbox [phone]``."""

from __future__ import annotations

import asyncio
import sys

from api.settings import ApiSettings
from api.storage import Database
from api.team_chat.store import TeamStore


async def show(phone: str | None) -> int:
    db = await Database.connect(ApiSettings().database_url)
    try:
        rows = await TeamStore(db).outbox(phone)
    finally:
        await db.close()
    for row in rows:
        print(f"{row['created_at']}  {row['phone']}  {row['body']}")
    if not rows:
        print("the outbox is empty")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(show(sys.argv[1] if len(sys.argv) > 1 else None)))
