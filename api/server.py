"""`lisa serve`: run the app with uvicorn."""

from __future__ import annotations

import uvicorn

from api.logging_setup import setup_logging
from api.settings import ApiSettings


def serve(host: str | None = None, port: int | None = None) -> int:
    settings = ApiSettings()
    setup_logging(settings.log_level)
    from api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        ws_ping_interval=20,
    )
    return 0
