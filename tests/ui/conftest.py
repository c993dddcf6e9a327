"""A fake FaqBot with the real bot's surface, and a fixture that serves the app on a free loopback port.

To run the browser or client tests against another bot, override `app_bot` in the test module:

    @pytest.fixture(scope="module")
    def app_bot(real_bot):
        return real_bot
"""

from __future__ import annotations

import contextlib
import socket
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
            raise QuestionError("Die Frage ist zu lang (höchstens 2000 Zeichen).")
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
def serve_app(bot: Any, db_path: Path) -> Iterator[RunningApp]:
    """Serve create_demo(bot) on a free 127.0.0.1 port in this process's background threads."""
    from ui.demo import create_demo, launch_kwargs

    settings = Settings(host="127.0.0.1", port=free_port(), feedback_db=db_path, max_concurrency=2)
    store = FeedbackStore(settings.feedback_db)
    demo = create_demo(bot, store, settings, stream_delay_s=0.005)
    _, url, _ = demo.launch(**launch_kwargs(settings), prevent_thread_lock=True, quiet=True)
    try:
        yield RunningApp(url=url, bot=bot, store=store, settings=settings)
    finally:
        demo.close()


@contextlib.contextmanager
def serve_public(bot: Any, target: Path | str, **changes: Any) -> Iterator[RunningApp]:
    """Serve create_public_app (Gradio mounted on FastAPI, /v1, /metrics) with uvicorn on a free
    127.0.0.1 port, in a background thread of this process."""
    import threading
    import time

    import uvicorn

    from ui.public_app import create_public_app

    settings = Settings(host="127.0.0.1", port=free_port(), max_concurrency=2,
                        **({"feedback_db": target} if isinstance(target, Path) else {"feedback_url": target}),
                        **changes)
    store = FeedbackStore(target)
    app = create_public_app(lambda: bot, store, settings, stream_delay_s=0.005)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start within 60 s"
    try:
        yield RunningApp(url=f"http://{settings.host}:{settings.port}/", bot=bot, store=store, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.close()


@pytest.fixture(scope="module")
def public_app(app_bot: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with serve_public(app_bot, tmp_path_factory.mktemp("public") / "feedback.sqlite3") as app:
        yield app


@pytest.fixture(scope="module")
def app_bot() -> Any:
    """The bot the served app uses; override in a module to test another bot."""
    return FakeBot()


@pytest.fixture(scope="module")
def running_app(app_bot: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with serve_app(app_bot, tmp_path_factory.mktemp("app") / "feedback.sqlite3") as app:
        yield app


def pytest_configure(config: pytest.Config) -> None:
    # gradio's queue calls a pandas API that pandas 3 deprecates; nothing for this project to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:gradio.queueing")
