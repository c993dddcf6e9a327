"""Prometheus metrics of one app instance, on `/metrics` (prometheus-client, its own registry per app).

    gocluster_http_requests_total{endpoint, outcome}   HTTP requests (ASGI middleware)
    gocluster_answers_total{surface, outcome}          answered / abstained / refused / error, per surface
    gocluster_answer_seconds{surface}                  answer latency histogram
    gocluster_abstention_ratio                         abstained share of the answers since start
    gocluster_feedback_total{rating, outcome}          up / down / gap x stored / rejected / unavailable
    gocluster_queue_depth{queue}                       requests waiting for an answer slot (gradio, v1)
    gocluster_index_info{version}                      the live index version

`MeteredBot` and `MeteredStore` wrap the bot provider and the feedback store, so the Gradio handlers
are counted without knowing about metrics.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import InfoMetricFamily

from bot.feedback import FeedbackError, FeedbackStore, FeedbackUnavailable
from indexer.errors import FaqError

BotProvider = Callable[[], Any]
_KNOWN_PATHS = {"/v1/chat/completions", "/v1/models", "/metrics", "/gradio_api/queue/join", "/"}
_GRADIO_CALLS = {"ask", "search", "feedback"}


class Metrics:
    """The app's metrics; `observe_answer` and `count_feedback` are called by the surfaces."""

    def __init__(self, bot_provider: BotProvider) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("gocluster_http_requests", "HTTP requests by endpoint and outcome",
                                ["endpoint", "outcome"], registry=r)
        self.answers = Counter("gocluster_answers", "Answers by surface and outcome", ["surface", "outcome"],
                               registry=r)
        self.latency = Histogram("gocluster_answer_seconds", "Time to answer one question", ["surface"],
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=r)
        self.feedback = Counter("gocluster_feedback", "Feedback rows by rating and outcome", ["rating", "outcome"],
                                registry=r)
        self.queue_depth = Gauge("gocluster_queue_depth", "Requests waiting for an answer slot", ["queue"],
                                 registry=r)
        ratio = Gauge("gocluster_abstention_ratio", "Share of the answers since start that abstained",
                      registry=r)
        ratio.set_function(self._abstention_ratio)
        r.register(_IndexInfo(bot_provider))
        self._lock = threading.Lock()
        self._answered = self._abstained = 0

    def observe_answer(self, surface: str, seconds: float, outcome: str) -> None:
        """outcome: "answered", "abstained", "refused" (a question error) or "error"."""
        self.answers.labels(surface, outcome).inc()
        if outcome in ("answered", "abstained"):
            self.latency.labels(surface).observe(seconds)
            with self._lock:
                self._answered += 1
                self._abstained += outcome == "abstained"

    def count_feedback(self, rating: int, outcome: str) -> None:
        self.feedback.labels({1: "up", -1: "down"}.get(rating, "gap"), outcome).inc()

    def watch_queue(self, name: str, depth: Callable[[], int]) -> None:
        self.queue_depth.labels(name).set_function(lambda: float(depth()))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def _abstention_ratio(self) -> float:
        with self._lock:
            return self._abstained / self._answered if self._answered else 0.0


class _IndexInfo:
    """gocluster_index_info{version=...}, read from the live bot at each scrape (it may be reloaded)."""

    def __init__(self, bot_provider: BotProvider) -> None:
        self.bot_provider = bot_provider

    def describe(self) -> list:
        return []  # nothing to check at registration; collect() reads the bot only when scraped

    def collect(self) -> Iterator[InfoMetricFamily]:
        yield InfoMetricFamily("gocluster_index", "The live index version",
                               value={"version": str(self.bot_provider().index_version)})


class MeteredBot:
    """The current bot (looked up per call) with timed, counted `answer`; everything else passes through."""

    def __init__(self, bot_provider: BotProvider, metrics: Metrics, surface: str) -> None:
        self._bot_provider, self._metrics, self._surface = bot_provider, metrics, surface

    def answer(self, question: str, history: Any = None) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            answer = self._bot_provider().answer(question, history)
            outcome = "abstained" if answer.abstained else "answered"
            return answer
        except FaqError:
            outcome = "refused"
            raise
        finally:
            self._metrics.observe_answer(self._surface, time.perf_counter() - started, outcome)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot_provider(), name)


class MeteredStore:
    """The feedback store with counted `record`; everything else passes through."""

    def __init__(self, store: FeedbackStore, metrics: Metrics) -> None:
        self._store, self._metrics = store, metrics

    def record(self, question: str, answer: Any, rating: int, comment: str = "", **kwargs: Any) -> int:
        try:
            row_id = self._store.record(question, answer, rating, comment, **kwargs)
        except FeedbackError:
            self._metrics.count_feedback(rating, "rejected")
            raise
        except FeedbackUnavailable:
            self._metrics.count_feedback(rating, "unavailable")
            raise
        self._metrics.count_feedback(rating, "stored")
        return row_id

    def record_unanswered(self, question: str, answer: Any, **kwargs: Any) -> int:
        return self.record(question, answer, 0, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class RequestMetrics:
    """ASGI middleware counting HTTP requests by endpoint (a fixed set of names) and outcome."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_and_note(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.requests.labels(endpoint_label(scope["path"]), outcome_label(status["code"])).inc()


def endpoint_label(path: str) -> str:
    """A bounded label: known routes by name, Gradio's named calls, everything else "other"."""
    if path in _KNOWN_PATHS:
        return path
    parts = path.split("/")
    if path.startswith("/gradio_api/call/") and len(parts) >= 4 and parts[3] in _GRADIO_CALLS:
        return f"/gradio_api/call/{parts[3]}"
    return "other"


def outcome_label(code: int) -> str:
    if code < 400:
        return "ok"
    return {401: "unauthorized", 404: "not_found", 413: "too_large", 429: "busy"}.get(
        code, "bad_request" if code < 500 else "error")


def token_matches(request: Request, token: str) -> bool:
    """True when no token is configured or the request carries `Authorization: Bearer <token>`."""
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_router(metrics: Metrics, api_token: str = "") -> APIRouter:
    """GET /metrics in the Prometheus text format (behind the API token when one is set)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def scrape(request: Request) -> Response:
        if not token_matches(request, api_token):
            return Response("missing or wrong API token\n", status_code=401, media_type="text/plain",
                            headers={"WWW-Authenticate": "Bearer"})
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router
