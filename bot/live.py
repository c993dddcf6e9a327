"""LiveBot: the current FaqBot, replaced without a restart when a new index version goes live.

A watcher thread looks at the index folder's CURRENT pointer every `interval_s`; when it names another
version (a build in the staff app, or `gocluster-faq index` from a shell), the new bot is loaded in that
thread and then swapped in by one assignment. A question already running keeps the bot it started
with, so nothing in flight fails; a version that cannot be loaded is logged and the old bot stays.

>>> live = LiveBot.from_settings(settings, embedder)          # doctest: +SKIP
>>> live.start()                                             # doctest: +SKIP
>>> live.answer("Wer darf sich bewerben?").index_version      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from indexer.errors import FaqError
from indexer.settings import Settings

log = logging.getLogger(__name__)


def current_pointer(index_dir: Path) -> str:
    """What CURRENT names now ("" when there is no index yet or it cannot be read)."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8")[:200].strip()
    except (OSError, UnicodeDecodeError):
        return ""


class LiveBot:
    """The FaqBot surface (answer, search, documents, index_version), always from the newest bot."""

    def __init__(self, index_dir: Path, load: Callable[[], Any], interval_s: float = 2.0,
                 bot: Any | None = None, embedder: Any = None) -> None:
        self.index_dir = Path(index_dir)
        self.load = load
        self.embedder = embedder  # shared with index builds in the same process (bot/reindex.py)
        self.interval_s = interval_s
        self._pointer = current_pointer(self.index_dir)
        self._bot = bot if bot is not None else load()
        self._failed = ""
        self._stop = threading.Event()
        self._check_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.reloads = 0

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Any, bot: Any | None = None) -> LiveBot:
        from bot.factory import build_bot

        def load() -> Any:
            return build_bot(settings, embedder=embedder, build_missing=False)

        return cls(settings.index_dir, load, settings.reload_check_s, bot=bot, embedder=embedder)

    # -- the bot's surface ------------------------------------------------------------------------
    @property
    def bot(self) -> Any:
        return self._bot

    @property
    def index_version(self) -> str:
        return self._bot.index_version

    def answer(self, question: str, history: Sequence[dict] | None = None) -> Any:
        return self._bot.answer(question, history)

    def search(self, query: str, k: int = 10, language: str | None = None, source: str | None = None) -> Any:
        return self._bot.search(query, k=k, language=language, source=source)

    def documents(self) -> list[dict[str, Any]]:
        return self._bot.documents()

    # -- reloading --------------------------------------------------------------------------------
    def check(self) -> bool:
        """Load and swap in a new version if CURRENT changed; True when a new bot is live."""
        with self._check_lock:  # one load at a time, whoever calls
            pointer = current_pointer(self.index_dir)
            if not pointer or pointer in (self._pointer, self._failed):
                return False
            try:
                bot = self.load()
            except FaqError as exc:
                self._failed = pointer  # tried again once CURRENT moves on
                log.warning("new index version not loaded version=%s error=%s", pointer, exc)
                return False
            except Exception:
                self._failed = pointer
                log.exception("new index version not loaded version=%s", pointer)
                return False
            self._bot, self._pointer, self._failed = bot, pointer, ""
            self.reloads += 1
            log.info("index version live version=%s", bot.index_version)
            return True

    def start(self) -> LiveBot:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="live-bot", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()
