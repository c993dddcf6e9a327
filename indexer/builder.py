"""Build or update the index: load -> clean -> chunk -> embed (only what changed) -> store atomically."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from indexer import store
from indexer.catalog import Catalog
from indexer.chunk import Chunk
from indexer.chunker import Chunker, chunk_file
from indexer.errors import CorpusError, DocumentError, FaqError, IndexMismatch, IndexNotFound
from indexer.loaders import iter_corpus_files

log = logging.getLogger(__name__)


class PassageEncoder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...
    def fingerprint(self) -> str: ...
    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray: ...


@dataclass
class BuildReport:
    files: int = 0
    pages: int = 0
    chunks: int = 0
    chunks_by_language: dict[str, int] = field(default_factory=dict)
    embedded: int = 0
    reused: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    changed: bool = True
    version: str = ""

    def summary(self) -> str:
        langs = ", ".join(f"{k}: {v}" for k, v in sorted(self.chunks_by_language.items()))
        state = "index written" if self.changed else "index up to date, nothing written"
        lines = [f"{state}: {self.files} files, {self.pages} pages, {self.chunks} chunks ({langs}); "
                 f"{self.embedded} embedded, {self.reused} reused; {self.seconds:.1f} s"]
        lines += [f"skipped {s['file']}: {s['reason']}" for s in self.skipped]
        return "\n".join(lines)


class IndexBuilder:
    """Indexes a corpus folder into an index folder, re-embedding only new or changed text.

    >>> builder = IndexBuilder(embedder, Chunker(320, 48, embedder.count_tokens), max_file_bytes=50_000_000)
    >>> report = builder.build(Path("corpus"), Path("var/index"))   # doctest: +SKIP
    """

    def __init__(self, embedder: PassageEncoder, chunker: Chunker, max_file_bytes: int,
                 show_progress: bool = True, progress: Callable[[str, int, int], None] | None = None) -> None:
        self.embedder = embedder
        self.chunker = chunker
        self.max_file_bytes = max_file_bytes
        self.show_progress = show_progress
        self.progress = progress or (lambda stage, done, total: None)  # ("files"|"embedding", done, total)

    def build(self, corpus_dir: Path, index_dir: Path) -> BuildReport:
        started = time.perf_counter()
        if not corpus_dir.is_dir():
            raise CorpusError(f"Corpus folder {corpus_dir} does not exist: create it or pass --corpus DIR.")
        index_dir.mkdir(parents=True, exist_ok=True)
        with _build_lock(index_dir):
            report = self._build_locked(corpus_dir, index_dir)
        report.seconds = time.perf_counter() - started
        return report

    def _build_locked(self, corpus_dir: Path, index_dir: Path) -> BuildReport:
        store.remove_leftovers(index_dir)  # a build killed while writing left a half version aside
        previous = self._previous(index_dir)
        settings_key = self._settings_key(corpus_dir)
        old_files = previous.manifest.get("files", {}) if previous else {}
        reusable = previous is not None and previous.manifest.get("settings_key") == settings_key
        report = BuildReport()
        chunks: list[Chunk] = []
        files: dict[str, dict[str, Any]] = {}
        catalog = Catalog.load(corpus_dir)
        corpus_files = iter_corpus_files(corpus_dir)
        for number, path in enumerate(corpus_files):
            self.progress("files", number, len(corpus_files))
            name = path.relative_to(corpus_dir).as_posix()
            try:
                digest = store.sha256_file(path) if path.is_file() and not path.is_symlink() else ""
                old = old_files.get(name)
                indexed_at = old.get("indexed_at", "") if old else ""
                if reusable and old and old.get("sha256") == digest and previous is not None:
                    file_chunks = [c for c in previous.chunks if c.source == name]
                else:
                    file_chunks = chunk_file(path, corpus_dir, catalog, self.chunker, self.max_file_bytes)
                    before = [_text_key(c) for c in previous.chunks if c.source == name] if previous else []
                    if before != [_text_key(c) for c in file_chunks]:  # its text changed: indexed anew now
                        indexed_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            except DocumentError as exc:
                report.skipped.append({"file": name, "reason": str(exc)})
                log.warning("skipped file=%s reason=%s", name, exc)
                continue
            pages = len({c.page for c in file_chunks}) or 1
            files[name] = {"sha256": digest, "chunks": len(file_chunks), "pages": pages,
                           "language": file_chunks[0].language if file_chunks else "", "indexed_at": indexed_at}
            chunks.extend(file_chunks)
            report.pages += pages
        if not chunks:
            raise CorpusError(f"Nothing to index in {corpus_dir}: no readable .pdf, .txt or .md file.")
        report.files = len(files)
        report.chunks = len(chunks)
        report.chunks_by_language = dict(Counter(c.language for c in chunks))
        unchanged = reusable and previous is not None and files == old_files and \
            [c.id for c in chunks] == [c.id for c in previous.chunks]
        if unchanged and previous is not None:
            report.changed, report.reused, report.version = False, len(chunks), previous.version
            return report
        # Vectors are keyed by the exact text embedded and `previous` was built by this embedder, so they
        # stay valid when only the catalogue changed (a document added in the staff app).
        vectors = self._embed(chunks, previous, report)
        manifest = self._manifest(files, chunks, settings_key, report)
        store.write_version(index_dir, chunks, vectors, manifest)
        report.version = store.read_manifest(index_dir)["version"]
        return report

    def _previous(self, index_dir: Path) -> store.StoredIndex | None:
        try:
            return store.load_index(index_dir, self.embedder.name, self.embedder.fingerprint())
        except (IndexNotFound, IndexMismatch) as exc:
            if not isinstance(exc, IndexNotFound):
                log.info("previous index not reusable: %s", exc)
            return None

    def _embed(self, chunks: list[Chunk], previous: store.StoredIndex | None,
               report: BuildReport) -> np.ndarray:
        cache: dict[str, np.ndarray] = {}
        if previous is not None:
            old_vectors = previous.vectors()
            cache = {_text_key(c): old_vectors[i] for i, c in enumerate(previous.chunks)}
        todo = [c for c in chunks if _text_key(c) not in cache]
        if todo:
            batch = 16
            bar = tqdm(total=len(todo), desc="Embedding", unit="chunk", disable=not self.show_progress)
            for start in range(0, len(todo), batch):
                part = todo[start:start + batch]
                vecs = self.embedder.encode_passages([c.embedding_text() for c in part])
                for c, v in zip(part, vecs, strict=True):
                    cache[_text_key(c)] = np.asarray(v, dtype=np.float32)
                bar.update(len(part))
                self.progress("embedding", min(start + batch, len(todo)), len(todo))
            bar.close()
        report.embedded, report.reused = len(todo), len(chunks) - len(todo)
        return np.stack([cache[_text_key(c)] for c in chunks]).astype(np.float32)

    def _settings_key(self, corpus_dir: Path) -> str:
        catalog = corpus_dir / "catalog.toml"
        parts = [self.embedder.name, self.embedder.fingerprint(), repr(self.chunker.settings()),
                 store.sha256_file(catalog) if catalog.is_file() else ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def _manifest(self, files: dict[str, Any], chunks: list[Chunk], settings_key: str,
                  report: BuildReport) -> dict[str, Any]:
        return {
            "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "package_version": _package_version(),
            "embedder": {"name": self.embedder.name, "fingerprint": self.embedder.fingerprint(),
                         "dimension": self.embedder.dimension},
            "chunking": self.chunker.settings(),
            "settings_key": settings_key,
            "files": files,
            "chunks_by_language": dict(Counter(c.language for c in chunks)),
            "skipped": report.skipped,
        }


def _text_key(chunk: Chunk) -> str:
    return hashlib.sha256(chunk.embedding_text().encode()).hexdigest()


def _package_version() -> str:
    try:
        return version("gocluster-faq")
    except PackageNotFoundError:
        return "0+unknown"


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder; a second one fails fast instead of racing."""
    with (index_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise FaqError(f"Another build is writing {index_dir}; wait for it to finish.") from exc
        yield
