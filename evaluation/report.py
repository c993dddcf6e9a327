"""Evaluation reports: data first (report.json), then Markdown and PNG plots made from that data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.plots import plot_accuracy, plot_hit_curves, plot_latency

HEADLINE = [("answerable_accuracy", "answer accuracy"), ("correct_abstention_rate", "correct abstention"),
            ("wrong_abstention_rate", "wrong abstention"), ("citation_support", "citation support"),
            ("citation_precision", "citation precision"), ("language_match", "answer language ok"),
            ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("latency_ms_p50", "p50 ms"),
            ("latency_ms_p95", "p95 ms")]


def write_report(out: Path, records: dict[str, list[dict[str, Any]]], ablation: dict[str, Any],
                 files: list[str], index_version: str) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    systems = {name: metrics.summarize(recs) for name, recs in records.items()}
    report = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"), "question_files": files,
              "index_version": index_version, "systems": systems, "retrieval_ablation": ablation,
              "failures": {name: [r for r in recs if not r["correct"]] for name, recs in records.items()},
              "records": records}
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    plots = [plot_accuracy(systems, out / "accuracy_by_category_language.png"),
             plot_hit_curves(records, out / "retrieval_hit_at_k.png"),
             plot_latency(records, out / "latency_histogram.png")]
    markdown = render_markdown(report, [p.name for p in plots])
    (out / "report.md").write_text(markdown, encoding="utf-8")
    report["markdown_summary"] = side_by_side(systems)
    return report


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if value > 1.5 else f"{value:.3f}"
    return str(value)


def side_by_side(systems: dict[str, Any], scope: str = "overall") -> str:
    names = list(systems)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in HEADLINE:
        lines.append(f"| {label} | " + " | ".join(_fmt(systems[n][scope].get(key)) for n in names) + " |")
    return "\n".join(lines)


def _by(systems: dict[str, Any], dimension: str, key: str) -> str:
    names = list(systems)
    values = sorted({v for n in names for v in systems[n]["by"][dimension]})
    lines = [f"| {dimension} | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for v in values:
        cells = [_fmt(systems[n]["by"][dimension].get(v, {}).get(key)) for n in names]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(report: dict[str, Any], plots: list[str]) -> str:
    systems = report["systems"]
    parts = [f"# Evaluation report\n\nCreated {report['created_at']}, index {report['index_version']}, "
             f"questions: {', '.join(report['question_files'])}.\n",
             "## Side by side (overall)\n", side_by_side(systems), ""]
    for lang in sorted(next(iter(systems.values()))["by"]["lang"]):
        per_lang = {n: {"overall": s["by"]["lang"][lang]} for n, s in systems.items() if lang in s["by"]["lang"]}
        parts += [f"## Language: {lang}\n", side_by_side(per_lang), ""]
    parts += ["## Answer accuracy by category\n", _by(systems, "category", "accuracy"), "",
              "## Retrieval variants of the pipeline (answerable questions)\n",
              "| variant | hit@1 | hit@5 | MRR | cross-language hit@5 |", "|---|---|---|---|---|"]
    for label, row in report["retrieval_ablation"].items():
        parts.append(f"| {label} | {_fmt(row['hit@1'])} | {_fmt(row['hit@5'])} | {_fmt(row['mrr'])} | "
                     f"{_fmt(row['cross-language hit@5'])} |")
    parts += ["", "## Plots\n"] + [f"![{p}]({p})" for p in plots] + [""]
    parts += ["## Failed questions of the pipeline\n"]
    for r in report["failures"].get("pipeline", []):
        answer = r["answer"].replace("\n", " ")[:400]
        parts.append(f"- **{r['id']}** ({r['lang']}, {r['category']}, "
                     f"{'answerable' if r['answerable'] else 'unanswerable'}): {r['question']}\n"
                     f"  - answer{' (abstained)' if r['abstained'] else ''}: {answer}")
    return "\n".join(parts) + "\n"
