"""`gocluster-faq eval`: run the pipeline and the baselines over the splits, score, report, gate, compare."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.gate import check_gate, load_thresholds
from evaluation.questions import Question, load_questions
from evaluation.systems import Bm25System, LangChainRecipe, PipelineSystem, System, SystemOutput
from indexer.errors import FaqError
from indexer.settings import Settings

log = logging.getLogger(__name__)
DATA = Path(__file__).with_name("data")
# The one place that says which files make up a split (in evaluation/data/). The old sets are development
# data now; the test split holds only questions written fresh, never used for training or tuning.
SPLITS: dict[str, tuple[str, ...]] = {
    "dev": ("dev.jsonl", "test.jsonl", "fresh-dev.jsonl", "fresh-dev-2.jsonl", "fresh-dev-3.jsonl",
            "fresh-dev-4.jsonl", "fresh-dev-5.jsonl", "fresh-dev-6.jsonl"),
    "test": ("fresh-test.jsonl",),
}
CONVERSATIONS: dict[str, tuple[str, ...]] = {
    "dev": ("conversations-dev.jsonl", "conversations-dev-2.jsonl", "conversations-dev-3.jsonl",
            "conversations-dev-4.jsonl", "conversations-dev-5.jsonl", "conversations-dev-6.jsonl"),
    "test": ("conversations-test.jsonl",),
}
ANSWER_LANGUAGES = ("de", "en")  # questions in other languages are answered in English: no language check
ABLATIONS = {  # retrieval variants measured for the cross-language and keyword questions
    "dense only": {"use_keywords": False, "cross_language": False},
    "dense + cross-language": {"use_keywords": False, "cross_language": True},
    "hybrid, no cross-language": {"use_keywords": True, "cross_language": False},
    "hybrid + cross-language (pipeline)": {"use_keywords": True, "cross_language": True},
}


@dataclass
class SplitPlan:
    """The question and conversation files of one split that exist, and notes on those that do not."""

    name: str
    question_files: list[Path]
    conversation_files: list[Path]
    notes: list[str] = field(default_factory=list)


def plan_splits(split: str, qa: list[Path] | None = None, conversations: list[Path] | None = None,
                data: Path = DATA) -> list[SplitPlan]:
    if qa or conversations:
        return [_plan("custom", list(qa or []), list(conversations or []))]
    names = list(SPLITS) if split == "all" else [split]
    return [_plan(n, [data / f for f in SPLITS[n]], [data / f for f in CONVERSATIONS.get(n, ())]) for n in names]


def _plan(name: str, questions: list[Path], conversations: list[Path]) -> SplitPlan:
    missing = [p for p in questions + conversations if not p.is_file()]
    notes = [f"{name}: {p} is missing; skipped" for p in missing]
    return SplitPlan(name, [p for p in questions if p not in missing],
                     [p for p in conversations if p not in missing], notes)


def score(q: Question, out: SystemOutput) -> dict[str, Any]:
    ans = q.answerable
    ref = out.reference_ranked
    return {
        "id": q.id, "lang": q.lang, "category": q.category, "style": q.style, "answerable": ans,
        "question": q.question, "answer": out.text,
        "correct": metrics.answer_correct(q, out.text, out.abstained),
        "abstained": out.abstained,
        "cited_support": metrics.citation_support(q, out.quotes) if ans else None,
        "cited_precision": metrics.citation_precision(q, out.quotes) if ans and out.quotes else None,
        "cited_hit": any(metrics.facts_match(q.facts, t) for t in out.cited_texts) if ans else None,
        "language_ok": metrics.language_match(q.lang, out.language) if q.lang in ANSWER_LANGUAGES else None,
        "hit1": metrics.hit_at_k(out.ranked_texts, q.facts, 1) if ans else None,
        "hit5": metrics.hit_at_k(out.ranked_texts, q.facts, 5) if ans else None,
        "hit_curve": [metrics.hit_at_k(out.ranked_texts, q.facts, k) for k in range(1, 11)] if ans else None,
        "rr": metrics.reciprocal_rank(out.ranked_texts, q.facts) if ans else None,
        "ref_hit1": metrics.hit_at_k(ref, q.facts, 1) if ans and ref is not None else None,
        "ref_hit5": metrics.hit_at_k(ref, q.facts, 5) if ans and ref is not None else None,
        "ref_hit_curve": [metrics.hit_at_k(ref, q.facts, k) for k in range(1, 11)]
        if ans and ref is not None else None,
        "ref_rr": metrics.reciprocal_rank(ref, q.facts) if ans and ref is not None else None,
        "n_retrieved": len(out.ranked_texts),
        "latency_ms": round(out.latency_ms, 2),
    }


def evaluate(systems: list[System], questions: list[Question]) -> dict[str, list[dict[str, Any]]]:
    return {s.name: [score(q, s.run(q)) for q in questions] for s in systems}


def evaluate_conversations(pipeline: PipelineSystem, conversations: list[Any]) -> list[dict[str, Any]]:
    """One record per turn, scored like a question, with its conversation, position and kind."""
    records = []
    for conv in conversations:
        for n, ((q, out), turn) in enumerate(zip(pipeline.converse(conv), conv.turns, strict=True), start=1):
            records.append(score(q, out) | {"conversation": conv.id, "turn": n, "kind": turn.kind})
    return records


def retrieval_ablation(pipeline: PipelineSystem, questions: list[Question]) -> dict[str, Any]:
    from bot.retriever import RetrievalOptions

    answerable = [q for q in questions if q.answerable]
    table = {}
    for label, flags in ABLATIONS.items():
        options = RetrievalOptions(**flags)
        rows = []
        for q in answerable:
            ranked = pipeline.ranked(q, options)
            rows.append({"category": q.category, "hit5": metrics.hit_at_k(ranked, q.facts, 5),
                         "hit1": metrics.hit_at_k(ranked, q.facts, 1),
                         "rr": metrics.reciprocal_rank(ranked, q.facts)})
        cross = [r for r in rows if r["category"] == "cross-language"]
        table[label] = {
            "hit@1": _mean(r["hit1"] for r in rows), "hit@5": _mean(r["hit5"] for r in rows),
            "mrr": _mean(r["rr"] for r in rows),
            "cross-language hit@5": _mean(r["hit5"] for r in cross) if cross else None,
            "n": len(rows), "n_cross": len(cross),
        }
    return table


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    if args.compare:
        from evaluation.compare import write_comparison

        result = write_comparison(*args.compare, args.out or settings.eval_dir)
        print(result["markdown_summary"])
        print(f"comparison: {result['paths']['markdown']}")
        return 0
    out = args.out or settings.eval_dir
    if args.feedback:
        from evaluation.feedback_candidates import write_candidates

        print(f"candidate questions for review written to {write_candidates(args.feedback, out)}")
        return 0
    plans = plan_splits(args.split, args.qa, args.conversations)
    for note in (n for p in plans for n in p.notes):
        print(f"note: {note}", file=sys.stderr)
    if not any(p.question_files or p.conversation_files for p in plans):
        raise FaqError("No question files found: " + "; ".join(n for p in plans for n in p.notes))
    report = run_splits(plans, settings, baselines=not args.no_baselines, out=out)
    print(report["markdown_summary"])
    print(f"report: {out / 'report.md'}")
    if args.gate:
        thresholds = load_thresholds()
        missed = check_gate(report, thresholds, section="targets")
        print("targets missed: " + "; ".join(missed) if missed else "all targets met")
        failures = check_gate(report, thresholds)
        if failures:
            print("evaluation gate FAILED: " + "; ".join(failures), file=sys.stderr)
            return 1
        print("evaluation gate passed")
    return 0


def run_splits(plans: list[SplitPlan], settings: Settings, baselines: bool, out: Path) -> dict[str, Any]:
    from bot.factory import build_bot
    from evaluation.report import write_report

    sets = {p.name: _load(p) for p in plans}  # a malformed file fails before the model loads
    bot = build_bot(settings, progress=lambda m: print(m, file=sys.stderr))
    pipeline = PipelineSystem(bot)
    systems: list[System] = [pipeline]
    if baselines:
        systems += [Bm25System(bot.retriever.index.chunks), LangChainRecipe(settings.corpus_dir, bot.retriever.encoder)]
    splits = {}
    for plan in plans:
        questions, conversations = sets[plan.name]
        splits[plan.name] = {
            "question_files": [str(f) for f in plan.question_files],
            "conversation_files": [str(f) for f in plan.conversation_files],
            "records": evaluate(systems, questions) if questions else {},
            "retrieval_ablation": retrieval_ablation(pipeline, questions) if questions else {},
            "conversation_records": evaluate_conversations(pipeline, conversations),
        }
    return write_report(out, splits, [n for p in plans for n in p.notes], bot.index_version)


def _load(plan: SplitPlan) -> tuple[list[Question], list[Any]]:
    try:
        questions = [q for f in plan.question_files for q in load_questions(f)]
        if not plan.conversation_files:
            return questions, []
        from evaluation.conversations import load_conversations  # imported only when there is a file to read

        return questions, [c for f in plan.conversation_files for c in load_conversations(f)]
    except ValueError as exc:  # QuestionFileError and the conversation loader's errors name file and line
        raise FaqError(str(exc)) from None


def _mean(values: Any) -> float | None:
    vals = [float(v) for v in values]
    return sum(vals) / len(vals) if vals else None
