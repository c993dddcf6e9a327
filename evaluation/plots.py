"""PNG plots for the evaluation report (matplotlib, no display needed); rates carry 95% error bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from evaluation.bootstrap import rate_interval


def _errors(values: list[float], intervals: list[Any]) -> list[list[float]]:
    """matplotlib's yerr: distances below and above each value (0 where there is no interval)."""
    below = [v - ci[0] if ci else 0.0 for v, ci in zip(values, intervals, strict=True)]
    above = [ci[1] - v if ci else 0.0 for v, ci in zip(values, intervals, strict=True)]
    return [[max(b, 0.0) for b in below], [max(a, 0.0) for a in above]]


def _bars(ax: Any, figures: list[dict[str, Any]], key: str, xs: list[float], width: float, label: str) -> None:
    values = [f.get(key) or 0.0 for f in figures]
    intervals = [(f.get("ci") or {}).get(key) for f in figures]
    ax.bar(xs, values, width, yerr=_errors(values, intervals), capsize=2, label=label)


def plot_accuracy(systems: dict[str, Any], path: Path) -> Path:
    first = next(iter(systems.values()))["by"]
    groups = [("lang", v) for v in sorted(first["lang"])] + [("category", v) for v in sorted(first["category"])]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    width = 0.8 / len(systems)
    for i, (name, summary) in enumerate(systems.items()):
        figures = [summary["by"][dim].get(v, {}) for dim, v in groups]
        _bars(ax, figures, "accuracy", [x + i * width for x in range(len(groups))], width, name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(groups))], [v for _, v in groups], rotation=45,
                  ha="right")
    ax.set_ylabel("accuracy (95% interval)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Answer accuracy by language and category")
    ax.legend()
    return _save(fig, path)


def plot_hit_curves(records: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    curves_by_label = {name: [r["hit_curve"] for r in recs if r.get("hit_curve")] for name, recs in records.items()}
    reference = [r["ref_hit_curve"] for r in records.get("pipeline", []) if r.get("ref_hit_curve")]
    if reference:
        curves_by_label["pipeline reference (k=10)"] = reference
    for label, curves in curves_by_label.items():
        if not curves:
            continue
        ks = list(range(1, len(curves[0]) + 1))
        values = [sum(c[k - 1] for c in curves) / len(curves) for k in ks]
        intervals = [rate_interval([c[k - 1] for c in curves]) for k in ks]
        ax.errorbar(ks, values, yerr=_errors(values, intervals), marker="o", capsize=2, label=label)
    ax.set_xlabel("k")
    ax.set_ylabel("hit@k (95% interval)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Retrieval hit@k (answerable questions)")
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_conversations(summary: dict[str, Any], path: Path) -> Path:
    groups = [("kind", v) for v in sorted(summary["by"]["kind"])] + [("lang", v) for v in sorted(summary["by"]["lang"])]
    fig, ax = plt.subplots(figsize=(6, 4))
    _bars(ax, [summary["by"][dim][v] for dim, v in groups], "accuracy", list(range(len(groups))), 0.6, "pipeline")
    ax.set_xticks(range(len(groups)), [v for _, v in groups])
    ax.set_ylabel("accuracy (95% interval)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Conversation turns: accuracy by kind and language")
    return _save(fig, path)


def plot_latency(records: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, recs in records.items():
        ax.hist([r["latency_ms"] for r in recs], bins=30, alpha=0.5, label=name)
    ax.set_xlabel("answer time (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    ax.legend()
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
