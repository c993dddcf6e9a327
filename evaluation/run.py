"""`gocluster-faq eval`: run the pipeline and the baselines over question sets, score, report, gate."""

from __future__ import annotations

import argparse
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.questions import Question, load_questions
from evaluation.systems import Bm25System, LangChainRecipe, PipelineSystem, System
from indexer.errors import FaqError
from indexer.settings import Settings

log = logging.getLogger(__name__)
DATA = Path(__file__).with_name("data")
THRESHOLDS = Path(__file__).with_name("thresholds.toml")
ABLATIONS = {  # retrieval variants measured for the cross-language and keyword questions
    "dense only": {"use_keywords": False, "cross_language": False},
    "dense + cross-language": {"use_keywords": False, "cross_language": True},
    "hybrid, no cross-language": {"use_keywords": True, "cross_language": False},
    "hybrid + cross-language (pipeline)": {"use_keywords": True, "cross_language": True},
}


def default_files(split: str) -> list[Path]:
    return [DATA / f"{s}.jsonl" for s in (("dev", "test") if split == "all" else (split,))]


def score(q: Question, out: Any) -> dict[str, Any]:
    return {
        "id": q.id, "lang": q.lang, "category": q.category, "answerable": q.answerable,
        "question": q.question, "answer": out.text,
        "correct": metrics.answer_correct(q, out.text, out.abstained),
        "abstained": out.abstained,
        "cited_support": metrics.citation_support(q, out.quotes) if q.answerable else None,
        "cited_precision": metrics.citation_precision(q, out.quotes) if q.answerable and out.quotes else None,
        "language_ok": metrics.language_match(q.lang, out.language),
        "hit1": metrics.hit_at_k(out.ranked_texts, q.facts, 1) if q.answerable else None,
        "hit5": metrics.hit_at_k(out.ranked_texts, q.facts, 5) if q.answerable else None,
        "hit_curve": [metrics.hit_at_k(out.ranked_texts, q.facts, k) for k in range(1, 11)]
        if q.answerable else None,
        "rr": metrics.reciprocal_rank(out.ranked_texts, q.facts) if q.answerable else None,
        "latency_ms": round(out.latency_ms, 2),
    }


def evaluate(systems: list[System], questions: list[Question]) -> dict[str, list[dict[str, Any]]]:
    return {s.name: [score(q, s.run(q)) for q in questions] for s in systems}


def retrieval_ablation(pipeline: PipelineSystem, questions: list[Question]) -> dict[str, Any]:
    from bot.retriever import RetrievalOptions

    answerable = [q for q in questions if q.answerable]
    table = {}
    for label, flags in ABLATIONS.items():
        options = RetrievalOptions(**flags)
        rows = []
        for q in answerable:
            ranked = pipeline.ranked(q, options)
            rows.append({"lang": q.lang, "category": q.category, "hit5": metrics.hit_at_k(ranked, q.facts, 5),
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


def check_gate(summary: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Every `metric = {min = x}` or `{max = x}` in the file, checked against the pipeline's overall figures."""
    failures = []
    for metric, bound in thresholds.get("pipeline", {}).items():
        value = summary["overall"].get(metric)
        if value is None:
            failures.append(f"{metric}: not measured")
        elif "min" in bound and value < bound["min"]:
            failures.append(f"{metric} = {value:.3f} < {bound['min']}")
        elif "max" in bound and value > bound["max"]:
            failures.append(f"{metric} = {value:.3f} > {bound['max']}")
    return failures


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    from bot.factory import build_bot
    from evaluation.report import write_report

    if args.feedback:
        from evaluation.feedback_candidates import write_candidates

        path = write_candidates(args.feedback, args.out)
        print(f"candidate questions for review written to {path}")
        return 0
    files = args.qa or default_files(args.split)
    questions = [q for f in files for q in load_questions(f)]
    if not questions:
        raise FaqError("No questions in " + ", ".join(map(str, files)))
    bot = build_bot(settings, progress=lambda m: print(m, file=sys.stderr))
    pipeline = PipelineSystem(bot)
    systems: list[System] = [pipeline]
    if not args.no_baselines:
        embedder = bot.retriever.encoder
        systems += [Bm25System(bot.retriever.index.chunks), LangChainRecipe(settings.corpus_dir, embedder)]
    records = evaluate(systems, questions)
    ablation = retrieval_ablation(pipeline, questions)
    report = write_report(args.out, records, ablation, [str(f) for f in files], bot.index_version)
    print(report["markdown_summary"])
    print(f"report: {args.out / 'report.md'}")
    if args.gate:
        thresholds = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))
        failures = check_gate(report["systems"]["pipeline"], thresholds)
        if failures:
            print("evaluation gate FAILED: " + "; ".join(failures), file=sys.stderr)
            return 1
        print("evaluation gate passed")
    return 0


def _mean(values: Any) -> float | None:
    vals = [float(v) for v in values]
    return sum(vals) / len(vals) if vals else None
