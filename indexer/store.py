"""The vector store on disk: FAISS IndexFlatIP + chunks.jsonl + manifest.json, loaded without pickle.

Layout of `index_dir`:
    CURRENT                 name of the live version (replaced atomically: a build is all or nothing)
    v-<time>-<digest>/      index.faiss, chunks.jsonl, manifest.json
A build writes a new version folder and only then swaps CURRENT, so a killed build leaves the previous
index live and loadable.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.chunk import Chunk
from indexer.errors import IndexMismatch, IndexNotFound

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILES = ("index.faiss", "chunks.jsonl")
FIX = "run `gocluster-faq index` to rebuild it"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class StoredIndex:
    """A loaded index: the FAISS index, its chunks (row i = vector i) and the checked manifest."""

    index: faiss.Index
    chunks: list[Chunk]
    manifest: dict[str, Any]
    path: Path

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    def vectors(self) -> np.ndarray:
        return self.index.reconstruct_n(0, self.index.ntotal) if self.index.ntotal else np.zeros(
            (0, self.index.d), dtype=np.float32)

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.index.ntotal)
        return self.index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)


def write_version(index_dir: Path, chunks: list[Chunk], vectors: np.ndarray,
                  manifest: dict[str, Any]) -> Path:
    """Write a complete version folder aside, then point CURRENT at it (atomic rename)."""
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else int(manifest["embedder"]["dimension"])
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(tmp / "index.faiss"))
    with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
    manifest = dict(manifest, format=FORMAT_VERSION, dimension=dim, ntotal=len(chunks),
                    checksums={name: sha256_file(tmp / name) for name in FILES})
    manifest["version"] = f"{manifest['built_at']}/{manifest['checksums']['chunks.jsonl'][:8]}"
    _write_json(tmp / "manifest.json", manifest)
    _fsync_dir(tmp)
    name = "v-" + manifest["built_at"].replace(":", "").replace("-", "") + "-" + \
        manifest["checksums"]["index.faiss"][:8]
    final = index_dir / name
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _write_text_atomic(index_dir / "CURRENT", name + "\n")
    _remove_stale(index_dir, keep={name})
    return final


def current_path(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexNotFound(f"No index at {index_dir}: {FIX}.")
    path = index_dir / pointer.read_text(encoding="utf-8").strip()
    if not path.is_dir():
        raise IndexMismatch(f"The index at {index_dir} points to a missing version ({path.name}): {FIX}.")
    return path


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = current_path(index_dir) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatch(f"The index manifest {path} is unreadable ({exc.__class__.__name__}): {FIX}.") from exc


def load_index(index_dir: Path, embedder_name: str | None = None,
               embedder_fingerprint: str | None = None) -> StoredIndex:
    """Load and check the live index. Refuses a damaged index or one built by another embedder."""
    path = current_path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(f"The index at {index_dir} has format {manifest.get('format')}, "
                            f"this version reads {FORMAT_VERSION}: {FIX}.")
    _check_embedder(manifest, embedder_name, embedder_fingerprint)
    for name in FILES:
        file = path / name
        if not file.is_file() or sha256_file(file) != manifest.get("checksums", {}).get(name):
            raise IndexMismatch(f"The index file {file} is missing or damaged (checksum differs "
                                f"from the manifest): {FIX}.")
    try:
        index = faiss.read_index(str(path / "index.faiss"))
        chunks = [Chunk.from_dict(json.loads(line))
                  for line in (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines() if line]
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise IndexMismatch(f"The index at {path} cannot be read ({exc}): {FIX}.") from exc
    if index.ntotal != len(chunks) or index.d != manifest.get("dimension"):
        raise IndexMismatch(f"The index at {path} holds {index.ntotal} vectors for {len(chunks)} "
                            f"chunks: {FIX}.")
    return StoredIndex(index=index, chunks=chunks, manifest=manifest, path=path)


def _check_embedder(manifest: dict[str, Any], name: str | None, fingerprint: str | None) -> None:
    """Same weights (fingerprint) = same vectors: accepted whichever backend built the index and whatever
    the model is called (the shipped model by name or by its imported folder). See indexer/embedder.py."""
    built = manifest.get("embedder", {})
    if fingerprint is not None and built.get("fingerprint") == fingerprint:
        return
    if name is not None and built.get("name") != name:
        raise IndexMismatch(f"The index was built with the embedder {built.get('name')!r} but the settings "
                            f"name {name!r}: {FIX}, or set GOCLUSTER_EMBEDDING_MODEL back.")
    if fingerprint is not None and built.get("fingerprint") != fingerprint:
        raise IndexMismatch(f"The index was built with other weights of {built.get('name')!r} "
                            f"(fingerprint {built.get('fingerprint')} vs {fingerprint}): {FIX}.")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    for file in path.iterdir():
        with file.open("rb") as fh:
            os.fsync(fh.fileno())


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    """Drop old versions and leftovers of killed builds; keep the live one and its predecessor."""
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name not in keep)
    for old in versions[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    remove_leftovers(index_dir)


def remove_leftovers(index_dir: Path) -> None:
    """Half-written versions of killed builds (only call while holding the build lock)."""
    for leftover in index_dir.glob(".building-*"):
        shutil.rmtree(leftover, ignore_errors=True)
