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


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413: by the declared Content-Length before reading
    anything, and a body without one (chunked) is read up to the limit before the app sees it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if b"content-length" not in headers and b"transfer-encoding" in headers:
            body = await self._read_bounded(receive)
            if body is None:
                await send_text(send, 413, f"The request is larger than {self.max_bytes:,} bytes.")
                return
            receive = _replay(body, receive)
        elif not (declared := headers.get(b"content-length", b"0")).isdigit() or int(declared) > self.max_bytes:
            # (uvicorn itself holds a body to its declared length)
            await send_text(send, 413, f"The request is larger than {self.max_bytes:,} bytes.")
            return
        await self.app(scope, receive, send)

    async def _read_bounded(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def clean_path(scope: Scope) -> str:
    """The request path with repeated slashes folded (//gradio_api//upload is /gradio_api/upload)."""
    return _SLASHES.sub("/", scope.get("path") or "/")


class RefuseFiles:
    """The public app neither takes nor hands out files: Gradio's upload, file and proxy routes answer 403
    (its file route would serve whatever sits in Gradio's cache folder)."""

    PREFIXES = ("/gradio_api/upload", "/gradio_api/file=", "/gradio_api/proxy=")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and clean_path(scope).startswith(self.PREFIXES):
            await send_text(send, 403, "Files are not accepted or served here.")
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
