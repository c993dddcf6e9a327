"""Answer-quality and retrieval metrics: pure functions over plain inputs.

Per-question record
-------------------
A benchmark run produces one ``dict`` per question; ``summarize`` reads these keys:

=================  ============  ==========================================================
key                type          meaning
=================  ============  ==========================================================
id                 str           question id
lang               str           question language ("de", "en")
category           str           question category
answerable         bool          does the corpus answer it?
correct            bool          ``answer_correct(...)``: facts present (answerable) or
                                 abstained (unanswerable)
abstained          bool          the bot said the documents do not answer it
cited_support      bool | None   ``citation_support(...)``; None when not measured
cited_precision    float | None  ``citation_precision(...)``; None when not measured
language_ok        bool | None   ``language_match(q.lang, answer.language)``
cited_hit          bool | None   a cited passage (whole) holds every fact group
hit1               bool | None   ``hit_at_k(ranked, q.facts, 1)``, ranked = what the bot retrieved
hit5               bool | None   ``hit_at_k(ranked, q.facts, 5)``
rr                 float | None  ``reciprocal_rank(ranked, q.facts)``
ref_hit1/5, ref_rr bool | None   the same over the reference retrieval (a separate search, k=10)
latency_ms         float | None  wall-clock time of the answer in milliseconds
=================  ============  ==========================================================

``id``, ``lang``, ``category``, ``answerable``, ``correct`` and ``abstained`` are required;
the others may be missing or None (then they are left out of the averages).
The fact-based metrics (``cited_support``, ``cited_precision``, ``hit1``, ``hit5``, ``rr``)
are averaged over *answerable* records only: an unanswerable question has no facts, so
nothing can support it and no passage is relevant to it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evaluation.bootstrap import rate_interval
from evaluation.questions import FactGroups, Question, facts_match, matched_groups

# --------------------------------------------------------------------------- answers


def answer_correct(q: Question, answer_text: str, abstained: bool) -> bool:
    """Answerable: not abstained and every fact group found in the answer.
    Unanswerable: correct exactly when the bot abstained."""
    if not q.answerable:
        return bool(abstained)
    return not abstained and facts_match(q.facts, answer_text or "")


def citation_support(q: Question, quotes: Sequence[str]) -> bool:
    """Do the cited quotes, taken together, contain every fact group?

    We test the *union* of the quotes (joined with newlines), not each quote alone. An answer
    often combines facts from two passages ("81 members ... in October 2022" sits in one
    passage, "the ministry pays for the silver label" may need two), and citing each passage
    for the part it supports is exactly the behaviour we want; requiring one quote to hold all
    facts would punish it. Padding an answer with irrelevant quotes is caught separately by
    ``citation_precision``. Questions without facts (unanswerable) return False.
    """
    if not q.facts or not quotes:
        return False
    return facts_match(q.facts, "\n".join(quotes))


def citation_precision(q: Question, quotes: Sequence[str]) -> float:
    """Share of cited quotes that match at least one fact group (0.0 when nothing is cited
    or the question has no facts)."""
    if not quotes or not q.facts:
        return 0.0
    useful = sum(1 for quote in quotes if matched_groups(q.facts, quote) > 0)
    return useful / len(quotes)


_LANGUAGE_NAMES = {
    "german": "de", "deutsch": "de", "ger": "de", "deu": "de",
    "english": "en", "englisch": "en", "eng": "en",
}


def _lang_code(value: str | None) -> str:
    code = (value or "").strip().lower().replace("_", "-")
    code = _LANGUAGE_NAMES.get(code, code)
    return code.split("-", 1)[0]


def language_match(expected: str, actual: str | None) -> bool:
    """Same primary language? Case-insensitive; "de-DE", "de_AT" and "German" all count as
    "de". An empty or missing ``actual`` never matches."""
    exp, act = _lang_code(expected), _lang_code(actual)
    return bool(act) and exp == act


# --------------------------------------------------------------------------- retrieval


def hit_at_k(ranked_texts: Sequence[str], facts: FactGroups, k: int) -> bool:
    """Is one of the first ``k`` passages a hit, i.e. contains every fact group by itself?"""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return any(facts_match(facts, text) for text in list(ranked_texts)[:k])


def reciprocal_rank(ranked_texts: Sequence[str], facts: FactGroups) -> float:
    """1 / rank of the first hit (rank 1 = first passage); 0.0 when no passage is a hit.
    The mean over questions is the MRR."""
    for rank, text in enumerate(ranked_texts, start=1):
        if facts_match(facts, text):
            return 1.0 / rank
    return 0.0


# --------------------------------------------------------------------------- aggregation


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0 <= p <= 100) by linear interpolation between closest ranks.

    Sort the n values, take the fractional position ``pos = p / 100 * (n - 1)`` and
    interpolate between the values at ``floor(pos)`` and ``ceil(pos)``; this is NumPy's
    default ("linear") method. So percentile([1, 2, 3, 4], 50) == 2.5 and p=0 / p=100 give
    the minimum / maximum. Raises ValueError for no values or p outside [0, 100].
    """
    data = sorted(float(v) for v in values)
    if not data:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be within [0, 100], got {p}")
    pos = p / 100 * (len(data) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _rate(values: Iterable[Any]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


# metric -> (record key, the records it is averaged over); every one gets a bootstrap interval
RATES: dict[str, tuple[str, str]] = {
    "accuracy": ("correct", "all"),
    "answerable_accuracy": ("correct", "answerable"),
    "unanswerable_accuracy": ("correct", "unanswerable"),
    "correct_abstention_rate": ("abstained", "unanswerable"),
    "wrong_abstention_rate": ("abstained", "answerable"),
    "citation_support": ("cited_support", "answerable"),
    "citation_precision": ("cited_precision", "answerable"),
    "cited_passage_hit": ("cited_hit", "answerable"),
    "language_match": ("language_ok", "all"),
    "hit@1": ("hit1", "answerable"),
    "hit@5": ("hit5", "answerable"),
    "mrr": ("rr", "answerable"),
    "ref_hit@1": ("ref_hit1", "answerable"),
    "ref_hit@5": ("ref_hit5", "answerable"),
    "ref_mrr": ("ref_rr", "answerable"),
}


def _group_metrics(recs: list[Mapping[str, Any]], intervals: bool) -> dict[str, Any]:
    subsets = {"all": recs, "answerable": [r for r in recs if r["answerable"]],
               "unanswerable": [r for r in recs if not r["answerable"]]}
    latencies = [float(r["latency_ms"]) for r in recs if r.get("latency_ms") is not None]
    out: dict[str, Any] = {"n": len(recs), "n_answerable": len(subsets["answerable"]),
                           "n_unanswerable": len(subsets["unanswerable"])}
    ci: dict[str, list[float] | None] = {}
    for metric, (key, subset) in RATES.items():
        values = [r.get(key) for r in subsets[subset]]
        out[metric] = _rate(values)
        if intervals:
            interval = rate_interval(values)
            ci[metric] = list(interval) if interval else None
    out.update({
        "latency_ms_mean": sum(latencies) / len(latencies) if latencies else None,
        "latency_ms_p50": percentile(latencies, 50) if latencies else None,
        "latency_ms_p95": percentile(latencies, 95) if latencies else None,
    })
    if intervals:
        out["ci"] = ci
    return out


def summarize(
    records: Iterable[Mapping[str, Any]], by: Sequence[str] = ("lang", "category"), intervals: bool = True
) -> dict[str, Any]:
    """Overall and per-group numbers from per-question records (keys: module docstring).

    Returns ``{"overall": metrics, "by": {key: {value: metrics}}}``, one independent grouping
    per key in ``by`` (not their cross product), group values sorted. ``metrics`` holds:
    ``n``, ``n_answerable``, ``n_unanswerable``; ``accuracy`` (share correct over all),
    ``answerable_accuracy``, ``unanswerable_accuracy``; ``correct_abstention_rate``,
    ``wrong_abstention_rate``; ``citation_support``, ``citation_precision``,
    ``cited_passage_hit``, ``hit@1``, ``hit@5``, ``mrr`` and their ``ref_`` twins (answerable
    records only); ``language_match``; ``latency_ms_mean``, ``latency_ms_p50``,
    ``latency_ms_p95``. Booleans count as 1/0; None values are skipped; a metric with nothing
    to average is None. With ``intervals``, ``ci`` maps every rate of ``RATES`` to its bootstrap
    95% interval ``[lo, hi]`` (None when the rate is None). A key of ``by`` that no record
    carries (e.g. ``style``) gives no grouping.
    """
    recs = list(records)
    for i, r in enumerate(recs):
        missing = [k for k in ("id", "lang", "category", "answerable", "correct", "abstained") if k not in r]
        if missing:
            raise KeyError(f"record {i} ({r.get('id', '?')}) lacks {', '.join(missing)}")
    grouped: dict[str, dict[str, Any]] = {}
    for key in by:
        if recs and not any(r.get(key) for r in recs):
            continue
        buckets: dict[str, list[Mapping[str, Any]]] = {}
        for r in recs:
            buckets.setdefault(str(r.get(key) or "-"), []).append(r)
        grouped[key] = {value: _group_metrics(buckets[value], intervals) for value in sorted(buckets)}
    return {"overall": _group_metrics(recs, intervals), "by": grouped}
