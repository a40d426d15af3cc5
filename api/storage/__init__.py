"""Storage: one database layer (SQLite by default, PostgreSQL via DATABASE_URL) with versioned migrations."""

from api.storage.db import Database

__all__ = ["Database"]
