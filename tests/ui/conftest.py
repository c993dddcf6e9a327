"""A fake FaqBot with the real bot's surface, and fixtures that serve the public and the staff app on free
loopback ports (uvicorn in background threads).

To run the browser or client tests against another bot, override `app_bot` in the test module:

    @pytest.fixture(scope="module")
    def app_bot(real_bot):
        return real_bot
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.feedback import FeedbackStore
from bot.results import Answer, Citation, Hit
from indexer.chunk import Chunk
from indexer.errors import QuestionError
from indexer.settings import Settings

DOCUMENTS = [
    {"file": "webseite-de.txt", "title": "Programm go-cluster (Webseite)", "language": "de",
     "date_label": "undatiert, vor Dezember 2021"},
    {"file": "flyer-en.txt", "title": "Excellent networking <flyer>", "language": "en",
     "date_label": "last revised March 2019"},
]
CHUNKS = [
    Chunk.create(text="Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm "
                      "bewerben. Die Aufnahme ist an Qualitätskriterien gebunden.",
                 source="webseite-de.txt", title=DOCUMENTS[0]["title"], language="de", ordinal=0,
                 section="Aufnahme in das Programm", date_label=DOCUMENTS[0]["date_label"]),
    Chunk.create(text="Membership in the programme is open to all innovation clusters based in Germany.",
                 source="flyer-en.txt", title=DOCUMENTS[1]["title"], language="en", ordinal=0, page=2,
                 section="Who can join?", date="2019-03", date_label=DOCUMENTS[1]["date_label"]),
    Chunk.create(text="Die Clustermanagement-Organisationen erhalten <b>Beratung</b> & Coaching.",
                 source="webseite-de.txt", title=DOCUMENTS[0]["title"], language="de", ordinal=1,
                 section="Leistungen", date_label=DOCUMENTS[0]["date_label"]),
]
GAP_WORD = "Wetter"


class FakeBot:
    """Answers from CHUNKS by word overlap; abstains on questions containing GAP_WORD."""

    index_version = "2026-11-21T18:00:00Z/fake0001"

    def __init__(self) -> None:
        self.answer_calls: list[tuple[str, list[dict] | None]] = []
        self.search_calls: list[dict[str, Any]] = []

    def documents(self) -> list[dict]:
        return [dict(d) for d in DOCUMENTS]

    def search(self, query: str, k: int = 10, language: str | None = None,
               source: str | None = None) -> list[Hit]:
        self.search_calls.append({"query": query, "k": k, "language": language, "source": source})
        words = {w.lower() for w in query.split()}
        pool = [c for c in CHUNKS if (language is None or c.language == language)
                and (source is None or c.source == source)]
        scored = sorted(pool, key=lambda c: -len(words & {w.lower().strip(".,") for w in c.text.split()}))
        return [Hit(chunk=c, score=1.0 / (i + 1), rank=i + 1) for i, c in enumerate(scored[:k])]

    def answer(self, question: str, history: list[dict] | None = None) -> Answer:
        self.answer_calls.append((question, history))
        if not question.strip():
            raise QuestionError("Bitte geben Sie eine Frage ein.")
        if len(question) > 2_000:
            raise QuestionError("Die Frage ist zu lang (höchstens 2.000 Zeichen).")
        language = "en" if question.lower().startswith(("who", "what", "how")) else "de"
        if GAP_WORD.lower() in question.lower():
            return Answer(question=question, text="Dazu enthalten die Dokumente keine Angaben.",
                          language=language, abstained=True, index_version=self.index_version)
        hits = self.search(question, k=2)
        citations = [Citation.from_hit(i + 1, h, h.chunk.text[:80]) for i, h in enumerate(hits)]
        text = f"Zu „{question}“: Jedes Innovationscluster kann sich bewerben [1]. Siehe auch [2]."
        return Answer(question=question, text=text, language=language, abstained=False,
                      citations=citations, index_version=self.index_version)


@pytest.fixture
def fake_bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3")


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
              "staff_users_file": base / "staff-users", "staff_work_dir": base / "staff"}
    return Settings(**(values | changes))


@contextlib.contextmanager
def serve_app(bot: Any, db_path: Path, **changes: Any) -> Iterator[RunningApp]:
    """Serve the public app for `bot` on a free 127.0.0.1 port in this process's background threads."""
    from ui.server import create_public_app

    settings = app_settings(db_path.parent, feedback_db=db_path, **changes)
    store = FeedbackStore(settings.feedback_db)
    app = create_public_app(bot, store, settings, stream_delay_s=0.005)
    with run_server(app, settings.port, settings) as url:
        yield RunningApp(url=url, bot=bot, store=store, settings=settings)


STAFF_USER, STAFF_PASSWORD = "office", "correct horse battery staple"


@contextlib.contextmanager
def serve_staff_app(bot: Any, settings: Settings, reindexer: Any = None) -> Iterator[RunningApp]:
    """Serve the staff app (account STAFF_USER added first) with `settings` on its staff port."""
    from ui.accounts import Accounts
    from ui.server import create_staff_app

    Accounts(settings.staff_users_file).add(STAFF_USER, STAFF_PASSWORD)
    store = FeedbackStore(settings.feedback_db)
    app = create_staff_app(bot, store, settings, reindexer or IdleReindexer())
    with run_server(app, settings.staff_port, settings) as url:
        yield RunningApp(url=url, bot=bot, store=store, settings=settings)


class IdleReindexer:
    """Stands in for bot.reindex.Reindexer where no build may run (counts the requests)."""

    def __init__(self) -> None:
        self.requests = 0

    def request(self) -> None:
        self.requests += 1

    def status(self) -> Any:
        from bot.reindex import BuildStatus

        return BuildStatus()


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
