"""PNG plots for the evaluation report (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_accuracy(systems: dict[str, Any], path: Path) -> Path:
    groups = [("lang", v) for v in sorted(next(iter(systems.values()))["by"]["lang"])]
    groups += [("category", v) for v in sorted(next(iter(systems.values()))["by"]["category"])]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    width = 0.8 / len(systems)
    for i, (name, summary) in enumerate(systems.items()):
        values = [summary["by"][dim].get(v, {}).get("accuracy") or 0 for dim, v in groups]
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(groups))], [v for _, v in groups], rotation=45,
                  ha="right")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("Answer accuracy by language and category")
    ax.legend()
    return _save(fig, path)


def plot_hit_curves(records: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, recs in records.items():
        curves = [r["hit_curve"] for r in recs if r.get("hit_curve")]
        if curves:
            ks = range(1, len(curves[0]) + 1)
            ax.plot(ks, [sum(c[k - 1] for c in curves) / len(curves) for k in ks], marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("hit@k")
    ax.set_ylim(0, 1)
    ax.set_title("Retrieval hit@k (answerable questions)")
    ax.legend()
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
