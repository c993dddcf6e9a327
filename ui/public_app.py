"""The served app: one FastAPI app with the OpenAI-compatible API, /metrics and the Gradio app mounted
at "/" (Gradio runs on FastAPI: mounted, not forked), run by uvicorn.

>>> app = create_public_app(lambda: bot, build_feedback_store(settings), settings)   # doctest: +SKIP
>>> serve(app, settings)                                                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI

from bot.feedback import FeedbackStore
from indexer.settings import Settings
from ui.demo import create_demo, is_loopback, launch_kwargs
from ui.metrics import MeteredBot, MeteredStore, Metrics, RequestMetrics, metrics_router
from ui.openai_api import openai_router

log = logging.getLogger(__name__)
# launch() arguments that mount_gradio_app takes as well (the rest is about launching a server).
_MOUNT_KEYS = ("server_name", "server_port", "footer_links", "run_history", "allowed_paths", "max_file_size",
               "show_error", "ssr_mode", "enable_monitoring", "mcp_server", "theme", "css")


def create_public_app(bot_provider: Callable[[], Any], feedback_store: FeedbackStore, settings: Settings, *,
                      stream_delay_s: float = 0.02) -> FastAPI:
    metrics = Metrics(bot_provider)
    demo = create_demo(MeteredBot(bot_provider, metrics, "gradio"), MeteredStore(feedback_store, metrics),
                       settings, stream_delay_s=stream_delay_s)
    metrics.watch_queue("gradio", lambda: len(getattr(demo, "_queue", ()) or ()))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.include_router(openai_router(bot_provider, settings, metrics))
    app.include_router(metrics_router(metrics, settings.api_token))
    if not settings.api_token and not is_loopback(settings.host):
        log.warning("no GOCLUSTER_API_TOKEN: /v1 and /metrics are open to anyone who reaches host=%s",
                    settings.host)
    kwargs = launch_kwargs(settings)
    return gr.mount_gradio_app(app, demo, path="/", app_kwargs={"openapi_url": None},  # no schema page
                               **{k: kwargs[k] for k in _MOUNT_KEYS})


def serve(app: FastAPI, settings: Settings) -> None:
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=5)
