"""The learned query adapter: a linear map on e5's query vectors, trained on the development split's
(question, answering unit) pairs (evaluation/adapter_training.py), applied before the unit search.

e5 places a question nearer to sentences that look like it than to the sentence that answers it; the
map moves questions towards their answers. It starts at the identity and is regularised towards it, so
what it has not learned it leaves as e5 had it. Stored as plain data (a NumPy .npz of float arrays,
loaded with allow_pickle=False) beside bot/selector.json, with the fingerprint of the model it was
trained for: on another model's vectors it would be noise, so there it is not applied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.plain_arrays import for_this_model, read_npz
from indexer.errors import FaqError

DEFAULT_ADAPTER = Path(__file__).with_name("query_adapter.npz")


class AdapterError(FaqError):
    """The query adapter file cannot be read or does not fit."""


@dataclass(frozen=True)
class QueryAdapter:
    """>>> adapter = QueryAdapter(np.eye(3, dtype=np.float32), "abc")
    >>> adapter(np.array([0.0, 3.0, 4.0], np.float32)).tolist()
    [0.0, 0.6000000238418579, 0.800000011920929]
    """

    matrix: np.ndarray  # (d, d): adapted = matrix @ vector, then L2-normalised
    model: str  # fingerprint of the embedding model it was trained on

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        mapped = self.matrix @ np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(mapped))
        return (mapped / norm).astype(np.float32) if norm > 0 else np.asarray(vector, dtype=np.float32)

    def digest(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.matrix).tobytes()).hexdigest()[:16]

    def save(self, path: Path = DEFAULT_ADAPTER) -> None:
        with path.open("wb") as fh:
            np.savez_compressed(fh, matrix=self.matrix.astype(np.float32), model=np.array(self.model))

    @classmethod
    def load(cls, path: Path = DEFAULT_ADAPTER) -> QueryAdapter:
        data = read_npz(path, ("matrix", "model"), AdapterError, "query adapter")
        matrix, model = data["matrix"].astype(np.float32), str(data["model"])
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not np.isfinite(matrix).all():
            raise AdapterError(f"The query adapter {path.name} is not a finite square matrix; "
                               "run `gocluster-faq train` to rebuild it.")
        return cls(matrix, model)

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[0])

    @classmethod
    def for_model(cls, fingerprint: str, dimension: int, path: Path = DEFAULT_ADAPTER) -> QueryAdapter | None:
        """The shipped adapter if it was trained on this model, else None (e5's vectors as they are)."""
        return for_this_model(cls.load(path), fingerprint, dimension, f"query adapter {path.name}") \
            if path.is_file() else None
