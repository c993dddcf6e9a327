"""Evaluation reports: data first (report.json), then Markdown and PNG plots made from that data.

Every rate carries its bootstrap 95% interval (evaluation/bootstrap.py), shown as ``0.63 [0.53, 0.72]``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.plots import plot_accuracy, plot_conversations, plot_hit_curves, plot_latency

HEADLINE = [("answerable_accuracy", "answer accuracy"), ("correct_abstention_rate", "correct abstention"),
            ("wrong_abstention_rate", "wrong abstention"), ("citation_support", "citation support"),
            ("citation_precision", "citation precision"), ("cited_passage_hit", "cited passage holds the facts"),
            ("language_match", "answer language ok (de/en)"), ("hit@1", "hit@1"), ("hit@5", "hit@5"),
            ("mrr", "MRR"), ("latency_ms_p50", "p50 ms"), ("latency_ms_p95", "p95 ms")]
RETRIEVAL = [("bot's retrieval (the passages the answer was made from)", ""),
             ("reference retrieval (k=10, separate search; kept for one release)", "ref_")]
CONVERSATION_COLUMNS = [("accuracy", "accuracy"), ("answerable_accuracy", "answer accuracy"),
                        ("correct_abstention_rate", "correct abstention"),
                        ("wrong_abstention_rate", "wrong abstention"), ("citation_support", "citation support"),
                        ("hit@5", "hit@5")]
RETRIEVAL_NOTE = (
    "The bot's retrieval is the ranked list the answer path used (`Answer.retrieved`): k=8 passages, 24 for "
    "\"how many\" questions (figures are surveyed across sources), the two best passages holding a phone number "
    "or e-mail address put first for contact questions, and nothing for questions refused as off-topic. The "
    "reference retrieval is a separate search of the same retriever with k=10 and none of these steps: before "
    "this report it was the only retrieval figure, so changes to the answer path never showed in it.")
SYSTEM_BY = ("lang", "category", "style")


def write_report(out: Path, splits: dict[str, dict[str, Any]], notes: list[str],
                 index_version: str) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "index_version": index_version, "notes": notes, "splits": {}}
    for name, data in splits.items():
        records, turns = data["records"], data["conversation_records"]
        report["splits"][name] = {
            "question_files": data["question_files"], "conversation_files": data["conversation_files"],
            "systems": {s: metrics.summarize(recs, by=SYSTEM_BY) for s, recs in records.items()},
            "retrieval_ablation": data["retrieval_ablation"],
            "conversations": {"summary": metrics.summarize(turns, by=("kind", "lang", "category")),
                              "records": turns} if turns else None,
            "failures": {s: [r for r in recs if not r["correct"]] for s, recs in records.items()},
            "records": records,
        }
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    plots = {name: _plots(out, name, data) for name, data in report["splits"].items()}
    (out / "report.md").write_text(render_markdown(report, plots), encoding="utf-8")
    report["markdown_summary"] = "\n\n".join(f"{name} split\n\n{side_by_side(data['systems'])}"
                                             for name, data in report["splits"].items() if data["systems"])
    return report


def _plots(out: Path, split: str, data: dict[str, Any]) -> list[str]:
    paths = []
    if data["systems"]:
        paths += [plot_accuracy(data["systems"], out / f"{split}-accuracy_by_category_language.png"),
                  plot_hit_curves(data["records"], out / f"{split}-retrieval_hit_at_k.png"),
                  plot_latency(data["records"], out / f"{split}-latency_histogram.png")]
    if data["conversations"]:
        paths.append(plot_conversations(data["conversations"]["summary"], out / f"{split}-conversations.png"))
    return [p.name for p in paths]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if value > 1.5 else f"{value:.3f}"
    return str(value)


def cell(figures: dict[str, Any], key: str) -> str:
    """A figure with its interval when it has one: ``0.628 [0.531, 0.719]``."""
    ci = (figures.get("ci") or {}).get(key)
    value = _fmt(figures.get(key))
    return f"{value} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else value


def side_by_side(systems: dict[str, Any], scope: str = "overall") -> str:
    names = list(systems)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| questions | " + " | ".join(str(systems[n][scope]["n"]) for n in names) + " |")
    for key, label in HEADLINE:
        lines.append(f"| {label} | " + " | ".join(cell(systems[n][scope], key) for n in names) + " |")
    return "\n".join(lines)


def _by(groups: dict[str, dict[str, Any]], dimension: str, columns: list[tuple[str, str]]) -> str:
    lines = [f"| {dimension} | n | " + " | ".join(label for _, label in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for value, figures in groups.items():
        lines.append(f"| {value} | {figures['n']} | " + " | ".join(cell(figures, k) for k, _ in columns) + " |")
    return "\n".join(lines)


def _by_system(systems: dict[str, Any], dimension: str, key: str) -> str:
    names = list(systems)
    values = sorted({v for n in names for v in systems[n]["by"].get(dimension, {})})
    lines = [f"| {dimension} | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for v in values:
        n = next(s["by"][dimension][v]["n"] for s in systems.values() if v in s["by"].get(dimension, {}))
        lines.append(f"| {v} | {n} | " + " | ".join(cell(systems[s]["by"][dimension].get(v, {}), key)
                                                     for s in names) + " |")
    return "\n".join(lines)


def retrieval_section(data: dict[str, Any]) -> list[str]:
    overall = data["systems"]["pipeline"]["overall"]
    lines = ["| retrieval | hit@1 | hit@5 | MRR |", "|---|---|---|---|"]
    for label, prefix in RETRIEVAL:
        lines.append(f"| {label} | " + " | ".join(cell(overall, prefix + m) for m in ("hit@1", "hit@5", "mrr"))
                     + " |")
    recs = [r for r in data["records"]["pipeline"] if r["answerable"] and r.get("ref_hit5") is not None]
    only_bot = [r["id"] for r in recs if r["hit5"] and not r["ref_hit5"]]
    only_ref = [r["id"] for r in recs if r["ref_hit5"] and not r["hit5"]]
    counts = (f"\nOf {len(recs)} answerable questions, {len(only_bot)} have a hit in the bot's top 5 only "
              f"({', '.join(only_bot) or 'none'}) and {len(only_ref)} in the reference top 5 only "
              f"({', '.join(only_ref) or 'none'})." if recs else "")
    return [*lines, "", RETRIEVAL_NOTE, counts, ""]


def render_split(name: str, data: dict[str, Any], plots: list[str]) -> list[str]:
    files = ", ".join(data["question_files"] + data["conversation_files"]) or "none"
    parts = [f"## Split: {name}\n", f"Files: {files}.\n"]
    systems = data["systems"]
    if systems:
        parts += ["### Side by side (overall, 95% bootstrap intervals)\n", side_by_side(systems), ""]
        for lang in sorted(systems["pipeline"]["by"]["lang"]):
            per_lang = {n: {"overall": s["by"]["lang"][lang]} for n, s in systems.items() if lang in s["by"]["lang"]}
            parts += [f"### Language: {lang}\n", side_by_side(per_lang), ""]
        parts += ["### Accuracy by category\n", _by_system(systems, "category", "accuracy"), ""]
        if "style" in systems["pipeline"]["by"]:
            parts += ["### Accuracy by question style\n", _by_system(systems, "style", "accuracy"), ""]
        parts += ["### Retrieval: what the bot used vs the reference search (answerable questions)\n"]
        parts += retrieval_section(data)
        parts += ["### Variants of the reference retrieval\n",
                  "| variant | hit@1 | hit@5 | MRR | cross-language hit@5 |", "|---|---|---|---|---|"]
        parts += [f"| {label} | {_fmt(row['hit@1'])} | {_fmt(row['hit@5'])} | {_fmt(row['mrr'])} | "
                  f"{_fmt(row['cross-language hit@5'])} |" for label, row in data["retrieval_ablation"].items()]
        parts.append("")
    conv = data["conversations"]
    if conv:
        parts += ["### Conversations (each turn asked with the earlier questions and the bot's own answers)\n"]
        for dim in ("kind", "lang"):
            parts += [_by(conv["summary"]["by"][dim], dim, CONVERSATION_COLUMNS), ""]
    parts += ["### Plots\n"] + [f"![{p}]({p})" for p in plots] + [""]
    failed = [r for r in data["failures"].get("pipeline", [])]
    failed += [r for r in (conv or {}).get("records", []) if not r["correct"]]
    parts += ["### Failed questions of the pipeline\n"] + [_failure(r) for r in failed] + [""]
    return parts


def _failure(r: dict[str, Any]) -> str:
    answer = r["answer"].replace("\n", " ")[:400]
    kind = f", {r['kind']}" if r.get("kind") else ""
    return (f"- **{r['id']}** ({r['lang']}, {r['category']}{kind}, "
            f"{'answerable' if r['answerable'] else 'unanswerable'}): {r['question']}\n"
            f"  - answer{' (abstained)' if r['abstained'] else ''}: {answer}")


def render_markdown(report: dict[str, Any], plots: dict[str, list[str]]) -> str:
    parts = [f"# Evaluation report\n\nCreated {report['created_at']}, index {report['index_version']}.\n"]
    parts += [f"- note: {n}" for n in report["notes"]] + ([""] if report["notes"] else [])
    for name, data in report["splits"].items():
        parts += render_split(name, data, plots.get(name, []))
    return "\n".join(parts) + "\n"
