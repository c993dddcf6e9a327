"""Index builds in a background thread, for the staff app: request one, read its progress.

A request while a build runs is remembered and runs right after it, so a document changed during a
build is always indexed. When a build has written a new version, `on_new_version` is called (the
staff app's LiveBot swaps right away; other processes notice CURRENT on their own).

>>> jobs = Reindexer(settings, embedder, on_new_version=live.check)   # doctest: +SKIP
>>> jobs.request()                                                    # doctest: +SKIP
>>> jobs.status().fraction                                            # doctest: +SKIP
0.4
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from indexer.errors import FaqError
from indexer.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildStatus:
    state: str = "idle"  # idle | running | done | failed
    stage: str = ""  # files | embedding | writing
    done: int = 0
    total: int = 0
    message: str = ""  # the build's summary, or its one-line error
    version: str = ""
    finished_at: float = 0.0

    @property
    def fraction(self) -> float:
        """0..1 over the whole build: reading files is the first fifth, embedding the rest."""
        if self.state != "running":
            return 1.0 if self.state == "done" else 0.0
        part = self.done / self.total if self.total else 0.0
        if self.stage == "files":
            return 0.2 * part
        if self.stage == "embedding":
            return 0.2 + 0.75 * part
        return 0.95 if self.stage == "writing" else 0.0


class Reindexer:
    def __init__(self, settings: Settings, embedder: Any,
                 on_new_version: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.on_new_version = on_new_version
        self._lock = threading.Lock()
        self._status = BuildStatus()
        self._pending = False
        self._thread: threading.Thread | None = None

    def status(self) -> BuildStatus:
        return self._status

    def running(self) -> bool:
        """A build runs or is about to (the worker clears this only when nothing is pending)."""
        return self._thread is not None

    def request(self) -> None:
        with self._lock:
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="reindex", daemon=True)
                self._thread.start()

    def wait(self, timeout_s: float) -> BuildStatus:
        """Block until no build runs or is pending (tests, the CLI)."""
        deadline = time.monotonic() + timeout_s
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self._status

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                self._pending = False
            self._status = BuildStatus(state="running", stage="files")
            self._build_once()

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._status = replace(self._status, stage=stage, done=done, total=total)

    def _build_once(self) -> None:
        from bot.factory import build_index

        builder = build_index(self.settings, self.embedder, show_progress=False, progress=self._progress)
        try:
            report = builder.build(self.settings.corpus_dir, self.settings.index_dir)
        except FaqError as exc:
            log.warning("index build failed error=%s", exc)
            self._status = BuildStatus(state="failed", message=str(exc), finished_at=time.time())
            return
        except Exception:
            log.exception("index build failed")
            self._status = BuildStatus(state="failed", message="The index build failed; see the server log.",
                                       finished_at=time.time())
            return
        self._progress("writing", 1, 1)
        if report.changed and self.on_new_version is not None:
            try:
                self.on_new_version()
            except Exception:
                log.exception("new index version not taken up")
        log.info("index build done version=%s changed=%s", report.version, report.changed)
        self._status = BuildStatus(state="done", message=report.summary(), version=report.version,
                                   finished_at=time.time())
