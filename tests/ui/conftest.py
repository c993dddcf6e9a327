"""Fixtures of the ui tests: the fake bot, a feedback store, and the public and staff apps served on free
loopback ports (see servers.py).

To run the browser or client tests against another bot, override `app_bot` in the test module:

    @pytest.fixture(scope="module")
    def app_bot(real_bot):
        return real_bot
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import CHUNKS, DOCUMENTS, GAP_WORD, FakeBot
from servers import STAFF_PASSWORD, STAFF_USER, RunningApp, serve_app, serve_staff_app

from bot.feedback import FeedbackStore

__all__ = ["CHUNKS", "DOCUMENTS", "GAP_WORD", "STAFF_PASSWORD", "STAFF_USER", "FakeBot", "RunningApp"]


@pytest.fixture
def fake_bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3")


@pytest.fixture(scope="module")
def public_app(app_bot: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The public app (Gradio on FastAPI, /v1, /metrics) for the API tests, a database of its own."""
    with serve_app(app_bot, tmp_path_factory.mktemp("public") / "feedback.sqlite3") as app:
        yield app


@pytest.fixture(scope="module")
def app_bot() -> Any:
    """The bot the served app uses; override in a module to test another bot."""
    return FakeBot()


@pytest.fixture(scope="module")
def running_app(app_bot: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with serve_app(app_bot, tmp_path_factory.mktemp("app") / "feedback.sqlite3") as app:
        yield app


@pytest.fixture(scope="module")
def staff_app(app_bot: Any, running_app: RunningApp) -> Iterator[RunningApp]:
    """The staff app beside `running_app`, on the same feedback database."""
    with serve_staff_app(app_bot, running_app.settings) as app:
        yield app


def pytest_configure(config: pytest.Config) -> None:
    # gradio's queue calls a pandas API that pandas 3 deprecates; nothing for this project to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:gradio.queueing")
