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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.chunk import Chunk
from indexer.errors import IndexMismatch, IndexNotFound
from indexer.units import UnitRecord

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
FILES = ("index.faiss", "chunks.jsonl", "units.faiss", "units.jsonl")
FIX = "run `gocluster-faq index` to rebuild it"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class StoredIndex:
    """A loaded index: the FAISS index, its chunks (row i = vector i), the answer units with their own
    FAISS index (row j = unit j), and the checked manifest."""

    index: faiss.Index
    chunks: list[Chunk]
    manifest: dict[str, Any]
    path: Path
    unit_index: faiss.Index | None = None
    units: list[UnitRecord] = field(default_factory=list)

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    def vectors(self) -> np.ndarray:
        return self.index.reconstruct_n(0, self.index.ntotal) if self.index.ntotal else np.zeros(
            (0, self.index.d), dtype=np.float32)

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.index.ntotal)
        return self.index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)

    def unit_vectors(self) -> np.ndarray:
        index = self.unit_index
        if index is None or not index.ntotal:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return index.reconstruct_n(0, index.ntotal)


def write_version(index_dir: Path, chunks: list[Chunk], vectors: np.ndarray,
                  manifest: dict[str, Any], units: list[UnitRecord] | None = None,
                  unit_vectors: np.ndarray | None = None) -> Path:
    """Write a complete version folder aside, then point CURRENT at it (atomic rename)."""
    units = units or []
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    if unit_vectors is None:
        unit_vectors = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    if len(units) != len(unit_vectors):
        raise ValueError(f"{len(units)} units but {len(unit_vectors)} vectors")
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else int(manifest["embedder"]["dimension"])
    _write_faiss(tmp / "index.faiss", vectors, dim)
    _write_faiss(tmp / "units.faiss", unit_vectors, dim)
    _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in chunks))
    _write_jsonl(tmp / "units.jsonl", (u.to_dict() for u in units))
    manifest = dict(manifest, format=FORMAT_VERSION, dimension=dim, ntotal=len(chunks), units=len(units),
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


def _write_faiss(path: Path, vectors: np.ndarray, dim: int) -> None:
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


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
        unit_index = faiss.read_index(str(path / "units.faiss"))
        chunks = [Chunk.from_dict(row) for row in _read_jsonl(path / "chunks.jsonl")]
        units = [UnitRecord.from_dict(row) for row in _read_jsonl(path / "units.jsonl")]
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise IndexMismatch(f"The index at {path} cannot be read ({exc}): {FIX}.") from exc
    if index.ntotal != len(chunks) or index.d != manifest.get("dimension"):
        raise IndexMismatch(f"The index at {path} holds {index.ntotal} vectors for {len(chunks)} "
                            f"chunks: {FIX}.")
    known = {c.id for c in chunks}
    if unit_index.ntotal != len(units) or (units and unit_index.d != index.d) or \
            any(u.chunk_id not in known for u in units):
        raise IndexMismatch(f"The index at {path} holds {unit_index.ntotal} unit vectors for {len(units)} "
                            f"units of its chunks: {FIX}.")
    return StoredIndex(index=index, chunks=chunks, manifest=manifest, path=path, unit_index=unit_index,
                       units=units)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _check_embedder(manifest: dict[str, Any], name: str | None, fingerprint: str | None) -> None:
    built = manifest.get("embedder", {})
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
