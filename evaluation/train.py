"""`gocluster-faq train`: fit the answer selector on the development split and calibrate its threshold.

Labels come from the question sets' facts: a candidate unit is a positive example when its rendered text
(with the sentence introducing its list) contains every fact group, a negative one when it contains none,
and left out when it holds only part of the answer. Every candidate of an unanswerable question is a
negative example. The model is an L2-regularised logistic regression fitted by Newton's method
(deterministic: same data, same weights). The abstention threshold is chosen on out-of-fold
probabilities (5 folds by question), maximising correct answers and correct abstentions minus twice
the wrong answers: a wrong fact costs more than no answer. Only the development split is read.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.conversation import Reading
from bot.features import FEATURES
from bot.selector import DEFAULT_SELECTOR, Selector
from bot.writer import AnswerWriter, Scored
from evaluation.questions import Question, facts_match, load_questions, matched_groups

log = logging.getLogger(__name__)
DATA = Path(__file__).with_name("data")
DEV_FILES = ("dev.jsonl", "test.jsonl", "fresh-dev.jsonl")  # test.jsonl: the old held-out set, now dev data
WRONG_COST = 2.0
FOLDS = 5
L2 = 1.0


@dataclass
class Example:
    question: Question
    candidates: list[Any]
    view: Any
    features: np.ndarray
    labels: np.ndarray  # 1 positive, 0 negative, -1 left out


def dev_questions(data_dir: Path = DATA) -> tuple[list[Question], list[str]]:
    files = [data_dir / name for name in DEV_FILES if (data_dir / name).is_file()]
    return [q for f in files for q in load_questions(f)], [str(f) for f in files]


def initial_selector() -> Selector:
    """What the bot scores with before training: meaning and keyword overlap, equally weighted."""
    names = tuple(FEATURES)
    weights = np.array([1.0 if n in ("dense", "keyword_coverage", "context_coverage") else 0.0 for n in names])
    return Selector(names, np.zeros(len(names)), np.ones(len(names)), weights, -2.0, 0.5, {"initial": True})


def render(candidate: Any) -> str:
    unit = candidate.record.unit
    return f"{candidate.chunk.section} {unit.lead} {unit.text}"


def label(q: Question, candidate: Any) -> int:
    if not q.answerable:
        return 0
    text = render(candidate)
    if facts_match(q.facts, text):
        return 1
    return 0 if matched_groups(q.facts, text) == 0 else -1


def collect(bot: Any, questions: list[Question]) -> list[Example]:
    names = list(FEATURES)
    examples = []
    for q in questions:
        text, lang, supported, _ = bot.read(q.question)
        _, candidates, view, features = bot.describe(Reading("alone", text, text), lang, supported, names)
        labels = np.array([label(q, c) for c in candidates], dtype=np.int64)
        examples.append(Example(q, candidates, view, features, labels))
    return examples


def fit(features: np.ndarray, labels: np.ndarray, l2: float = L2, iterations: int = 50) -> tuple[np.ndarray, ...]:
    """Standardise, then Newton's method on the L2-regularised log-loss (bias not regularised)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
        grad = x.T @ (p - labels) + reg * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(reg) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return mean, scale, w[:-1], float(w[-1])


def _stack(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    rows = [(e.features[e.labels >= 0], e.labels[e.labels >= 0]) for e in examples]
    return np.vstack([r[0] for r in rows]), np.concatenate([r[1] for r in rows]).astype(np.float64)


def outcome(example: Example, probabilities: np.ndarray, writer: AnswerWriter, policy: Any) -> tuple[float, bool]:
    """(best probability, would the written answer be right) for one question under given scores."""
    if not len(probabilities):
        return 0.0, False
    order = np.argsort(-probabilities, kind="stable")
    ranked = [Scored(example.candidates[i], float(probabilities[i])) for i in order]
    chosen = writer.choose(ranked, 0.0, example.view.kinds)
    evidence = " ".join(s.candidate.text for s in chosen)
    if policy.missing_figure(example.question.question, evidence):
        return 0.0, False
    text = writer.write(chosen, example.view.lang, example.view.kinds).text
    return ranked[0].probability, example.question.answerable and facts_match(example.question.facts, text)


def choose_threshold(outcomes: list[tuple[float, bool, bool]]) -> tuple[float, dict[str, float]]:
    """outcomes: (probability, answer right, answerable). The threshold with the best utility."""
    best_t, best_u = 0.5, -np.inf
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        utility = 0.0
        for p, right, answerable in outcomes:
            if p >= t:
                utility += 1.0 if right else -WRONG_COST
            elif not answerable:
                utility += 1.0
        if utility > best_u + 1e-9:
            best_t, best_u = float(t), utility
    return best_t, summarize(outcomes, best_t)


def summarize(outcomes: list[tuple[float, bool, bool]], t: float) -> dict[str, float]:
    ans = [(p, r) for p, r, a in outcomes if a]
    unans = [p for p, _, a in outcomes if not a]
    return {"threshold": t,
            "answerable_accuracy": round(sum(p >= t and r for p, r in ans) / max(len(ans), 1), 4),
            "wrong_abstention_rate": round(sum(p < t for p, _ in ans) / max(len(ans), 1), 4),
            "correct_abstention_rate": round(sum(p < t for p in unans) / max(len(unans), 1), 4),
            "answerable": len(ans), "unanswerable": len(unans)}


def train(bot: Any, questions: list[Question], files: list[str]) -> Selector:
    from bot.policy import AnswerPolicy

    examples = collect(bot, questions)
    names = tuple(FEATURES)
    writer, policy = AnswerWriter(), AnswerPolicy()
    outcomes: list[tuple[float, bool, bool]] = []
    for fold in range(FOLDS):
        train_set = [e for i, e in enumerate(examples) if i % FOLDS != fold]
        held = [e for i, e in enumerate(examples) if i % FOLDS == fold]
        mean, scale, weights, bias = fit(*_stack(train_set))
        model = Selector(names, mean, scale, weights, bias, 0.5, {})
        for e in held:
            p, right = outcome(e, model.probability(e.features), writer, policy)
            outcomes.append((p, right, e.question.answerable))
    threshold, oof = choose_threshold(outcomes)
    mean, scale, weights, bias = fit(*_stack(examples))
    x, y = _stack(examples)
    meta = {"trained_on": [Path(f).name for f in files], "data_sha256": _digest(files),
            "questions": len(examples), "rows": len(y), "positives": int(y.sum()),
            "out_of_fold_on_dev": oof, "wrong_cost": WRONG_COST, "l2": L2, "folds": FOLDS}
    return Selector(names, mean, scale, weights, bias, threshold, meta)


def _digest(files: list[str]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def run_cli(args: Any, settings: Any) -> int:
    from bot.factory import build_bot

    questions, files = dev_questions()
    bot = build_bot(settings, progress=print, selector=initial_selector())
    selector = train(bot, questions, files)
    out = Path(args.out) if getattr(args, "out", None) else DEFAULT_SELECTOR
    selector.save(out)
    oof = selector.meta["out_of_fold_on_dev"]
    print(f"selector written to {out}: {selector.meta['questions']} questions, {selector.meta['rows']} examples, "
          f"threshold {selector.threshold:.2f}; out-of-fold on dev: accuracy {oof['answerable_accuracy']:.3f}, "
          f"correct abstention {oof['correct_abstention_rate']:.3f}")
    return 0
