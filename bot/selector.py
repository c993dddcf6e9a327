"""The learned answer selector: feature vector -> probability that the unit answers the question.

A logistic regression over standardised features, trained by `gocluster-faq train` on the development
split only (evaluation/train.py) and stored as plain JSON beside this module (bot/selector.json): the
feature names, their means and scales, the weights, and the abstention threshold chosen on the
development split. Loading checks that every feature it names exists.

>>> selector = Selector.load()                       # doctest: +SKIP
>>> selector.probability(feature_matrix(...))        # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.features import FEATURES
from indexer.errors import FaqError

DEFAULT_SELECTOR = Path(__file__).with_name("selector.json")
FORMAT = 1


class SelectorError(FaqError):
    """The selector file is missing, damaged or names features this version does not have."""

    exit_code = 7


@dataclass(frozen=True)
class Selector:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    meta: dict[str, Any]

    def probability(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        z = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "features": list(self.names), "mean": _round(self.mean),
                "scale": _round(self.scale), "weights": _round(self.weights), "bias": round(float(self.bias), 8),
                "threshold": round(float(self.threshold), 6), "meta": self.meta}

    def save(self, path: Path = DEFAULT_SELECTOR) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = DEFAULT_SELECTOR) -> Selector:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            names = tuple(str(n) for n in data["features"])
            arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights")]
            bias, threshold = float(data["bias"]), float(data["threshold"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SelectorError(f"The answer selector {path.name} cannot be read ({exc.__class__.__name__}); "
                                "run `gocluster-faq train` to rebuild it.") from exc
        unknown = [n for n in names if n not in FEATURES]
        if data.get("format") != FORMAT or unknown or any(a.shape != (len(names),) for a in arrays):
            raise SelectorError(f"The answer selector {path.name} does not fit this version "
                                f"(unknown features: {unknown or 'none'}); run `gocluster-faq train`.")
        mean, scale, weights = arrays
        return cls(names, mean, np.where(scale > 0, scale, 1.0), weights, bias, threshold, data.get("meta", {}))


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), 8) for v in values]
