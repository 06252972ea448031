"""One middleware for every request: the session, cross-site request forgery, body limits and security headers.

Forgery is stopped twice, as Datasette's csrf.py and Go 1.25's CrossOriginProtection do and with a
per-session token: a POST is refused when the browser says it came from another site
(Sec-Fetch-Site), when its Origin is not this host, or when its form lacks the session's token
(`csrf_token`; before sign-in, the token of the login cookie).
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from workflows import accounts

__all__ = ["COOKIE", "LOGIN_COOKIE", "SecurityMiddleware", "cookie_secure"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "dossier_session"
LOGIN_COOKIE = "dossier_login"
FORM_LIMIT = 1024 * 1024  # a form without files
UPLOAD_LIMIT = 64 * 1024 * 1024  # a zipped case folder
UPLOAD_PATHS = frozenset({"/cases/import"})
UPLOAD_PATH_PATTERN = re.compile(r"^/cases/(new|[0-9A-Z]{4}-[0-9A-Z]{4}/evidence)$")  # intake: scans and slots
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


def cookie_secure(scope: Scope) -> bool:
    """Cookies are Secure behind TLS (directly, or through --proxy-headers), or when DOSSIER_WEB_SECURE=1."""
    return scope.get("scheme") == "https" or os.environ.get("DOSSIER_WEB_SECURE") == "1"


def _cookies(headers: dict[bytes, bytes]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # noqa: BLE001 - a malformed cookie header is simply no cookie
        return {}
    return {k: m.value for k, m in jar.items()}


def form_token(body: bytes, content_type: str) -> str:
    """The csrf_token field of a urlencoded or multipart form body ('' when absent)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), max_num_fields=200).get("csrf_token", [""])
        return values[0]
    if content_type.startswith("multipart/form-data"):
        m = re.search(
            rb'content-disposition: *form-data; *name="csrf_token"\r\n\r\n([A-Za-z0-9_-]{20,100})\r\n--',
            body,
            re.IGNORECASE,
        )
        return m.group(1).decode() if m else ""
    return ""


class SecurityMiddleware:
    """Loads the session, refuses forged or oversized POSTs with the one 403/413 page, adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        cookies = _cookies(headers)
        token = cookies.get(COOKIE)
        user = await anyio.to_thread.run_sync(accounts.session, token) if token else None
        state = scope.setdefault("state", {})
        state["user"] = user

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                present = {k.lower() for k, _ in message["headers"]}
                message["headers"] += [h for h in HEADERS if h[0] not in present]
                if cookie_secure(scope):
                    message["headers"].append((b"strict-transport-security", b"max-age=31536000"))
            await send(message)

        if scope["method"] in _UNSAFE:
            refusal = self._cross_site(headers)
            uploads = scope["path"] in UPLOAD_PATHS or UPLOAD_PATH_PATTERN.match(scope["path"])
            limit = UPLOAD_LIMIT if uploads else FORM_LIMIT
            body = b""
            if refusal is None:
                body_or_none = await _read_body(receive, headers, limit)
                if body_or_none is None:
                    await self._refuse(scope, send_with_headers, 413, "the upload is too large")
                    return
                body = body_or_none
                expected = user.csrf if user else cookies.get(LOGIN_COOKIE, "") if scope["path"] == "/login" else ""
                given = form_token(body, headers.get(b"content-type", b"").decode("latin-1"))
                ended = user is None and scope["path"] == "/logout"  # nothing left to forge: go to /login
                if not ended and not (expected and _TOKEN.match(given) and hmac.compare_digest(given, expected)):
                    refusal = "the form's security token is missing or out of date: reload the page and try again"
            if refusal is not None:
                await self._refuse(scope, send_with_headers, 403, refusal)
                return
            state["body"] = body
            receive = _replay(body, receive)
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:  # noqa: BLE001 - the one 500 page; the log gets the class, never the message
            from web.errors import handle

            if started:
                raise RuntimeError("response interrupted") from None
            await handle(Request(scope), exc)(scope, receive, send_with_headers)

    @staticmethod
    def _cross_site(headers: dict[bytes, bytes]) -> str | None:
        site = headers.get(b"sec-fetch-site", b"").decode("latin-1")
        if site and site not in ("same-origin", "none"):
            return "a request from another site was refused"
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not site and origin:
            host = headers.get(b"host", b"").decode("latin-1")
            if origin == "null" or urlsplit(origin).netloc != host:
                return "a request from another origin was refused"
        return None

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, why: str) -> None:
        from web.errors import forbidden
        from web.render import page

        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        request = Request(scope)
        response: Response
        if status == 403:
            response = forbidden(request, why)
        else:
            context = {"status": status, "title": "Too large", "message": why, "hint": "at most 64 MB"}
            response = page(request, "error.html", context, status)
        await response(scope, nothing, send)


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes | None:
    """The whole request body, or None as soon as it exceeds the limit."""
    declared = headers.get(b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body already read, then the real channel (so a client's disconnect is still heard)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
