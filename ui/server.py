"""The two web apps, each a FastAPI app with its Gradio page mounted at "/", served by uvicorn.

- `create_public_app`: chat, hotline look-up (if `public_hotline`), the read-only API, the
  OpenAI-compatible API (/v1, ui/openai_api.py) and /metrics (ui/metrics.py); uploads refused, request
  bodies bounded. No staff component or event exists in it.
- `create_staff_app`: feedback, content gaps, CSV exports, documents, hotline; every route and event
  behind the login (ui/login.py), whatever address the server binds or the client claims.

>>> app = create_public_app(live_bot, build_feedback_store(settings), settings)     # doctest: +SKIP
>>> serve(app, settings.host, settings.port, settings)                                 # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any

import fastapi
import gradio as gr
import uvicorn

from bot.feedback import FeedbackStore
from bot.reindex import Reindexer
from indexer.catalog_edit import CorpusEditor
from indexer.errors import FaqError
from indexer.settings import Settings
from ui.accounts import ADD_HINT, Accounts
from ui.documents import DocumentHandlers
from ui.exports import Exports, private_dir
from ui.login import Login
from ui.look import CSS, HEAD, ON_LOAD_JS, theme
from ui.metrics import MeteredBot, MeteredStore, Metrics, RequestMetrics, metrics_router
from ui.middleware import BodyLimit, LoginRequired, RefuseFiles
from ui.openai_api import openai_router
from ui.public import create_public_blocks
from ui.sessions import LoginThrottle, Sessions
from ui.staff import create_staff_blocks

log = logging.getLogger(__name__)
MULTIPART_OVERHEAD = 1_000_000  # form fields and boundaries around an uploaded document


class NoStaffAccount(FaqError):
    exit_code = 2


def _mount_options(settings: Settings, max_file_size: int) -> dict[str, Any]:
    """Nothing shared or recorded; no folder of the machine served; error details stay in the log."""
    return {"footer_links": ["api"], "run_history": False, "enable_monitoring": False, "mcp_server": False,
            "ssr_mode": False, "show_error": False, "allowed_paths": [], "max_file_size": max_file_size,
            "css": CSS, "theme": theme(), "js": ON_LOAD_JS, "head": HEAD, "server_name": settings.host}


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bare_fastapi() -> fastapi.FastAPI:
    return fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


def create_public_app(bot_provider: Any, feedback_store: FeedbackStore, settings: Settings, *,
                      stream_delay_s: float = 0.02) -> fastapi.FastAPI:
    """`bot_provider`: the bot surface (answer, search, documents, index_version), e.g. a LiveBot. The
    chat, the /v1 API and /metrics all go through it, so a reload reaches every surface at once."""
    current = lambda: bot_provider  # noqa: E731  (what ui/metrics.py and ui/openai_api.py call per request)
    metrics = Metrics(current)
    blocks = create_public_blocks(MeteredBot(current, metrics, "gradio"), MeteredStore(feedback_store, metrics),
                                  settings, stream_delay_s=stream_delay_s)
    metrics.watch_queue("gradio", lambda: len(getattr(blocks, "_queue", ()) or ()))
    app = _bare_fastapi()
    # Gradio is mounted at "/" below and takes every later path: the routers come first.
    app.include_router(openai_router(current, settings, metrics))
    app.include_router(metrics_router(metrics, settings.api_token))
    if not settings.api_token and not is_loopback(settings.host):
        log.warning("no GOCLUSTER_API_TOKEN: /v1 and /metrics are open to anyone who reaches host=%s",
                    settings.host)
    gr.mount_gradio_app(app, blocks, path="/", server_port=settings.port,
                        **_mount_options(settings, max_file_size=1))
    app.add_middleware(RefuseFiles)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)  # added last: runs first, so refusals are counted too
    return app


def create_staff_app(bot_provider: Any, feedback_store: FeedbackStore, settings: Settings,
                     reindexer: Reindexer) -> fastapi.FastAPI:
    """Refuses (NoStaffAccount) while the account file holds no account."""
    accounts = Accounts(settings.staff_users_file)
    if not accounts.names():
        raise NoStaffAccount(f"No staff account yet: add one with `{ADD_HINT}`, then start the staff app again.")
    work = private_dir(settings.staff_work_dir)
    uploads = private_dir(work / "uploads")
    # Gradio keeps uploads in GRADIO_TEMP_DIR and checks that folder on every request: a private one
    # for this process (the public app takes no uploads, so sharing the process with it changes nothing).
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    login = Login(accounts, Sessions(settings.staff_session_minutes * 60, settings.staff_idle_minutes * 60),
                  LoginThrottle(), secure_cookie=settings.staff_cookie_secure)
    app = _bare_fastapi()
    login.add_routes(app)
    Exports(feedback_store, work / "exports").add_routes(app)
    documents = DocumentHandlers(settings, CorpusEditor(settings.corpus_dir, settings.max_file_bytes), reindexer,
                                 uploads)
    blocks = create_staff_blocks(bot_provider, feedback_store, settings, documents)
    gr.mount_gradio_app(app, blocks, path="/", server_port=settings.staff_port,
                        **_mount_options(settings, max_file_size=settings.max_file_bytes))
    app.add_middleware(BodyLimit, max_bytes=settings.max_file_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(LoginRequired, user_of=login.user_of)  # added last: runs first, before any body is read
    return app


def uvicorn_config(app: fastapi.FastAPI, host: str, port: int, settings: Settings) -> uvicorn.Config:
    """X-Forwarded-For is believed only from `trusted_proxies` (none by default)."""
    trusted = settings.trusted_proxies.strip()
    return uvicorn.Config(app, host=host, port=port, proxy_headers=bool(trusted),
                          forwarded_allow_ips=trusted or None, server_header=False, log_level="warning",
                          timeout_graceful_shutdown=5)


def serve(app: fastapi.FastAPI, host: str, port: int, settings: Settings) -> None:
    print(f"Serving on http://{host}:{port}/ (Ctrl+C stops)", flush=True)
    uvicorn.Server(uvicorn_config(app, host, port, settings)).run()
