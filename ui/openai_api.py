"""OpenAI-compatible chat API beside the Gradio app: POST /v1/chat/completions (plain or `stream`
with server-sent events) and GET /v1/models.

>>> from openai import OpenAI                                                    # doctest: +SKIP
>>> client = OpenAI(base_url="http://127.0.0.1:7860/v1", api_key="unused")       # doctest: +SKIP
>>> reply = client.chat.completions.create(model="gocluster-faq",
...     messages=[{"role": "user", "content": "Wer darf sich bewerben?"}])       # doctest: +SKIP
>>> reply.choices[0].message.content, reply.citations                           # doctest: +SKIP

Bounds: the request body (MAX_BODY_BYTES), the message count and length (ui/openai_protocol.py), the
question as everywhere (GOCLUSTER_MAX_QUESTION_CHARS), answers running at once (GOCLUSTER_MAX_CONCURRENCY)
and waiting (GOCLUSTER_MAX_QUEUE; beyond it 429). Errors are one line in OpenAI's error format. With
GOCLUSTER_API_TOKEN set, every request needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from indexer.errors import FaqError
from indexer.settings import Settings
from ui.metrics import Metrics, token_matches
from ui.openai_protocol import MODEL_ID, ApiError, completion, parse_chat_request, stream_events

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 512 * 1024


class AnswerGate:
    """At most `running` answers at once and `waiting` queued behind them; more are refused (429)."""

    def __init__(self, running: int, waiting: int) -> None:
        self.running, self.max_waiting, self.waiting = max(1, running), max(0, waiting), 0
        self._slots: asyncio.Semaphore | None = None  # made inside the event loop, on first use

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.running)
        if self._slots.locked() and self.waiting >= self.max_waiting:
            raise ApiError(429, "the assistant is busy; retry in a few seconds", "rate_limit_error", "busy")
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        finally:
            self._slots.release()


async def read_json(request: Request, limit: int) -> Any:
    """The decoded body, keeping at most `limit` bytes. A body a little too large is read to its end
    (discarded) so the client receives the 413 instead of a reset connection; a far larger one is not."""
    too_large = ApiError(413, f"the request body is too large (at most {limit // 1024} KiB)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > 8 * limit:
        raise too_large
    body, seen = bytearray(), 0
    async for part in request.stream():
        seen += len(part)
        if seen > 8 * limit:
            break
        if seen <= limit:
            body += part
    if seen > limit:
        raise too_large
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "the request body is not valid JSON") from None


def error_response(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def openai_router(bot_provider: Callable[[], Any], settings: Settings, metrics: Metrics | None = None) -> APIRouter:
    """The /v1 routes over the current bot (`bot_provider()` is called once per request)."""
    gate = AnswerGate(settings.max_concurrency, settings.max_queue)
    if metrics is not None:
        metrics.watch_queue("v1", lambda: gate.waiting)
    router = APIRouter(prefix="/v1")

    def authorise(request: Request) -> None:
        if not token_matches(request, settings.api_token):
            raise ApiError(401, "missing or wrong API token (Authorization: Bearer ...)",
                           "authentication_error", "invalid_api_key")

    @router.get("/models", include_in_schema=False)
    def models(request: Request) -> Response:
        try:
            authorise(request)
        except ApiError as exc:
            return error_response(exc)
        return JSONResponse({"object": "list", "data": [
            {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "gocluster-faq",
             "index_version": bot_provider().index_version}]})

    @router.post("/chat/completions", include_in_schema=False)
    async def chat_completions(request: Request) -> Response:
        started = time.perf_counter()
        outcome = "error"
        try:
            authorise(request)
            chat = parse_chat_request(await read_json(request, MAX_BODY_BYTES))
            answer = await gate.run(bot_provider().answer, chat.question, chat.history)
            outcome = "abstained" if answer.abstained else "answered"
        except ApiError as exc:
            outcome = "refused"
            return error_response(exc)
        except FaqError as exc:  # the question itself (empty, too long, not text)
            outcome = "refused"
            return error_response(ApiError(400, str(exc), param="messages"))
        except Exception:
            log.exception("chat completion failed")
            return error_response(ApiError(500, "internal error; the answer could not be made", "server_error"))
        finally:
            if metrics is not None:
                metrics.observe_answer("v1", time.perf_counter() - started, outcome)
        if chat.stream:
            return StreamingResponse(iter(stream_events(answer)), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return JSONResponse(completion(answer))

    return router
