"""Jinja2 pages: one environment, autoescaped, with the signed-in user and form token in every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

__all__ = ["page", "templates"]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def status_class(status: str, blocking: bool = True) -> str:
    """The colour of a checklist status: green when met, red when it blocks the build, amber otherwise."""
    if status == "met":
        return "ok"
    return "bad" if blocking else "warn"


templates.env.globals["status_class"] = status_class


def page(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render a page; personal data in it is never cached by the browser or a proxy."""
    ctx = {"user": request.scope.get("state", {}).get("user"), **(context or {})}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
