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
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.chunk import Chunk
from indexer.errors import IndexMismatch, IndexNotFound
from indexer.units import UnitRecord

# A search covers a few hundred vectors: one thread takes 0.03 ms, while faiss's own OpenMP team (its own
# libgomp, busy-waiting) took 8-12 ms a search whenever another process wanted the cores. The apps
# answer several requests side by side instead.
faiss.omp_set_num_threads(1)

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
FILES = ("index.faiss", "chunks.jsonl", "units.faiss", "units.jsonl")
FIX = "run `gocluster-faq index` to rebuild it"
# Loading bounds: files are checked against these before they are read (a manifest pointed at
# /dev/zero or a FIFO must not flood or hang the process).
MAX_POINTER_BYTES = 4096
MAX_MANIFEST_BYTES = 10_000_000
MAX_CHUNKS = 2_000_000
MAX_CHUNK_LINE_BYTES = 256 * 1024  # a passage of at most 512 tokens with its fields, JSON-escaped
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z_-]{1,100}")  # no "/" or "..": CURRENT cannot lead elsewhere
_MANIFEST_FIELDS: dict[str, type] = {
    "built_at": str, "files": dict, "skipped": list, "settings_key": str,
    "chunking": dict, "chunks_by_language": dict, "package_version": str}
_CHUNK_STRINGS = ("id", "text", "source", "title", "language", "date", "date_label", "sort_date", "section")
_CHUNK_OPTIONAL = frozenset({"date", "date_label", "sort_date", "section"})


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
    """The live version folder: CURRENT must be a small regular file naming a folder right here."""
    pointer = index_dir / "CURRENT"
    if not os.path.lexists(pointer):
        raise IndexNotFound(f"No index at {index_dir}: {FIX}.")
    name = _read_regular(pointer, MAX_POINTER_BYTES).decode("utf-8", errors="replace").strip()
    if not _VERSION_NAME.fullmatch(name):
        raise IndexMismatch(f"The index at {index_dir} points to {name[:80]!r}, not a version folder "
                            f"inside it: {FIX}.")
    path = index_dir / name
    try:
        mode = path.lstat().st_mode  # lstat: a symlinked version folder could lead anywhere
    except OSError:
        raise IndexMismatch(f"The index at {index_dir} points to a missing version ({name}): {FIX}.") from None
    if not stat.S_ISDIR(mode):
        raise IndexMismatch(f"The index at {index_dir} points to {name}, which is {_kind(mode)}, not a "
                            f"version folder: {FIX}.")
    return path


def read_manifest(index_dir: Path) -> dict[str, Any]:
    return _read_manifest(current_path(index_dir))


def _read_manifest(version: Path) -> dict[str, Any]:
    path = version / "manifest.json"
    data = _read_regular(path, MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise IndexMismatch(f"The index manifest {path} is unreadable ({exc.__class__.__name__}): {FIX}.") from exc
    problem = _manifest_problem(manifest)
    if problem:
        raise IndexMismatch(f"The index manifest {path} is not one this version wrote ({problem}): {FIX}.")
    return manifest


def load_index(index_dir: Path, embedder_name: str | None = None,
               embedder_fingerprint: str | None = None) -> StoredIndex:
    """Load and check the live index. Refuses a damaged index or one built by another embedder."""
    path = current_path(index_dir)
    manifest = _read_manifest(path)  # from the same folder, even if a build swaps CURRENT meanwhile
    _check_embedder(manifest, embedder_name, embedder_fingerprint)
    ntotal, dim = manifest["ntotal"], manifest["dimension"]
    # A flat index is a 45-byte header and the vectors; a chunk line is one passage and its fields.
    n_units = manifest["units"]
    limits = {"index.faiss": 1024 + 4 * dim * ntotal, "chunks.jsonl": MAX_CHUNK_LINE_BYTES * ntotal,
              "units.faiss": 1024 + 4 * dim * n_units, "units.jsonl": MAX_CHUNK_LINE_BYTES * n_units}
    data: dict[str, bytes] = {}
    for name in FILES:
        data[name] = _read_regular(path / name, limits[name])
        if hashlib.sha256(data[name]).hexdigest() != manifest["checksums"][name]:
            raise IndexMismatch(f"The index file {path / name} is missing or damaged (checksum differs "
                                f"from the manifest): {FIX}.")
    chunks = _parse_chunks(data["chunks.jsonl"], path / "chunks.jsonl")
    try:
        index = faiss.deserialize_index(np.frombuffer(data.pop("index.faiss"), dtype=np.uint8))
        unit_index = faiss.deserialize_index(np.frombuffer(data.pop("units.faiss"), dtype=np.uint8))
    except (RuntimeError, ValueError, TypeError) as exc:
        raise IndexMismatch(f"The index at {path} cannot be read ({_first_line(exc)}): {FIX}.") from exc
    units = _parse_units(data["units.jsonl"], path / "units.jsonl")
    if not index.ntotal == len(chunks) == ntotal or index.d != dim:
        raise IndexMismatch(f"The index at {path} holds {index.ntotal} vectors for {len(chunks)} "
                            f"chunks: {FIX}.")
    known = {c.id for c in chunks}
    if unit_index.ntotal != len(units) or (units and unit_index.d != index.d) or \
            any(u.chunk_id not in known for u in units):
        raise IndexMismatch(f"The index at {path} holds {unit_index.ntotal} unit vectors for {len(units)} "
                            f"units of its chunks: {FIX}.")
    return StoredIndex(index=index, chunks=chunks, manifest=manifest, path=path, unit_index=unit_index,
                       units=units)


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. Anything else (missing, a symlink, a
    FIFO, a device, larger) is an IndexMismatch: checked before opening, opened without following
    links or blocking, checked again on the open file, and never read past the limit."""
    try:
        before = os.lstat(path)
        if not stat.S_ISREG(before.st_mode):
            raise IndexMismatch(f"The index file {path} is {_kind(before.st_mode)}, not a regular file: {FIX}.")
        if before.st_size > limit:
            raise IndexMismatch(f"The index file {path} has {before.st_size} bytes, more than the {limit} "
                                f"it may have: {FIX}.")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            after = os.fstat(fh.fileno())
            if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
                raise IndexMismatch(f"The index file {path} changed while it was opened: {FIX}.")
            data = fh.read(limit + 1)
    except OSError as exc:
        raise IndexMismatch(f"The index file {path} is missing or damaged ({exc.strerror or exc}): {FIX}.") from exc
    if len(data) > limit:
        raise IndexMismatch(f"The index file {path} grew over the {limit} bytes it may have: {FIX}.")
    return data


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "a regular file")


def _is_int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _manifest_problem(manifest: object) -> str | None:
    """What is wrong with the manifest's shape (None if nothing): the fields loading and the builder
    rely on must be there with the right types."""
    if not isinstance(manifest, dict):
        return f"{_json_type(manifest)}, not an object"
    if manifest.get("format") != FORMAT_VERSION:
        return f"format {manifest.get('format')!r:.20}, this version reads {FORMAT_VERSION}"
    if not _is_int(manifest.get("ntotal"), 0, MAX_CHUNKS):
        return f"ntotal must be a whole number from 0 to {MAX_CHUNKS}"
    if not _is_int(manifest.get("units"), 0, 20 * MAX_CHUNKS):
        return f"units must be a whole number from 0 to {20 * MAX_CHUNKS}"
    if not _is_int(manifest.get("dimension"), 1, 65_536):
        return "dimension must be a whole number from 1 to 65536"
    if not isinstance(manifest.get("version"), str):
        return "version must be a string"
    checksums, embedder = manifest.get("checksums"), manifest.get("embedder")
    if not isinstance(checksums, dict) or not all(isinstance(checksums.get(name), str) for name in FILES):
        return f"checksums must name {' and '.join(FILES)}"
    if not isinstance(embedder, dict) or not all(isinstance(embedder.get(k), str) for k in ("name", "fingerprint")):
        return "embedder must be an object with a name and a fingerprint"
    for key, kind in _MANIFEST_FIELDS.items():
        if key in manifest and not isinstance(manifest[key], kind):
            return f"{key} is {_json_type(manifest[key])}, not {_json_type(kind())}"
    files = manifest.get("files", {})
    if not all(isinstance(entry, dict) and isinstance(entry.get("sha256", ""), str) for entry in files.values()):
        return "each entry of files must be an object with a sha256 string"
    return None


def _parse_units(data: bytes, path: Path) -> list[UnitRecord]:
    """units.jsonl: one answer unit per line (see indexer/units.py)."""
    try:
        lines = [line for line in data.decode("utf-8").split("\n") if line]
        return [UnitRecord.from_dict(json.loads(line)) for line in lines]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise IndexMismatch(f"The index file {path} holds a line that is not an answer unit "
                            f"({exc.__class__.__name__}): {FIX}.") from exc


def _parse_chunks(data: bytes, path: Path) -> list[Chunk]:
    """chunks.jsonl: one JSON object per line with the string fields a citation needs."""
    try:
        lines = data.decode("utf-8").split("\n")  # not splitlines(): U+2028 may sit inside a passage
    except UnicodeDecodeError as exc:
        raise IndexMismatch(f"The index file {path} is not UTF-8: {FIX}.") from exc
    chunks = []
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        try:
            fields = json.loads(line)
            problem = _chunk_problem(fields)
            chunk = None if problem else Chunk.from_dict(fields)
        except (ValueError, TypeError, RecursionError) as exc:
            problem, chunk = exc.__class__.__name__, None
        if chunk is None:
            raise IndexMismatch(f"The index file {path} line {number} is not a chunk ({problem}): {FIX}.")
        chunks.append(chunk)
    return chunks


def _chunk_problem(fields: object) -> str | None:
    if not isinstance(fields, dict):
        return f"{_json_type(fields)}, not an object"
    for key in _CHUNK_STRINGS:
        if not isinstance(fields.get(key, "" if key in _CHUNK_OPTIONAL else None), str):
            return f"{key} must be a string"
    if not (fields.get("page") is None or _is_int(fields["page"], 0, 1_000_000)):
        return "page must be a whole number or null"
    if not _is_int(fields.get("ordinal", 0), 0, MAX_CHUNKS) or not isinstance(fields.get("extra", {}), dict):
        return "ordinal must be a whole number and extra an object"
    return None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


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
