"""Serve the public and the staff app on free loopback ports (uvicorn in background threads), for the
ui, browser and security tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.feedback import FeedbackStore
from indexer.settings import Settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    bot: Any
    store: FeedbackStore
    settings: Settings


@contextlib.contextmanager
def run_server(app: Any, port: int, settings: Settings) -> Iterator[str]:
    """Serve a FastAPI app with uvicorn in a background thread on 127.0.0.1:`port`; yield its URL."""
    import uvicorn

    from ui.server import uvicorn_config

    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(30)


def app_settings(base: Path, **changes: Any) -> Settings:
    values = {"host": "127.0.0.1", "port": free_port(), "staff_port": free_port(),
              "feedback_db": base / "feedback.sqlite3", "max_concurrency": 2,
              "staff_users_file": base / "staff-users", "staff_work_dir": base / "staff", "eval_dir": base / "eval"}
    return Settings(**(values | changes))


@contextlib.contextmanager
def serve_app(bot: Any, db_path: Path, settings: Settings | None = None, **changes: Any) -> Iterator[RunningApp]:
    """Serve the public app (chat, /v1, /metrics) for `bot` on a free 127.0.0.1 port in this process's
    background threads."""
    from ui.server import create_public_app

    settings = settings or app_settings(db_path.parent, feedback_db=db_path, **changes)
    store = FeedbackStore(settings.feedback_db)
    app = create_public_app(bot, store, settings, stream_delay_s=0.005)
    try:
        with run_server(app, settings.port, settings) as url:
            yield RunningApp(url=url, bot=bot, store=store, settings=settings)
    finally:
        store.close()


STAFF_USER, STAFF_PASSWORD = "office", "correct horse battery staple"


@contextlib.contextmanager
def serve_staff_app(bot: Any, settings: Settings, reindexer: Any = None) -> Iterator[RunningApp]:
    """Serve the staff app (account STAFF_USER added first) with `settings` on its staff port."""
    from ui.accounts import Accounts
    from ui.server import create_staff_app

    Accounts(settings.staff_users_file).add(STAFF_USER, STAFF_PASSWORD)
    store = FeedbackStore(settings.feedback_db)
    app = create_staff_app(bot, store, settings, reindexer or IdleReindexer())
    try:
        with run_server(app, settings.staff_port, settings) as url:
            yield RunningApp(url=url, bot=bot, store=store, settings=settings)
    finally:
        store.close()


class IdleReindexer:
    """Stands in for bot.reindex.Reindexer where no build may run (counts the requests)."""

    def __init__(self) -> None:
        self.requests = 0

    def request(self) -> None:
        self.requests += 1

    def status(self) -> Any:
        from bot.reindex import BuildStatus

        return BuildStatus()
