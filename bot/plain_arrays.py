"""Learned data shipped beside bot/selector.json as NumPy .npz files: plain arrays only, never pickle."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from indexer.errors import FaqError


def read_npz(path: Path, keys: tuple[str, ...], error: type[FaqError], what: str) -> dict[str, np.ndarray]:
    """The named arrays of `path`, or `error` in one line that names the file, not its folder."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in keys}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise error(f"The {what} {path.name} cannot be read ({exc.__class__.__name__}); "
                    "run `gocluster-faq train` to rebuild it.") from exc
