"""ASGI middleware of the two apps: a bounded request body, no uploads (public app), a login (staff app).

Plain ASGI classes rather than Starlette's BaseHTTPMiddleware: Gradio streams its queue over
server-sent events, and these must pass through untouched.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_SLASHES = re.compile(r"/{2,}")


async def send_text(send: Send, status: int, text: str, headers: dict[str, str] | None = None) -> None:
    """A one-line JSON error ({"error": text}) with `status`."""
    body = json.dumps({"error": text}, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode()),
           *((k.encode(), v.encode()) for k, v in (headers or {}).items())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, by Content-Length or while the body streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await send_text(send, 413, f"The request is larger than {self.max_bytes:,} bytes.")
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await send_text(send, 413, f"The request is larger than {self.max_bytes:,} bytes.")


def clean_path(scope: Scope) -> str:
    """The request path with repeated slashes folded (//gradio_api//upload is /gradio_api/upload)."""
    return _SLASHES.sub("/", scope.get("path") or "/")


class RefuseUploads:
    """The public app has no component that takes a file: Gradio's upload routes answer 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and clean_path(scope).startswith("/gradio_api/upload"):
            await send_text(send, 403, "Uploads are not accepted here.")
            return
        await self.app(scope, receive, send)


class LoginRequired:
    """Every request of the staff app needs a valid session cookie, except the login page itself.

    `user_of(connection)` returns the logged-in account or None. Browsers asking for a page are sent
    to /login; every other request (Gradio's config, queue, files, uploads ...) gets 401."""

    def __init__(self, app: ASGIApp, user_of: Callable[[HTTPConnection], str | None],
                 open_paths: tuple[str, ...] = ("/login", "/logout")) -> None:
        self.app = app
        self.user_of = user_of
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = clean_path(scope)
        if path in self.open_paths or self.user_of(HTTPConnection(scope)) is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        accept = dict(scope.get("headers") or []).get(b"accept", b"")
        if scope.get("method") == "GET" and b"text/html" in accept:
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", b"/login"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send_text(send, 401, "Login required.")
