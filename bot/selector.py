"""The learned answer selector, in two small models stored as plain JSON (bot/selector.json):

- the ranker scores every candidate unit of a question (features from bot/features.py): boosted
  regression trees, trained with a listwise cross-entropy loss so that the answering units come first,
  kept as plain arrays (the query path needs numpy only);
- the answerability model turns the question-level view of the ranking (top score, its margin over the
  runner-up, the top unit's coverage and meaning features) into the probability that the top unit
  answers the question; one threshold on it, chosen on the development split, decides abstention;
- a second such pair ranks and judges the readings of a later conversation turn (it also reads the
  question memory's vote for a unit, which costs single questions their best unit).

Both are trained by `gocluster-faq train` on the development split only (evaluation/train.py). Loading
checks that every feature named exists.

>>> selector = Selector.load()                       # doctest: +SKIP
>>> scores, p_answer = selector.score(feature_matrix(...))   # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.features import FEATURES
from indexer.errors import FaqError

DEFAULT_SELECTOR = Path(__file__).with_name("selector.json")
FORMAT = 3
# Question-level features: the ranking's own, then the top unit's (names from bot/features.py).
RANKING_FEATURES = ("top_score", "margin", "top_share", "entropy")
# Additions are kept only if, fitted on three dev folds and measured on the other two, they lower the
# log-loss in each of five such splits: length and same_language (by 0.004-0.022, AUC 0.745 -> 0.760), then
# entropy and question_terms (by 0.004-0.020, AUC 0.760 -> 0.772). similar_answerable was checked the
# stricter way a memory of questions needs (bot/question_memory.py): each question file held out in turn;
# so was remembered_answer, the memory's vote for the top unit (singles utility 377 -> 387, README point 3).
# The reading's place in the conversation (read_alone_in_conversation ... from_history) was checked on the
# dev utility out of fold, singles and conversations: see the README ("A follow-up is read ...").
TOP_UNIT_FEATURES = ("dense", "context_coverage", "rarest_missing", "supported_language", "person_missing",
                     "fact_missing", "length", "same_language", "question_terms", "similar_answerable",
                     "remembered_answer",
                     "read_alone_in_conversation", "previous_questions", "own_terms_alone",
                     "own_terms_with_previous", "from_history")


class SelectorError(FaqError):
    """The selector file is missing, damaged or names features this version does not have."""

    exit_code = 7


@dataclass(frozen=True)
class Linear:
    """Standardise, then a weighted sum (plus bias)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "linear", "features": list(self.names), "mean": _round(self.mean),
                "scale": _round(self.scale), "weights": _round(self.weights), "bias": round(float(self.bias), 8)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Linear:
        names = tuple(str(n) for n in data["features"])
        mean, scale, weights = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights"))
        if any(a.shape != (len(names),) for a in (mean, scale, weights)):
            raise ValueError("feature and weight counts differ")
        return cls(names, mean, np.where(scale > 0, scale, 1.0), weights, float(data.get("bias", 0.0)))


@dataclass(frozen=True)
class Trees:
    """A sum of regression trees (boosted by LightGBM at training time, evaluation/train.py), as arrays.
    Row t holds tree t: node i sends a candidate left when feature[t, i] <= threshold[t, i]; a child >= 0
    is a node, a child < 0 the leaf ~child. A tree without a split is its leaf 0. Thresholds are kept
    exact (no rounding): a feature value equal to one must fall on the side it fell on in training."""

    names: tuple[str, ...]
    feature: np.ndarray  # (trees, nodes) int, padded with 0
    threshold: np.ndarray  # (trees, nodes) float
    left: np.ndarray  # (trees, nodes) int
    right: np.ndarray  # (trees, nodes) int
    splits: np.ndarray  # (trees,) nodes used in each tree
    leaf: np.ndarray  # (trees, leaves) float, padded with 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        trees = np.arange(len(self.splits))[None, :]
        rows = np.arange(len(x))[:, None]
        at = np.broadcast_to(np.where(self.splits > 0, 0, -1), (len(x), len(self.splits))).copy()
        for _ in range(int(self.splits.max(initial=0))):  # no path is longer than its tree's node count
            inner = at >= 0
            if not inner.any():
                break
            node = np.where(inner, at, 0)
            left = x[rows, self.feature[trees, node]] <= self.threshold[trees, node]
            at = np.where(inner, np.where(left, self.left[trees, node], self.right[trees, node]), at)
        return self.leaf[trees, ~at].sum(axis=1)

    def to_dict(self) -> dict[str, Any]:
        trees = []
        for t, n in enumerate(self.splits.tolist()):
            leaves = n + 1
            trees.append({"feature": self.feature[t, :n].tolist(), "threshold": self.threshold[t, :n].tolist(),
                          "left": self.left[t, :n].tolist(), "right": self.right[t, :n].tolist(),
                          "leaf": self.leaf[t, :leaves].tolist()})
        return {"kind": "trees", "features": list(self.names), "trees": trees}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trees:
        names = tuple(str(n) for n in data["features"])
        return cls.of(names, data["trees"])

    @classmethod
    def of(cls, names: tuple[str, ...], trees: list[dict[str, list]]) -> Trees:
        """From one dict per tree (feature, threshold, left, right: one entry per node; leaf: one more)."""
        count = len(trees)
        nodes = max((len(t["feature"]) for t in trees), default=0)
        feature, left, right = (np.zeros((count, max(nodes, 1)), dtype=np.int64) for _ in range(3))
        threshold = np.zeros((count, max(nodes, 1)))
        leaf = np.zeros((count, nodes + 1))
        splits = np.zeros(count, dtype=np.int64)
        for t, tree in enumerate(trees):
            n = len(tree["feature"])
            if any(len(tree[k]) != n for k in ("threshold", "left", "right")) or len(tree["leaf"]) != n + 1:
                raise ValueError("node and leaf counts differ")
            f, lo, hi = (np.asarray(tree[k], dtype=np.int64) for k in ("feature", "left", "right"))
            children = np.concatenate([lo, hi])
            if n and (f.min() < 0 or f.max() >= len(names) or children.max() >= n or (~children).max() > n):
                raise ValueError("a node points outside its tree")
            splits[t], feature[t, :n], left[t, :n], right[t, :n] = n, f, lo, hi
            threshold[t, :n] = np.asarray(tree["threshold"], dtype=np.float64)
            leaf[t, :n + 1] = np.asarray(tree["leaf"], dtype=np.float64)
        return cls(names, feature, threshold, left, right, splits, leaf)


def ranker_from_dict(data: dict[str, Any]) -> Linear | Trees:
    kind = data.get("kind")
    if kind == "trees":
        return Trees.from_dict(data)
    if kind == "linear":
        return Linear.from_dict(data)
    raise ValueError(f"unknown ranker kind {kind!r}")


@dataclass(frozen=True)
class Selector:
    ranker: Linear | Trees  # trained: Trees; before training (evaluation/train.py initial_selector): Linear
    answerability: Linear
    threshold: float
    meta: dict[str, Any]
    reading_costs: dict[str, float] = field(default_factory=dict)  # see bot/conversation.py
    # Added to the threshold for a later turn of a conversation: its answer is the most confident of several
    # readings, and the most confident of several is the most often overconfident. Calibrated on the
    # development conversations by `gocluster-faq train`.
    conversation_margin: float = 0.0
    # Rank and judge the readings of a later conversation turn (None: the two above do). This ranker may
    # read what the single questions' reads as constant (evaluation/train.py RANKER_CONSTANT): the memory's
    # vote for a unit helps a follow-up find its answer and costs a single question its best one.
    conversation_ranker: Trees | None = None
    conversation_answerability: Linear | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return self.ranker.names

    def score(self, features: np.ndarray, later_turn: bool = False) -> tuple[np.ndarray, float]:
        """(ranker score per candidate, probability that the best-scored candidate answers); `later_turn`:
        the features are of a reading of a question that follows others in a conversation."""
        if not len(features):
            return np.zeros(0), 0.0
        ranker, answerability = self.ranker, self.answerability
        if later_turn and self.conversation_ranker is not None and self.conversation_answerability is not None:
            ranker, answerability = self.conversation_ranker, self.conversation_answerability
        scores = ranker(features)
        top = question_features(scores, features, ranker.names, answerability.names)
        z = float(answerability(top[None, :])[0])
        return scores, float(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "ranker": self.ranker.to_dict(), "answerability": self.answerability.to_dict(),
                "threshold": round(float(self.threshold), 6), "reading_costs": self.reading_costs,
                "conversation_margin": round(float(self.conversation_margin), 6), "meta": self.meta,
                **({"conversation_ranker": self.conversation_ranker.to_dict(),
                    "conversation_answerability": self.conversation_answerability.to_dict()}
                   if self.conversation_ranker and self.conversation_answerability else {})}

    def save(self, path: Path = DEFAULT_SELECTOR) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = DEFAULT_SELECTOR) -> Selector:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ranker, answerability = ranker_from_dict(data["ranker"]), Linear.from_dict(data["answerability"])
            threshold = float(data["threshold"])
            costs = {str(k): float(v) for k, v in data.get("reading_costs", {}).items()}
            margin = float(data.get("conversation_margin", 0.0))
            later = ("conversation_ranker", "conversation_answerability")
            conversation = conversation_answerability = None
            if any(k in data for k in later):
                conversation = Trees.from_dict(data[later[0]])
                conversation_answerability = Linear.from_dict(data[later[1]])
                if conversation.names != ranker.names or conversation_answerability.names != answerability.names:
                    raise ValueError("the later turns' models read other features")
            if not 0.0 <= margin < 1.0:
                raise ValueError("conversation_margin")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SelectorError(f"The answer selector {path.name} cannot be read ({exc.__class__.__name__}); "
                                "run `gocluster-faq train` to rebuild it.") from exc
        known = set(FEATURES) | set(RANKING_FEATURES)
        unknown = [n for n in (*ranker.names, *answerability.names) if n not in known]
        if data.get("format") != FORMAT or unknown:
            raise SelectorError(f"The answer selector {path.name} does not fit this version "
                                f"(unknown features: {unknown or 'none'}); run `gocluster-faq train`.")
        return cls(ranker, answerability, threshold, data.get("meta", {}), costs, margin, conversation,
                   conversation_answerability)


def question_features(scores: np.ndarray, features: np.ndarray, unit_names: tuple[str, ...],
                      names: tuple[str, ...]) -> np.ndarray:
    """The answerability model's input: how the ranking looks, and what its top unit is like."""
    order = np.argsort(-scores, kind="stable")
    top = order[0]
    second = scores[order[1]] if len(order) > 1 else scores[top] - 5.0
    shares = np.exp(scores - scores[top])
    shares /= shares.sum()
    # entropy: how spread the ranker's belief is over all candidates (the margin sees only the runner-up)
    ranking = {"top_score": float(scores[top]), "margin": float(scores[top] - second),
               "top_share": float(shares[top]), "entropy": float(-(shares * np.log(shares + 1e-12)).sum())}
    column = {n: i for i, n in enumerate(unit_names)}
    return np.array([ranking[n] if n in ranking else features[top, column[n]] for n in names], dtype=np.float64)


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), 8) for v in values]
