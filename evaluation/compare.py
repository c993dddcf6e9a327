"""`gocluster-faq eval --compare OLD NEW`: what changed between two evaluation runs, question by question.

Questions are matched by id within each split (conversation turns by "<conversation>/<turn>"). A question
is *fixed* (wrong before, right now), *broken* (right before, wrong now) or has a *changed answer* (same
verdict, other text or abstention). Deltas of the rates come with paired bootstrap intervals over the
questions both runs share; a delta whose interval excludes 0 is marked with *.

>>> result = write_comparison(Path("var/eval-old"), Path("var/eval"), Path("var/eval"))  # doctest: +SKIP
>>> result["paths"]["json"]                                                            # doctest: +SKIP
PosixPath('var/eval/compare.json')
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evaluation.bootstrap import paired_delta_interval
from evaluation.metrics import RATES
from indexer.errors import FaqError

OVERALL_METRICS = ("accuracy", "answerable_accuracy", "correct_abstention_rate", "wrong_abstention_rate",
                   "citation_support", "language_match", "hit@5")
GROUP_METRIC = "accuracy"
ANSWER_CHARS = 240


def load_report(path: Path) -> dict[str, Any]:
    """A report.json, or the folder holding one; a one-line FaqError when it is none."""
    file = path / "report.json" if path.is_dir() else path
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FaqError(f"No evaluation report at {file}; run `gocluster-faq eval --out DIR` first.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FaqError(f"{file} is not a readable evaluation report ({exc.__class__.__name__}).") from None
    if not isinstance(report, dict) or not ("splits" in report or "records" in report):
        raise FaqError(f"{file} is not an evaluation report (no \"splits\" or \"records\").")
    return report


def pipeline_records(report: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """{split: {question id: record}} of the pipeline, conversation turns included. Reports written before
    splits existed count as one split, "all"."""
    if "splits" not in report:
        return {"all": _by_id(report["records"].get("pipeline", []))}
    out = {}
    for name, data in report["splits"].items():
        turns = (data.get("conversations") or {}).get("records", [])
        out[name] = _by_id([*data.get("records", {}).get("pipeline", []), *turns])
    return out


def _by_id(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): r for r in records}


def change(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    if not old["correct"] and new["correct"]:
        return "fixed"
    if old["correct"] and not new["correct"]:
        return "broken"
    if old.get("answer") != new.get("answer") or old["abstained"] != new["abstained"]:
        return "changed answer"
    return None


def delta(pairs: list[tuple[dict[str, Any], dict[str, Any]]], metric: str) -> dict[str, Any]:
    """Paired delta of one rate of metrics.RATES over the questions of `pairs` it applies to."""
    key, subset = RATES[metric]
    values = [(o.get(key), n.get(key)) for o, n in pairs
              if subset == "all" or n["answerable"] == (subset == "answerable")]
    values = [(float(o), float(n)) for o, n in values if o is not None and n is not None]
    if not values:
        return {"n": 0, "old": None, "new": None, "delta": None, "ci": None}
    old, new = [v[0] for v in values], [v[1] for v in values]
    interval = paired_delta_interval(old, new)
    mean_old, mean_new = sum(old) / len(old), sum(new) / len(new)
    return {"n": len(values), "old": round(mean_old, 4), "new": round(mean_new, 4),
            "delta": round(mean_new - mean_old, 4), "ci": list(interval) if interval else None}


def compare_split(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> dict[str, Any]:
    common = [i for i in new if i in old]
    pairs = [(old[i], new[i]) for i in common]
    changes: dict[str, list[dict[str, Any]]] = {"fixed": [], "broken": [], "changed answer": []}
    for i in common:
        kind = change(old[i], new[i])
        if kind:
            changes[kind].append({"id": i, "category": new[i]["category"], "lang": new[i]["lang"],
                                  "question": new[i].get("question", ""),
                                  "old_answer": _short(old[i]), "new_answer": _short(new[i])})
    groups: dict[str, dict[str, Any]] = {}
    for dim in ("category", "lang", "kind"):
        values = sorted({str(n[dim]) for _, n in pairs if n.get(dim)})
        if values:
            groups[dim] = {v: delta([p for p in pairs if str(p[1].get(dim)) == v], GROUP_METRIC) for v in values}
    return {"n_common": len(common), "added": [i for i in new if i not in old],
            "removed": [i for i in old if i not in new], "changes": changes,
            "overall": {m: delta(pairs, m) for m in OVERALL_METRICS}, "by": groups}


def _short(r: dict[str, Any]) -> str:
    text = " ".join(str(r.get("answer", "")).split())
    text = text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS - 1] + "…"
    return ("(abstained) " if r["abstained"] else "") + text


def compare_reports(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    old_recs, new_recs = pipeline_records(old), pipeline_records(new)
    if set(old_recs) != set(new_recs) and len(old_recs) == 1 == len(new_recs):
        old_recs = {next(iter(new_recs)): next(iter(old_recs.values()))}  # e.g. an old one-split report
    runs = {label: {"created_at": r.get("created_at"), "index_version": r.get("index_version")}
            for label, r in (("old", old), ("new", new))}
    return {"old": runs["old"], "new": runs["new"],
            "splits": {s: compare_split(old_recs[s], new_recs[s]) for s in new_recs if s in old_recs},
            "splits_only_old": sorted(set(old_recs) - set(new_recs)),
            "splits_only_new": sorted(set(new_recs) - set(old_recs))}


def _signed(d: dict[str, Any]) -> str:
    if d["delta"] is None:
        return "–"
    ci = d["ci"]
    marker = " *" if ci and (ci[0] > 0 or ci[1] < 0) else ""
    return f"{d['delta']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]{marker}" if ci else f"{d['delta']:+.3f}"


def _row(label: str, d: dict[str, Any]) -> str:
    old, new = ("–" if v is None else f"{v:.3f}" for v in (d["old"], d["new"]))
    return f"| {label} | {d['n']} | {old} | {new} | {_signed(d)} |"


def _table(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    return [f"| {title} | n | old | new | delta [95% interval] |", "|---|---|---|---|---|",
            *(_row(k, d) for k, d in rows.items()), ""]


def counts_line(split: dict[str, Any]) -> str:
    c = split["changes"]
    return (f"{split['n_common']} questions in both runs: {len(c['fixed'])} fixed, {len(c['broken'])} broken, "
            f"{len(c['changed answer'])} with a changed answer; {len(split['added'])} new, "
            f"{len(split['removed'])} gone.")


def render_markdown(result: dict[str, Any]) -> str:
    o, n = result["old"], result["new"]
    parts = ["# Comparison of two evaluation runs\n",
             f"Old: {o['created_at']} (index {o['index_version']}). New: {n['created_at']} "
             f"(index {n['index_version']}). Pipeline only; * = the 95% interval of the delta excludes 0.\n"]
    for name, split in result["splits"].items():
        parts += [f"## Split: {name}\n", counts_line(split) + "\n", *_table("metric", split["overall"])]
        for dim, rows in split["by"].items():
            parts += _table(f"{GROUP_METRIC} by {dim}", rows)
        for kind, items in split["changes"].items():
            if items:
                parts.append(f"### {kind.capitalize()} ({len(items)})\n")
                parts += [f"- **{c['id']}** ({c['lang']}, {c['category']}): {c['question']}\n"
                          f"  - old: {c['old_answer']}\n  - new: {c['new_answer']}" for c in items]
                parts.append("")
    for label, key in (("only in the old run", "splits_only_old"), ("only in the new run", "splits_only_new")):
        if result[key]:
            parts.append(f"Splits {label}: {', '.join(result[key])}.")
    return "\n".join(parts) + "\n"


def write_comparison(old_path: Path, new_path: Path, out: Path) -> dict[str, Any]:
    """compare.json and compare.md in `out`; returns the comparison with `paths` and `markdown_summary`."""
    result = compare_reports(load_report(old_path), load_report(new_path))
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "compare.json", "markdown": out / "compare.md"}
    paths["json"].write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(result), encoding="utf-8")
    summary = [f"{name} split: {counts_line(s)}\n\n" + "\n".join(_table("metric", s["overall"]))
               for name, s in result["splits"].items()]
    return result | {"paths": paths, "markdown_summary": "\n\n".join(summary) or "no split in common"}
