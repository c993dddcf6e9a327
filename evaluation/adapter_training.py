"""Training the query adapter (bot/query_adapter.py) on the development split.

Pairs come from the question sets' facts, as the selector's labels do: for each answerable question, the
units of the whole index whose text (with section and list lead-in) holds every fact group answer it
(only those in the question's language, where there are such); units holding only part of the answer,
and answering units in the other language, are left out; every other unit is a negative. The map W starts
at the identity and minimises, with L-BFGS (deterministic), the mean over questions of

    -log( sum over answering units of exp(s/tau) / sum over all units of exp(s/tau) ) + l2 * |W - I|^2

where s is the cosine of W q and a unit's vector. The strength l2 is chosen by out-of-fold mean
reciprocal rank of the first answering unit (the selector's folds: by question, translations together): only the
development split is read, and the figures with and without the adapter go into the selector's meta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluation.questions import Question, matched_groups

TAU = 0.05  # e5 cosines lie in a narrow band (0.7-0.9): a low temperature spreads them
L2_GRID = (0.01, 0.03, 0.1)
ITERATIONS = 150
RECALL_AT = (1, 5, 10, 30)


@dataclass
class Pairs:
    """The answerable questions with at least one answering unit."""

    positions: np.ndarray  # their position in the question list (folds are by position)
    queries: np.ndarray  # (n, d) e5 query vectors of the questions as the bot reads them
    positive: list[np.ndarray]  # unit rows answering each question
    excluded: list[np.ndarray]  # unit rows holding part of its answer: neither answer nor negative
    # unit rows holding the whole answer, in either language (the question memory's answers)
    answering: list[np.ndarray] = field(default_factory=list)


def label_text(section: str, unit: Any) -> str:
    """A unit as labels read it, for the adapter's pairs and the selector's examples alike: with its
    section and the sentence introducing its list."""
    return f"{section} {unit.lead} {unit.text}"


def unit_texts(finder: Any) -> list[str]:
    """Every unit of the index as the labels read it."""
    return [label_text(finder.chunks[r.chunk_id].section, r.unit) for r in finder.records]


def collect_pairs(bot: Any, questions: list[Question]) -> Pairs:
    texts = unit_texts(bot.finder)
    languages = np.array([bot.finder.chunks[r.chunk_id].language for r in bot.finder.records])
    positions, readings, positive, excluded, answering = [], [], [], [], []
    for i, q in enumerate(questions):
        if not q.answerable or not q.facts:
            continue
        groups = np.array([matched_groups(q.facts, t) for t in texts])
        answers = groups == len(q.facts)
        if not answers.any():
            continue
        text, lang, _, _ = bot.read(q.question)
        # The answer is wanted in the question's language: where that page says it too, the other
        # language's copy is no answer to learn (nor a negative: it does say the fact).
        other = answers & (languages != lang) if (answers & (languages == lang)).any() else np.zeros_like(answers)
        positions.append(i)
        readings.append(text)
        positive.append(np.flatnonzero(answers & ~other))
        excluded.append(np.flatnonzero(((groups > 0) & ~answers) | other))
        answering.append(np.flatnonzero(answers))
    queries = np.asarray(bot.retriever.encoder.encode_queries(readings), dtype=np.float64) if readings \
        else np.zeros((0, bot.finder.unit_vectors.shape[1]))
    return Pairs(np.array(positions, dtype=np.int64), queries, positive, excluded, answering)


def subset(pairs: Pairs, keep: np.ndarray) -> Pairs:
    idx = np.flatnonzero(keep)
    return Pairs(pairs.positions[idx], pairs.queries[idx], [pairs.positive[i] for i in idx],
                 [pairs.excluded[i] for i in idx], [pairs.answering[i] for i in idx] if pairs.answering else [])


def fit(pairs: Pairs, units: np.ndarray, l2: float, tau: float = TAU, iterations: int = ITERATIONS) -> np.ndarray:
    """W (d, d), float32. With no pairs, the identity."""
    from scipy.optimize import minimize  # training only

    d = units.shape[1]
    if not len(pairs.queries):
        return np.eye(d, dtype=np.float32)
    u = np.asarray(units, dtype=np.float64)
    q = pairs.queries
    n = len(q)
    allowed = np.ones((n, len(u)), dtype=bool)
    pos = np.zeros((n, len(u)), dtype=bool)
    for i in range(n):
        allowed[i, pairs.excluded[i]] = False
        pos[i, pairs.positive[i]] = True
    eye = np.eye(d)

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(d, d)
        a = q @ w.T
        norms = np.linalg.norm(a, axis=1, keepdims=True)
        z = a / norms
        s = (z @ u.T) / tau
        s_all = np.where(allowed, s, -np.inf)
        s_pos = np.where(pos, s, -np.inf)
        top = s_all.max(axis=1, keepdims=True)
        p_all = np.exp(s_all - top)
        mass = p_all.sum(axis=1, keepdims=True)
        p_all /= mass
        p_pos = np.exp(s_pos - top)
        share = p_pos.sum(axis=1, keepdims=True)
        p_pos /= share
        total = float(np.mean(np.log(mass[:, 0]) - np.log(share[:, 0]))) + l2 * float(((w - eye) ** 2).sum())
        g_z = ((p_all - p_pos) @ u) / tau / n  # d loss / d z
        g_a = (g_z - z * (z * g_z).sum(axis=1, keepdims=True)) / norms
        grad = g_a.T @ q + 2.0 * l2 * (w - eye)
        return total, grad.ravel()

    result = minimize(loss, eye.ravel(), jac=True, method="L-BFGS-B", options={"maxiter": iterations})
    return result.x.reshape(d, d).astype(np.float32)


def first_ranks(matrix: np.ndarray | None, pairs: Pairs, units: np.ndarray) -> np.ndarray:
    """Rank (1 = nearest) of the first answering unit for each question, through `matrix` (None: e5 alone)."""
    q = pairs.queries.astype(np.float32)
    if matrix is not None:
        q = q @ matrix.T
        q /= np.linalg.norm(q, axis=1, keepdims=True)
    sims = q @ units.T
    out = np.zeros(len(q), dtype=np.int64)
    for i in range(len(q)):
        best = sims[i, pairs.positive[i]].max()
        out[i] = 1 + int((sims[i] > best).sum())
    return out


def figures(ranks: np.ndarray) -> dict[str, float]:
    if not len(ranks):
        return {}
    out = {f"recall@{k}": round(float((ranks <= k).mean()), 4) for k in RECALL_AT}
    return out | {"mrr": round(float((1.0 / ranks).mean()), 4), "questions": len(ranks)}


def out_of_fold_ranks(pairs: Pairs, units: np.ndarray, l2: float, folds: np.ndarray) -> np.ndarray:
    """`folds`: the fold of each pair (training's `fold_ids`, so translations share one)."""
    ranks = np.zeros(len(pairs.queries), dtype=np.int64)
    for f in np.unique(folds):
        held = folds == f
        matrix = fit(subset(pairs, ~held), units, l2)
        ranks[held] = first_ranks(matrix, subset(pairs, held), units)
    return ranks


def choose_l2(pairs: Pairs, units: np.ndarray, folds: np.ndarray) -> tuple[float, dict[str, Any]]:
    """The regularisation with the best out-of-fold MRR; the figures without the adapter and per l2."""
    report: dict[str, Any] = {"without": figures(first_ranks(None, pairs, units))}
    best, best_mrr = L2_GRID[-1], -1.0
    for l2 in L2_GRID:
        found = figures(out_of_fold_ranks(pairs, units, l2, folds))
        report[f"l2={l2:g}"] = found
        if found and found["mrr"] > best_mrr + 1e-9:
            best, best_mrr = l2, found["mrr"]
    report["chosen_l2"] = best
    return best, report
