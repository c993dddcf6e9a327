"""A small real index for the answer-path unit tests: hand-made chunks, their units, one-hot vectors.

Unit j gets the basis vector e_j, chunk i the basis vector e_(units + i), so a query vector made of
basis vectors gives exact, hand-computable similarities and rankings (the sentence-transformers trick).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from indexer.chunk import Chunk
from indexer.store import StoredIndex, load_index, write_version
from indexer.units import UnitRecord, unit_records

OneHotIndex = Callable[[list[Chunk]], StoredIndex]


def write_one_hot_index(index_dir: Path, chunks: list[Chunk]) -> StoredIndex:
    units: list[UnitRecord] = [r for c in chunks for r in unit_records(c)]
    dim = len(units) + len(chunks)
    eye = np.eye(dim, dtype=np.float32)
    manifest = {"built_at": "2024-05-01T12:00:00Z",
                "embedder": {"name": "one-hot", "fingerprint": "one-hot-test", "dimension": dim}}
    write_version(index_dir, chunks, eye[len(units):], manifest, units, eye[: len(units)])
    return load_index(index_dir)


@pytest.fixture
def one_hot_index(tmp_path: Path) -> OneHotIndex:
    """Write and load a real StoredIndex (FAISS files, JSONL, manifest) of the given chunks."""
    return lambda chunks: write_one_hot_index(tmp_path / "index", chunks)
