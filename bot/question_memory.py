"""The development questions as e5 query vectors, each with whether the documents answer it: how many of
the questions nearest to a new one had an answer is an input of the answerability model (the unit feature
`similar_answerable` in bot/features.py).

The other inputs measure how well the best unit matches the question; none says whether the documents
could answer such a question at all. Questions about fees, deadlines, named people or other programmes
resemble each other across wordings and languages, and the documents answer none of them. On the
development split, each question file held out in turn (the model, its threshold and the memory from the
other files), it raised the utility on every file (total 204 -> 232; right +1, correct abstention +1, wrong
answer -2).

It knows the documents the questions were labelled against, by file name. A question whose best passage
comes from a document added since gets the memory's prior instead: that a fees question was never
answerable says nothing about a funding scheme the programme office has just documented (a dev set full of
questions about other programmes had taught it to refuse "Was fördert der Zukunftsfonds ...?" about such a
new document).

It also remembers which units answered each question (by a digest of the unit's text, so a rebuilt index
with the same sentences keeps them): the unit feature `remembered_answer` is how much of the nearest
questions' vote goes to questions a candidate answered. A new wording of a fact the development questions
asked about ("is that something for us?" near "Who may apply?") finds that fact's sentence remembered,
though it shares no keyword with it.

Stored beside bot/selector.json as plain arrays (.npz, no pickle) with the fingerprint of the model that
made the vectors; for another model they mean nothing, so there it is not applied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.plain_arrays import for_this_model, read_npz
from indexer.errors import FaqError

DEFAULT_MEMORY = Path(__file__).with_name("question_memory.npz")
# Smooth enough to say what questions of this topic are like rather than what one paraphrase was
# (dev, each file held out in turn: utility 226 at 10 / 0.02, 232 at 20 / 0.05, 227 at 30 / 0.1).
NEAREST = 20
TEMPERATURE = 0.05
NEUTRAL = 0.5  # without a memory: neither answerable nor not


class QuestionMemoryError(FaqError):
    """The question memory file cannot be read or does not fit."""


@dataclass(frozen=True)
class QuestionMemory:
    """>>> memory = QuestionMemory(np.eye(3, dtype=np.float32), np.array([True, False, True]), "m")
    >>> round(memory.answerable_share(np.array([0.0, 1.0, 0.1], np.float32)), 3)
    0.0
    """

    vectors: np.ndarray  # (n, d), L2-normalised
    answerable: np.ndarray  # (n,) bool
    model: str  # fingerprint of the embedding model that made the vectors
    documents: frozenset[str] = frozenset()  # the files the questions were labelled against; empty: any
    answers: tuple[frozenset[str], ...] = ()  # per question, unit_key() of the units answering it; () none

    def __post_init__(self) -> None:
        if self.answers and len(self.answers) != len(self.vectors):
            raise ValueError("one set of answering units per question")

    @classmethod
    def of(cls, vectors: np.ndarray, answerable: list[bool] | np.ndarray, model: str,
           documents: frozenset[str] | set[str] = frozenset(),
           answers: list[set[str]] | tuple[frozenset[str], ...] = ()) -> QuestionMemory:
        v = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return cls(v / np.where(norms > 0, norms, 1.0), np.asarray(answerable, dtype=bool), model,
                   frozenset(documents), tuple(frozenset(a) for a in answers))

    def answerable_share(self, vector: np.ndarray, source: str | None = None) -> float:
        """The share of answerable questions among the NEAREST to `vector`, the nearer weighing more; the
        prior when `source`, the document of the question's best passage, is one the memory does not know."""
        return self.recall(vector, source)[0]

    def remembered(self, vector: np.ndarray, source: str | None = None) -> dict[str, float]:
        """unit_key -> the share of the NEAREST questions' vote (weighted as in answerable_share) that goes
        to questions the unit answered; nothing for a document the memory does not know."""
        return self.recall(vector, source)[1]

    def recall(self, vector: np.ndarray, source: str | None = None) -> tuple[float, dict[str, float]]:
        """(answerable_share, remembered) from one search of the memory: the query path needs both."""
        if not len(self.vectors):
            return NEUTRAL, {}
        if source is not None and self.documents and source not in self.documents:
            return self.prior, {}
        top, weights = self._nearest(np.asarray(vector, dtype=np.float32)[None, :])
        share = float(((weights * self.answerable[top]).sum(axis=1) / weights.sum(axis=1))[0])  # as _shares
        votes: dict[str, float] = {}
        for j, w in zip(top[0].tolist(), (weights[0] / weights[0].sum()).tolist(), strict=True) if self.answers \
                else ():
            for key in self.answers[j]:
                votes[key] = votes.get(key, 0.0) + w
        return share, votes

    @cached_property
    def prior(self) -> float:
        """What the memory says of a typical question: the mean share over its own questions, each left
        out of its own vote. It is what the answerability model saw on average, so there this input
        moves the probability neither way."""
        if len(self.vectors) < 2:
            return NEUTRAL
        return float(self._shares(self.vectors, leave_out_self=True).mean())

    def _nearest(self, queries: np.ndarray, leave_out_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the NEAREST questions, their unnormalised weights) per query."""
        sims = queries @ self.vectors.T
        if leave_out_self:
            np.fill_diagonal(sims, -np.inf)
        k = min(NEAREST, sims.shape[1] - int(leave_out_self))
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(sims, top, axis=1)
        return top, np.exp((near - near.max(axis=1, keepdims=True)) / TEMPERATURE)

    def _shares(self, queries: np.ndarray, leave_out_self: bool = False) -> np.ndarray:
        top, weights = self._nearest(queries, leave_out_self)
        return (weights * self.answerable[top]).sum(axis=1) / weights.sum(axis=1)

    def subset(self, keep: np.ndarray) -> QuestionMemory:
        answers = tuple(a for a, k in zip(self.answers, keep, strict=True) if k) if self.answers else ()
        return QuestionMemory(self.vectors[keep], self.answerable[keep], self.model, self.documents, answers)

    def digest(self) -> str:
        h = hashlib.sha256(np.ascontiguousarray(self.vectors).tobytes())
        h.update(self.answerable.tobytes())
        h.update("\n".join(sorted(self.documents)).encode())
        if self.answers:
            h.update("\n".join(" ".join(sorted(a)) for a in self.answers).encode())
        return h.hexdigest()[:16]

    def save(self, path: Path = DEFAULT_MEMORY) -> None:
        keys = [k for a in self.answers for k in sorted(a)]
        offsets = np.cumsum([0, *(len(a) for a in self.answers)]) if self.answers else np.zeros(0, np.int64)
        with path.open("wb") as fh:
            np.savez_compressed(fh, vectors=self.vectors.astype(np.float32), answerable=self.answerable,
                                model=np.array(self.model), documents=np.array(sorted(self.documents), dtype=str),
                                answer_keys=np.array(keys, dtype="U16"), answer_offsets=offsets.astype(np.int64))

    @classmethod
    def load(cls, path: Path = DEFAULT_MEMORY) -> QuestionMemory:
        data = read_npz(path, ("vectors", "answerable", "model", "documents", "answer_keys", "answer_offsets"),
                        QuestionMemoryError, "question memory")
        vectors, answerable, documents = data["vectors"], data["answerable"], data["documents"]
        keys, offsets = data["answer_keys"], data["answer_offsets"]
        if (vectors.ndim != 2 or answerable.shape != (len(vectors),) or answerable.dtype != bool
                or not np.isfinite(vectors).all() or documents.ndim != 1 or documents.dtype.kind != "U"
                or not _valid_offsets(offsets, len(vectors), keys)):
            raise QuestionMemoryError(f"The question memory {path.name} is not (n, d) finite vectors with n "
                                      "flags, answering units and a list of file names; run `gocluster-faq train` "
                                      "to rebuild it.")
        keys = keys.tolist()
        answers = tuple(frozenset(keys[a:b]) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(),
                                                              strict=True)) if len(offsets) else ()
        return cls(vectors.astype(np.float32), answerable, str(data["model"]), frozenset(documents.tolist()), answers)

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    @classmethod
    def for_model(cls, fingerprint: str, dimension: int, path: Path = DEFAULT_MEMORY) -> QuestionMemory | None:
        """The shipped memory if its vectors come from this model, else None (the input stays NEUTRAL)."""
        return for_this_model(cls.load(path), fingerprint, dimension, f"question memory {path.name}") \
            if path.is_file() else None


def unit_key(text: str) -> str:
    """A unit's text as the memory knows it: whitespace folded, then a short digest."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def _valid_offsets(offsets: np.ndarray, n: int, keys: np.ndarray) -> bool:
    """Empty (no answers kept), or n + 1 non-decreasing offsets from 0 to the number of keys."""
    if keys.ndim != 1 or (len(keys) and keys.dtype.kind != "U") or offsets.ndim != 1:
        return False
    if not len(offsets):
        return not len(keys)
    return (offsets.dtype.kind == "i" and len(offsets) == n + 1 and int(offsets[0]) == 0
            and int(offsets[-1]) == len(keys) and bool((np.diff(offsets) >= 0).all()))
