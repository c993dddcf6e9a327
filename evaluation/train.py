"""`gocluster-faq train`: fit the answer selector on the development split and calibrate its threshold.

Labels come from the question sets' facts: a candidate unit is a positive example when its rendered text
(with the sentence introducing its list) contains every fact group, a negative one when it contains none,
and left out when it holds only part of the answer. Every candidate of an unanswerable question is a
negative example. The ranker is boosted trees with a listwise cross-entropy loss (LightGBM, one
thread), the answerability model an L2-regularised logistic regression (Newton's method) on out-of-fold
rankings (each development file held out in turn; without files known, 5 folds by question, a question
and its translation in one fold): deterministic, same data,
same weights. The abstention threshold is chosen on the probabilities of each development question file
held out in turn, maximising correct answers and correct abstentions minus twice the wrong answers (a
wrong fact costs more than no answer), as the median of the thresholds that do so on bootstrap resamples
of the questions. Every reading of the later turns of the development conversations (bot/conversation.py)
is training data as well, so the selector has seen questions read with a conversation; the threshold is
chosen on single questions only. The later turns' readings get a ranker and answerability model of
their own, fitted on the same examples but reading the memory's vote as well (RANKER_CONSTANT). What
reading more of a conversation costs and the margin a later turn must clear are chosen on those
conversations too (the setting best on the most resamples of them), each read by the selector fitted
without its fold (they are its training data).
Only the development split is read.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.conversation import Reading, readings
from bot.faq_bot import rank
from bot.features import FEATURES
from bot.query_adapter import DEFAULT_ADAPTER, QueryAdapter
from bot.question_memory import DEFAULT_MEMORY, QuestionMemory, unit_key
from bot.selector import (
    DEFAULT_SELECTOR,
    RANKING_FEATURES,
    TOP_UNIT_FEATURES,
    Linear,
    Selector,
    Trees,
    question_features,
)
from bot.writer import AnswerWriter
from evaluation import adapter_training
from evaluation.questions import Question, facts_match, load_questions, matched_groups

log = logging.getLogger(__name__)
DATA = Path(__file__).with_name("data")
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
    conversational: bool = False  # one reading of a later conversation turn: trains, does not set the threshold
    source: int = -1  # the development file of a single question (dev_sets), -1 where not known


@dataclass(frozen=True)
class OutOfFold:
    """The ranker and answerability model fitted without each fold, and the fold of each question id: a
    development conversation read by the selector fitted without it, as a new one will be."""

    rankers: tuple[Trees, ...]
    answerability: tuple[Linear, ...]
    fold_of: dict[str, int]
    conversation_rankers: tuple[Trees, ...] = ()  # the later turns' pair, where there were conversations
    conversation_answerability: tuple[Linear, ...] = ()

    def selector_for(self, question_id: str, selector: Selector) -> Selector:
        """`selector` (threshold, costs, margin) with the models that never saw `question_id`."""
        f = self.fold_of.get(question_id)
        if f is None:
            return selector
        later = self.conversation_rankers and (self.conversation_rankers[f], self.conversation_answerability[f])
        return replace(selector, ranker=self.rankers[f], answerability=self.answerability[f],
                       conversation_ranker=later[0] if later else None,
                       conversation_answerability=later[1] if later else None)


def dev_questions(data_dir: Path = DATA) -> tuple[list[Question], list[str]]:
    from evaluation.run import SPLITS  # the one place that says which files are development data

    files = [data_dir / name for name in SPLITS["dev"] if (data_dir / name).is_file()]
    return [q for f in files for q in load_questions(f)], [str(f) for f in files]


def dev_sets(data_dir: Path = DATA) -> np.ndarray:
    """Which development file each of dev_questions() comes from (0, 1, ...): a file is a set written at
    one time, whose questions resemble each other more than they resemble a new set's."""
    from evaluation.run import SPLITS

    files = [data_dir / name for name in SPLITS["dev"] if (data_dir / name).is_file()]
    return np.array([n for n, f in enumerate(files) for _ in load_questions(f)], dtype=np.int64)


def dev_conversation_sets(data_dir: Path = DATA) -> np.ndarray:
    """Which development conversation file each of dev_conversations() comes from, numbered after the
    question files (dev_sets): a file of conversations is a set written at one time as well."""
    from evaluation.conversations import load_conversations
    from evaluation.run import CONVERSATIONS, SPLITS

    first = sum((data_dir / name).is_file() for name in SPLITS["dev"])
    files = [data_dir / name for name in CONVERSATIONS["dev"] if (data_dir / name).is_file()]
    return np.array([first + n for n, f in enumerate(files) for _ in load_conversations(f)], dtype=np.int64)


def dev_conversations(data_dir: Path = DATA) -> tuple[list[Any], list[str]]:
    from evaluation.conversations import load_conversations
    from evaluation.run import CONVERSATIONS

    files = [data_dir / name for name in CONVERSATIONS["dev"] if (data_dir / name).is_file()]
    return [c for f in files for c in load_conversations(f)], [str(f) for f in files]


def initial_selector() -> Selector:
    """What the bot scores with before training: meaning and keyword overlap, equally weighted."""
    names = tuple(FEATURES)
    weights = np.array([1.0 if n in ("dense", "keyword_coverage", "context_coverage") else 0.0 for n in names])
    ranker = Linear(names, np.zeros(len(names)), np.ones(len(names)), weights)
    top = RANKING_FEATURES + TOP_UNIT_FEATURES
    answerability = Linear(top, np.zeros(len(top)), np.ones(len(top)), np.zeros(len(top)))
    return Selector(ranker, answerability, 0.5, {"initial": True})


def render(candidate: Any) -> str:
    return adapter_training.label_text(candidate.chunk.section, candidate.record.unit)


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


def conversation_examples(bot: Any, conversations: list[Any], sets: np.ndarray | None = None) -> list[Example]:
    """Every reading (bot/conversation.py) of every later turn of the development conversations, the
    previous answer taken to be right: its citations are the passages of the units holding the previous
    turn's facts. So the ranker learns what a unit of the previous answer's passage is worth and the
    answerability model what a question read with the conversation looks like; neither has seen a
    conversation otherwise. `sets`: the file of each conversation (dev_conversation_sets), kept as the
    readings' source."""
    names = list(FEATURES)
    out: list[Example] = []
    for c, conv in enumerate(conversations):
        source = int(sets[c]) if sets is not None else -1
        history: list[dict] = []
        for n, turn in enumerate(conv.turns, start=1):
            # One id per conversation: fold_ids (or the conversation's file) keeps its readings in one fold.
            q = turn.as_question(conv.id)
            text, lang, supported, _ = bot.read(turn.question)
            answering: dict[str, str] = {}  # chunk id -> the answering unit's text, best reading first
            for reading in readings(text, history) if n > 1 else [Reading("alone", text, text)]:
                _, candidates, view, features = bot.describe(reading, lang, supported, names)
                labels = np.array([label(q, c) for c in candidates], dtype=np.int64)
                if n > 1:
                    out.append(Example(q, candidates, view, features, labels, conversational=True, source=source))
                for c, y in zip(candidates, labels, strict=True):
                    if y == 1:
                        answering.setdefault(c.chunk.id, c.text)
            cited = list(answering)[:3]
            history += [{"role": "user", "content": turn.question},
                        {"role": "assistant", "content": " ".join(answering[c] for c in cited) or "-",
                         "citations": [{"chunk_id": c} for c in cited]}]
    return out


# The ranker's boosting: listwise cross-entropy (XE-NDCG), small trees, many of them with a small step.
# On dev out of fold, against the listwise linear ranker it replaced: the answer written from the top unit
# right for 0.821 -> 0.870 of the answerable questions (0.826 -> 0.867 with each question file held out
# instead); 7 to 31 leaves and 150 to 600 rounds all gave 0.868-0.872. One thread, fixed seeds: the same
# trees on every run.
TREES = {"objective": "rank_xendcg", "num_leaves": 15, "learning_rate": 0.05, "min_data_in_leaf": 50,
         "max_bin": 255, "seed": 1, "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbose": -1}
ROUNDS = 300
# Inputs of the answerability model only: the ranker reads them as a constant, so no tree splits on them.
# remembered_answer (bot/question_memory.py), dev with each question file held out for the memory:
# as an answerability input the singles utility rose 377 -> 387 (right 363 -> 396, wrong 59 -> 68);
# in the ranker too, the right answer came first less often (0.874 -> 0.859) and the singles utility fell
# to 354, while the later turns' rose 121 -> 155: so only the later turns' own ranker and answerability
# model (Selector.conversation_ranker) read it, and single questions keep the models they had (387 both;
# later turns 121 -> 156).
RANKER_CONSTANT = ("remembered_answer",)


def fit_ranker(examples: list[Example], rounds: int = ROUNDS, constant: tuple[str, ...] = RANKER_CONSTANT) -> Trees:
    """Per question, the candidates that are labelled (left-out ones do not train); questions without an
    answering unit do not train the ranker; the features in `constant` are read as 0. LightGBM is training
    only: its trees are kept as arrays."""
    import lightgbm  # training only: the query path never imports it

    names = tuple(FEATURES)
    groups = [e for e in examples if (e.labels == 1).any()]
    if not groups:
        return Trees.of(names, [])
    kept = [e.labels >= 0 for e in groups]
    x = np.vstack([e.features[k] for e, k in zip(groups, kept, strict=True)])
    x[:, [names.index(n) for n in constant]] = 0.0
    y = np.concatenate([relevance(e)[k] for e, k in zip(groups, kept, strict=True)])
    data = lightgbm.Dataset(x, y, group=[int(k.sum()) for k in kept], feature_name=list(names),
                            params={"verbose": -1})
    booster = lightgbm.train(TREES, data, num_boost_round=rounds)
    return trees_of(booster, names)


# Most facts stand in both language versions of a document, and a German question is better answered by
# the German copy: an answering unit in the question's language counts more (gain 3 against 1) than one
# in the other language, so the ranker learns to put it first when both answer. A question in another
# language has no copy of its own: its answering units count alike.
def relevance(example: Example) -> np.ndarray:
    """The graded label of each candidate: 0 not answering, 1 answering, 2 answering in the question's language."""
    positive = (example.labels == 1).astype(np.int64)
    own = np.array([c.chunk.language == example.view.lang for c in example.candidates], dtype=np.int64)
    return positive * (1 + own)


def trees_of(booster: Any, names: tuple[str, ...]) -> Trees:
    """The booster's trees as plain arrays. Only numeric splits with `<=` (no categorical features, and
    no value read as missing: the features are never NaN), so the arrays decide as LightGBM does."""
    trees = []
    for info in booster.dump_model()["tree_info"]:
        tree: dict[str, list] = {"feature": [], "threshold": [], "left": [], "right": [], "leaf": []}
        root = info["tree_structure"]
        if "split_index" not in root:
            tree["leaf"].append(float(root["leaf_value"]))
            trees.append(tree)
            continue
        count = info["num_leaves"] - 1
        for k in ("feature", "threshold", "left", "right"):
            tree[k] = [0] * count
        tree["leaf"] = [0.0] * info["num_leaves"]
        stack = [root]
        while stack:
            node = stack.pop()
            if node["decision_type"] != "<=" or node["missing_type"] not in ("None", "NaN"):
                raise ValueError(f"unsupported split {node['decision_type']} / {node['missing_type']}")
            i = node["split_index"]
            tree["feature"][i], tree["threshold"][i] = int(node["split_feature"]), float(node["threshold"])
            for side in ("left", "right"):
                child = node[f"{side}_child"]
                if "split_index" in child:
                    tree[side][i] = int(child["split_index"])
                    stack.append(child)
                else:
                    tree[side][i] = ~int(child["leaf_index"])
                    tree["leaf"][int(child["leaf_index"])] = float(child["leaf_value"])
        trees.append(tree)
    return Trees.of(names, trees)


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], l2: float = L2,
                 iterations: int = 50) -> Linear:
    """Standardise, then Newton's method on the L2-regularised log-loss (bias not regularised)."""
    mean, scale = _moments(x)
    design = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    reg = np.full(design.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -40, 40)))
        grad = design.T @ (p - y) + reg * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(reg) + 1e-9 * np.eye(design.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return Linear(names, mean, scale, w[:-1], float(w[-1]))


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = x.std(axis=0)
    return x.mean(axis=0), np.where(scale > 1e-9, scale, 1.0)


def outcome(example: Example, scores: np.ndarray, writer: AnswerWriter, policy: Any) -> bool:
    """Would the answer written from this ranking be right? (False for every unanswerable question.)"""
    if not len(scores) or not example.question.answerable:
        return False
    ranked = rank(example.candidates, scores, 1.0)
    chosen = writer.choose(ranked, example.view.kinds)
    evidence = " ".join(f"{s.candidate.chunk.section} {s.candidate.text}" for s in chosen)
    if policy.missing_figure(example.question.question, evidence):
        return False
    return facts_match(example.question.facts, writer.write(chosen, example.view.lang, example.view.kinds).text)


GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
# Choices made on the development split are the median (a threshold) or the most frequent (a setting) of
# the choices made on this many resamples of it. Near its best, dev utility is flat over a wide range of
# thresholds (within 10 of 378 from 0.60 to 0.74), so its single argmax is decided by a handful of
# questions: the e5 vectors of another CPU (at cosine 0.9999) moved it from 0.67 to 0.73 and the test split's
# answer accuracy from 0.542 to 0.434. The resampled choice is the middle of that plateau.
RESAMPLES = 1000


def choose_threshold(outcomes: list[tuple[float, bool, bool]],
                     resamples: int = RESAMPLES) -> tuple[float, dict[str, float]]:
    """outcomes: (probability, answer right, answerable). The threshold with the best utility, as the median
    of the best thresholds of `resamples` bootstrap resamples of the questions (0: of the questions as
    they are; ties go to the lowest threshold)."""
    if not outcomes:
        return 0.5, summarize(outcomes, 0.5)
    p, right, answerable = (np.array(v) for v in zip(*outcomes, strict=True))
    answered = p[:, None] >= GRID[None, :]
    # what each question adds to the utility at each threshold
    gain = np.where(answered, np.where(right[:, None], 1.0, -WRONG_COST), np.where(answerable[:, None], 0.0, 1.0))
    best = GRID[(resample_counts(len(p), resamples) @ gain).argmax(axis=1)]
    t = float(np.round(np.median(best), 2))
    summary = summarize(outcomes, t)
    if resamples > 0:  # how wide the plateau is: the middle 80% of the resamples' best thresholds
        summary["resampled_thresholds_p10_p90"] = [float(np.round(v, 2)) for v in np.percentile(best, [10, 90])]
    return t, summary


def resample_counts(n: int, resamples: int) -> np.ndarray:
    """How often each of n items is drawn in each bootstrap resample (fixed seed: the same on every run);
    one row of ones when resamples is 0."""
    if resamples <= 0:
        return np.ones((1, n))
    rng = np.random.default_rng(0)
    return np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(resamples)]).astype(float)


def most_often_best(utilities: dict[Any, np.ndarray], resamples: int = RESAMPLES) -> Any:
    """The option (a key; each with one utility per item, items in the same order) that is best on the most
    bootstrap resamples of the items; ties, within a resample and between options, go to the first key."""
    keys = list(utilities)
    table = np.stack([np.asarray(utilities[k], dtype=float) for k in keys], axis=1)
    wins = np.bincount((resample_counts(len(table), resamples) @ table).argmax(axis=1), minlength=len(keys))
    return keys[int(wins.argmax())]


def summarize(outcomes: list[tuple[float, bool, bool]], t: float) -> dict[str, float]:
    ans = [(p, r) for p, r, a in outcomes if a]
    unans = [p for p, _, a in outcomes if not a]
    return {"threshold": t,
            "answerable_accuracy": round(sum(p >= t and r for p, r in ans) / max(len(ans), 1), 4),
            "wrong_abstention_rate": round(sum(p < t for p, _ in ans) / max(len(ans), 1), 4),
            "correct_abstention_rate": round(sum(p < t for p in unans) / max(len(unans), 1), 4),
            "answerable": len(ans), "unanswerable": len(unans)}


def fold_ids(questions: list[Question | None]) -> np.ndarray:
    """The fold of each question. A question and its translation (ids that differ only in their -de-/-en-
    part, as the older sets pair them) share a fold: e5 reads both alike, so with the twin in training
    a held-out question is not out of fold at all (93 of the 273 dev questions' twins are in dev)."""
    groups: dict[str, int] = {}
    out = [groups.setdefault(re.sub(r"-(de|en)(?=-|$)", "", q.id) if q is not None else f"#{i}", len(groups))
           for i, q in enumerate(questions)]
    return np.array(out, dtype=np.int64) % FOLDS


def _folds(ids: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(ids == f) for f in range(int(ids.max(initial=-1)) + 1)]


def selector_folds(examples: list[Example]) -> tuple[str, np.ndarray]:
    """The folds of the selector's out-of-fold rankings: the development files, where every example's is
    known, else fold_ids. The answerability model learns from out-of-fold rankings how far to trust a
    ranking, and the threshold is chosen on them; with folds by question a held-out question's
    paraphrases from its own file trained its ranker, so rankings looked surer than a new set's will.
    Dev, each file held out in turn and the whole training repeated on the rest: utility 638 -> 668,
    wrong answers 93 -> 80, right ones 595 -> 591 of 883."""
    sources = np.array([e.source for e in examples], dtype=np.int64)
    if len(sources) and (sources >= 0).all() and len(np.unique(sources)) >= 2:
        return "file", np.unique(sources, return_inverse=True)[1].astype(np.int64)
    return "question", fold_ids([e.question for e in examples])


def train(bot: Any, questions: list[Question], files: list[str], conversations: list[Any] = (),
          sets: np.ndarray | None = None,
          conversation_sets: np.ndarray | None = None) -> tuple[Selector, QueryAdapter, QuestionMemory, OutOfFold]:
    """The query adapter and the question memory, then the selector on candidates found through them.
    Each question's candidates come through an adapter fitted without its fold and a memory without its
    fold and its set (`sets`, the file of each question; see dev_sets), as a new question's will: the
    selector learns how far to trust them on questions they have not seen. Left in, a question's own set
    holds its paraphrases, and the memory looked more telling than it is for a newly written set (dev,
    each file held out in turn: utility 204 without the memory, 232 with it and its own set excluded). The
    conversations' readings (never adapter or memory data) are read through the final ones. With the files
    of both known (`sets`, `conversation_sets`: dev_conversation_sets), the selector's folds are the
    files (selector_folds)."""
    units, ids = bot.finder.unit_vectors, fold_ids(questions)
    pairs = adapter_training.collect_pairs(bot, questions)
    folds = ids[pairs.positions]
    l2, recall = adapter_training.choose_l2(pairs, units, folds)
    by_fold = [adapter_training.fit(adapter_training.subset(pairs, folds != f), units, l2) for f in range(FOLDS)]
    fingerprint = bot.retriever.encoder.fingerprint()
    memory = question_memory(bot, questions, pairs)
    # A question that follows others ("Und die zweite?") is answerable only with them: the memory keeps
    # questions that stand alone, or an elliptic follow-up read alone would look answerable.
    alone = np.array([not q.history for q in questions], dtype=bool)
    examples: list[Example | None] = [None] * len(questions)
    given_sets = sets is not None
    sets = np.arange(len(questions)) if sets is None else np.asarray(sets)
    for f, fold in enumerate(_folds(ids)):
        bot.finder.adapter = QueryAdapter(by_fold[f], fingerprint)
        for own in np.unique(sets[fold]):
            held = fold[sets[fold] == own]
            bot.memory = memory.subset((ids != f) & (sets != own) & alone)
            for i, example in zip(held, collect(bot, [questions[i] for i in held]), strict=True):
                examples[i] = replace(example, source=int(own)) if given_sets else example
    adapter = QueryAdapter(adapter_training.fit(pairs, units, l2), fingerprint)
    memory = memory.subset(alone)
    bot.finder.adapter, bot.memory = adapter, memory
    examples += conversation_examples(bot, list(conversations), conversation_sets if given_sets else None)
    selector, out_of_fold = fit_selector([e for e in examples if e is not None], files, bot.writer)
    meta = {**selector.meta, "query_adapter": {"digest": adapter.digest(), "l2": l2, "tau": adapter_training.TAU,
                                               "pairs": len(pairs.queries), "unit_ranks_on_dev": recall},
            "question_memory": {"digest": memory.digest(), "questions": len(memory.answerable),
                                "answerable": int(memory.answerable.sum())},
            "inputs_digest": inputs_digest(units, memory)}
    return replace(selector, meta=meta), adapter, memory, out_of_fold


def inputs_digest(unit_vectors: np.ndarray, memory: QuestionMemory) -> str:
    """The e5 vectors training read: the index's units and the development questions. A machine that
    computes them bit for bit alike trains the same selector; another CPU computes them at cosine 0.9999
    (its own kernels; bfloat16 or not in the index build), a few candidates change, and so do the trees."""
    h = hashlib.sha256(np.ascontiguousarray(unit_vectors, dtype=np.float32).tobytes())
    h.update(memory.digest().encode())
    return h.hexdigest()[:16]


def question_memory(bot: Any, questions: list[Question],
                    pairs: adapter_training.Pairs | None = None) -> QuestionMemory:
    """The development questions as the bot reads them (cleaned, spelling corrected), as e5 query vectors,
    with the documents they were labelled against and the units answering them (from `pairs`: every unit
    of the index holding the whole answer, in either language)."""
    texts = [bot.read(q.question)[0] for q in questions]
    vectors = bot.retriever.encoder.encode_queries(texts) if texts else np.zeros((0, 1), np.float32)
    answers: list[set[str]] = [] if pairs is None else [set() for _ in questions]
    for position, rows in zip(pairs.positions.tolist(), pairs.answering, strict=True) if pairs else ():
        answers[position] = {unit_key(bot.finder.records[r].unit.text) for r in rows.tolist()}
    return QuestionMemory.of(vectors, [q.answerable for q in questions], bot.retriever.encoder.fingerprint(),
                             {d["file"] for d in bot.documents()}, answers)


def train_examples(examples: list[Example], files: list[str], writer: AnswerWriter | None = None) -> Selector:
    return fit_selector(examples, files, writer)[0]


def fit_selector(examples: list[Example], files: list[str],
                 writer: AnswerWriter | None = None) -> tuple[Selector, OutOfFold]:
    """`writer` writes the answers whose rightness is learned: the bot's own, so that the sentence it adds
    after the best unit counts as it will at query time."""
    from bot.policy import AnswerPolicy

    writer, policy = writer or AnswerWriter(), AnswerPolicy()
    top_names = RANKING_FEATURES + TOP_UNIT_FEATURES
    folds_by, ids = selector_folds(examples)
    has = np.array([len(e.features) > 0 for e in examples])
    single = np.array([not e.conversational for e in examples])
    # 1. Out-of-fold rankings: what the ranker does on questions it was not fitted to.
    rankers, rows, right = _out_of_fold(examples, ids, writer, policy, top_names, RANKER_CONSTANT)
    # 2. Answerability on those rows, fitted without each fold (the conversations' calibration reads them),
    # and without each question file: the probabilities of a file's questions, held out, choose the threshold.
    answerabilities = _answerability_by_fold(rows, right, has, ids, top_names)
    probs = np.zeros(len(examples))
    held_out, calibration = _calibration_models(examples, ids, answerabilities, rows, right, has, top_names)
    for held, model in calibration:
        z = model(rows[held])
        probs[held] = np.where(has[held], 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))), 0.0)
    outcomes = [(float(p), bool(r), e.question.answerable)
                for p, r, e, s in zip(probs, right, examples, single, strict=True) if s]
    threshold, oof = choose_threshold(outcomes)
    oof["held_out"] = held_out
    answerable = np.array([e.question.answerable for e in examples]) & single
    # Threshold-free: how often the answer written from an out-of-fold ranking would be right.
    oof["right_if_always_answering"] = round(float(right[answerable].mean()), 4) if any(answerable) else 0.0
    ranker = fit_ranker(examples)
    answerability = fit_logistic(rows[has], right[has].astype(float), top_names)
    # 3. The later turns' own pair, fitted on the same examples with nothing read as constant: the single
    # questions keep theirs unchanged (sharing the answerability model cost them 387 -> 373 on dev).
    later: dict[str, Any] = {}
    by_fold: tuple[tuple[Trees, ...], tuple[Linear, ...]] = ((), ())
    if (~single).any():
        later_rankers, later_rows, later_right = _out_of_fold(examples, ids, writer, policy, top_names, ())
        by_fold = (tuple(later_rankers), tuple(_answerability_by_fold(later_rows, later_right, has, ids, top_names)))
        later = {"conversation_ranker": fit_ranker(examples, constant=()),
                 "conversation_answerability": fit_logistic(later_rows[has], later_right[has].astype(float),
                                                            top_names)}
    labels = np.concatenate([e.labels for e in examples])
    meta = {"trained_on": [Path(f).name for f in files], "data_sha256": _digest(files),
            "questions": int(single.sum()), "conversation_readings": int((~single).sum()),
            "candidates": len(labels), "positives": int((labels == 1).sum()),
            "out_of_fold_on_dev": oof, "wrong_cost": WRONG_COST, "l2": L2,
            "folds": {"by": folds_by, "count": int(ids.max(initial=-1)) + 1}}
    fold_of = {e.question.id: int(f) for e, f in zip(examples, ids, strict=True)}
    return (Selector(ranker, answerability, threshold, meta, **later),
            OutOfFold(tuple(rankers), tuple(answerabilities), fold_of, *by_fold))


def _out_of_fold(examples: list[Example], ids: np.ndarray, writer: AnswerWriter, policy: Any,
                 top_names: tuple[str, ...], constant: tuple[str, ...]) -> tuple[list[Trees], np.ndarray, np.ndarray]:
    """The ranker fitted without each fold; each example's question-level row and whether the answer
    written from its out-of-fold ranking is right."""
    rows = np.zeros((len(examples), len(top_names)))
    right = np.zeros(len(examples), dtype=bool)
    rankers = []
    for held in _folds(ids):
        held_set = set(held.tolist())
        ranker = fit_ranker([e for i, e in enumerate(examples) if i not in held_set], constant=constant)
        rankers.append(ranker)
        for i in held:
            e = examples[i]
            scores = ranker(e.features) if len(e.features) else np.zeros(0)
            if len(scores):
                rows[i] = question_features(scores, e.features, ranker.names, top_names)
            right[i] = outcome(e, scores, writer, policy)
    return rankers, rows, right


def _answerability_by_fold(rows: np.ndarray, right: np.ndarray, has: np.ndarray, ids: np.ndarray,
                           names: tuple[str, ...]) -> list[Linear]:
    return [fit_logistic(rows[k], right[k].astype(float), names)
            for k in (np.setdiff1d(np.flatnonzero(has), held) for held in _folds(ids))]


def _calibration_models(examples: list[Example], ids: np.ndarray, by_fold: list[Linear], rows: np.ndarray,
                        right: np.ndarray, has: np.ndarray,
                        names: tuple[str, ...]) -> tuple[str, list[tuple[np.ndarray, Linear]]]:
    """What is held out ("question file" or "fold"), and the (held-out single questions, answerability model
    fitted without them) pairs whose probabilities choose the threshold. With the development files known,
    each file is held out in turn: a file is a set written at one time, and a new set's questions are
    further from it than from each other. Folds by question had
    the threshold's choice swing 0.62-0.73 with a few candidates changed (e5 vectors of another CPU, or
    0.1% dropped); by file it stayed at 0.64-0.66. Without files known: the folds by question."""
    sources = np.array([e.source if not e.conversational else -1 for e in examples])
    known = np.unique(sources[sources >= 0])
    if len(known) < 2:
        return "fold", list(zip(_folds(ids), by_fold, strict=True))
    out = []
    for k in known:
        held = np.flatnonzero(sources == k)
        fit_idx = np.setdiff1d(np.flatnonzero(has), held)
        out.append((held, fit_logistic(rows[fit_idx], right[fit_idx].astype(float), names)))
    return "question file", out


COST_GRID = (0.0, 1.0, 3.0)  # multiples of the default margins (bot/conversation.py)
MARGIN_GRID = (0.0, 0.1, 0.2, 0.3)  # added to the threshold for a later turn


def calibrate_conversations(bot: Any, selector: Selector, conversations: list[Any],
                            out_of_fold: OutOfFold | None = None) -> tuple[Selector, dict]:
    """The development conversations choose, with the same utility as the threshold (right +1, correct
    abstention +1, wrong answer -WRONG_COST, over the later turns): first what reading more of the
    conversation costs, then the conversation margin at those costs, each the setting best on the most
    resamples of the conversations (most_often_best). Their readings trained the selector, so each
    conversation is read by the one fitted without its fold (`out_of_fold`): in sample, the readings that
    answer look surer than they will be on a new conversation."""
    from bot.conversation import DEFAULT_COSTS

    by_factor = {}
    for factor in COST_GRID:
        costs = {k: round(v * factor, 4) for k, v in DEFAULT_COSTS.items()}
        by_factor[factor] = (conversation_utility(bot, replace(selector, reading_costs=costs), conversations,
                                                  out_of_fold), costs)
    factor = most_often_best({f: r["per_conversation"] for f, (r, _) in by_factor.items()})
    selector = replace(selector, reading_costs=by_factor[factor][1])
    by_margin = {0.0: by_factor[factor][0]}
    for margin in MARGIN_GRID[1:]:
        by_margin[margin] = conversation_utility(bot, replace(selector, conversation_margin=margin), conversations,
                                                 out_of_fold)
    margin = most_often_best({m: r["per_conversation"] for m, r in by_margin.items()})
    figures = {"chosen_factor": factor, "chosen_margin": margin, "resamples": RESAMPLES,
               "grid": {str(f): _totals(r) for f, (r, _) in by_factor.items()},
               "margin_grid": {str(m): _totals(r) for m, r in by_margin.items()}}
    return replace(selector, conversation_margin=margin), figures


def _totals(result: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in result.items() if k != "per_conversation"}


def conversation_utility(bot: Any, selector: Selector, conversations: list[Any],
                         out_of_fold: OutOfFold | None = None) -> dict[str, Any]:
    """Totals over the later turns, and each conversation's utility (`per_conversation`, in order)."""
    from evaluation.systems import PipelineSystem

    bot.policy = replace(bot.policy, threshold=selector.threshold)
    pipeline = PipelineSystem(bot, reference=False)
    right, wrong, turns, per_conversation = 0, 0, 0, []
    for conv in conversations:
        bot.selector = out_of_fold.selector_for(conv.id, selector) if out_of_fold else selector
        utility = 0.0
        for q, out in pipeline.converse(conv)[1:]:  # the first turn has no conversation yet
            turns += 1
            ok = facts_match(q.facts, out.text) if q.answerable else out.abstained
            right += ok
            wrong += not ok and not out.abstained
            utility += 1.0 if ok else (0.0 if out.abstained else -WRONG_COST)
        per_conversation.append(utility)
    bot.selector = selector
    return {"utility": float(sum(per_conversation)), "right": right, "wrong": wrong, "turns": turns,
            "per_conversation": per_conversation}


def _digest(files: list[str]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def run_cli(args: Any, settings: Any) -> int:
    from bot.factory import build_bot

    questions, files = dev_questions()
    conversations, conv_files = dev_conversations()
    bot = build_bot(settings, progress=print, selector=initial_selector())
    # leaves the adapter and memory in the bot for the calibration below
    selector, adapter, memory, out_of_fold = train(bot, questions, files + conv_files, conversations, dev_sets(),
                                                   dev_conversation_sets())
    if conversations:
        selector, figures = calibrate_conversations(bot, selector, conversations, out_of_fold)
        selector = replace(selector, meta={**selector.meta, "conversations_on_dev": figures,
                                           "conversations": [Path(f).name for f in conv_files]})
    out = Path(args.out) if getattr(args, "out", None) else DEFAULT_SELECTOR
    selector.save(out)
    adapter.save(out.with_name(DEFAULT_ADAPTER.name))
    memory.save(out.with_name(DEFAULT_MEMORY.name))
    oof, ranks = selector.meta["out_of_fold_on_dev"], selector.meta["query_adapter"]["unit_ranks_on_dev"]
    chosen = ranks[f"l2={ranks['chosen_l2']:g}"]
    print(f"selector written to {out}: {selector.meta['questions']} questions, {selector.meta['candidates']} "
          f"candidates, threshold {selector.threshold:.2f}; out-of-fold on dev: accuracy "
          f"{oof['answerable_accuracy']:.3f}, correct abstention {oof['correct_abstention_rate']:.3f}; "
          f"query adapter beside it: unit recall@10 {ranks['without'].get('recall@10', 0):.3f} -> "
          f"{chosen.get('recall@10', 0):.3f} out of fold")
    return 0
