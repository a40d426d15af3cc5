"""``API_DOCS=auth``: /docs, /redoc and /openapi.json for signed-in callers only (401 without a token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import Principal, current_principal

Caller = Annotated[Principal, Depends(current_principal)]


def docs_behind_auth(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi(_caller: Caller) -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    async def swagger(_caller: Caller) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    @router.get("/redoc")
    async def redoc(_caller: Caller) -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")

    return router
