"""The container set-up ships what the app needs: compose runs the Dockerfile's image with PostgreSQL and
auth on, and every path the Dockerfile copies exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_app_with_postgres_and_auth():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app, db = compose["services"]["app"], compose["services"]["db"]
    assert app["build"] == "."
    assert db["image"].startswith("postgres:")
    env = app["environment"]
    assert env["AUTH_ENABLED"] == "true"
    assert env["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in env["DATABASE_URL"]
    assert "SUPABASE_JWT_SECRET" in env
    assert app["depends_on"]["db"]["condition"] == "service_healthy"


def test_dockerfile_copies_existing_paths_and_serves():
    text = (ROOT / "Dockerfile").read_text()
    ignored = (ROOT / ".dockerignore").read_text()
    assert ".venv/" in ignored and ".env" in ignored  # no virtualenv or secrets in the build context
    for src in re.findall(r"^COPY (\S+)", text, flags=re.M):
        for part in src.split():
            assert (ROOT / part).exists(), part
    for name in ("pyproject.toml", "README.md"):
        assert name in text
    assert "lisa serve" in text and "/api/v1/health" in text
