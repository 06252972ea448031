"""One exception path: every error becomes a page chosen by its status; every denial is the one 403 page.

Pages and log lines carry the status, the route template and the error class, never a traceback,
a request body or personal data.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.errors import BadInput, DomainFailure, DossierError, KeyMissing, NotFound
from web.render import page

__all__ = ["Forbidden", "SignInNeeded", "forbidden", "handle"]

log = logging.getLogger("dossier.web")


class Forbidden(Exception):
    """The signed-in role may not perform this action."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self.action = action


class SignInNeeded(Exception):
    """No valid session: the browser goes to /login."""


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "")) or "(unrouted)"


def forbidden(request: Request, why: str = "your role does not allow this page or action") -> Response:
    """The one 403 page (never a partial view)."""
    log.info("403 %s %s", request.method, _route(request))
    return page(request, "error.html", {"status": 403, "title": "Not allowed", "message": why, "hint": ""}, 403)


def _error(request: Request, status: int, title: str, message: str, hint: str = "") -> Response:
    if status >= 500:
        log.error("%s %s %s", status, request.method, _route(request))
    return page(request, "error.html", {"status": status, "title": title, "message": message, "hint": hint}, status)


def handle(request: Request, exc: Exception) -> Response:
    """Turn any exception into its page."""
    if isinstance(exc, SignInNeeded):
        return RedirectResponse("/login", status_code=303)
    if isinstance(exc, Forbidden):
        return forbidden(request)
    if isinstance(exc, NotFound):
        return _error(request, 404, "Not found", exc.message, exc.hint)
    if isinstance(exc, BadInput):
        return _error(request, 400, "Cannot use this input", exc.message, exc.hint)
    if isinstance(exc, KeyMissing):
        return _error(request, 410, "Shredded", exc.message, exc.hint)
    if isinstance(exc, DomainFailure | DossierError):
        return _error(request, 409, "Refused", exc.message, exc.hint)
    if isinstance(exc, HTTPException):
        text = {404: "Not found", 405: "Method not allowed", 413: "Too large"}.get(exc.status_code, "Error")
        what = "the page or action does not exist" if exc.status_code == 404 else text
        return _error(request, exc.status_code, text, what)
    log.error("500 %s %s: %s", request.method, _route(request), type(exc).__name__)
    return _error(
        request,
        500,
        "Something went wrong",
        "the server could not finish this request",
        "try again; if it persists, tell the administrator the time it happened",
    )
