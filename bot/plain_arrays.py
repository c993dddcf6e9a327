"""Learned data shipped beside bot/selector.json as NumPy .npz files: plain arrays only, never pickle."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from indexer.errors import FaqError

log = logging.getLogger(__name__)


class ModelData(Protocol):
    model: str  # fingerprint of the embedding model the data was made with

    @property
    def dimension(self) -> int: ...


T = TypeVar("T", bound=ModelData)


def read_npz(path: Path, keys: tuple[str, ...], error: type[FaqError], what: str) -> dict[str, np.ndarray]:
    """The named arrays of `path`, or `error` in one line that names the file, not its folder."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in keys}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise error(f"The {what} {path.name} cannot be read ({exc.__class__.__name__}); "
                    "run `gocluster-faq train` to rebuild it.") from exc


def for_this_model(data: T, fingerprint: str, dimension: int, what: str) -> T | None:
    """`data` if it was made with this embedding model, else None: another model's vectors make it noise."""
    if data.model != fingerprint or data.dimension != dimension:
        log.warning("%s was made with another model (%s, not %s): not applied", what, data.model, fingerprint)
        return None
    return data
