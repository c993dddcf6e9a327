"""The evaluation gate: the pipeline's figures on the test split against the targets in thresholds.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

THRESHOLDS = Path(__file__).with_name("thresholds.toml")
GATED_SPLIT = "test"


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def check_gate(report: dict[str, Any], thresholds: dict[str, Any], split: str = GATED_SPLIT) -> list[str]:
    """Every bound of the file against the pipeline on the gated split and its conversations.

    `[pipeline] metric = {min = x}` reads the split's overall figures; `[conversations.<kind>]` the
    figures of that kind of turn. A figure that was not measured fails: a missing test set passes nothing.
    """
    data = report["splits"].get(split)
    if data is None:
        return [f"the {split} split was not evaluated"]
    failures = _check(thresholds.get("pipeline", {}), data["systems"].get("pipeline", {}).get("overall", {}),
                      split)
    by_kind = (data.get("conversations") or {}).get("summary", {}).get("by", {}).get("kind", {})
    for kind, bounds in thresholds.get("conversations", {}).items():
        failures += _check(bounds, by_kind.get(kind, {}), f"{split} conversations, {kind}")
    return failures


def _check(bounds: dict[str, Any], figures: dict[str, Any], where: str) -> list[str]:
    failures = []
    for metric, bound in bounds.items():
        value = figures.get(metric)
        if value is None:
            failures.append(f"{where}: {metric} not measured")
        elif "min" in bound and value < bound["min"]:
            failures.append(f"{where}: {metric} = {value:.3f} < {bound['min']}")
        elif "max" in bound and value > bound["max"]:
            failures.append(f"{where}: {metric} = {value:.3f} > {bound['max']}")
    return failures
