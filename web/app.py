"""The app factory: middleware, routers, static files, the one exception path. Kept thin on purpose."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from core.errors import DossierError
from web.errors import Forbidden, SignInNeeded, handle
from web.security import SecurityMiddleware
from web.views import accounts, audit, auth, cases, packets, rules

__all__ = ["create_app"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown, stop Prefect's temporary server: uvicorn re-raises SIGTERM afterwards, so atexit never runs."""
    yield
    from workflows.desk import shutdown

    await run_in_threadpool(shutdown)


def create_app() -> FastAPI:
    """The case desk as an ASGI app (no API docs pages: nothing but the pages in SPEC section 11)."""
    app = FastAPI(title="Dossier case desk", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.state.intake = False
    if importlib.util.find_spec("web.intake") is not None:  # the "New case" forms (issue 16), when installed
        from web import intake

        app.include_router(intake.router)
        app.state.intake = True
    for module in (auth, cases, packets, audit, rules, accounts):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for kind in (DossierError, Forbidden, SignInNeeded, HTTPException):
        app.add_exception_handler(kind, handle)  # anything else: SecurityMiddleware's 500 page, no traceback
    app.add_middleware(SecurityMiddleware)
    return app
