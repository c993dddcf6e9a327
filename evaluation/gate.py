"""The evaluation gate: the pipeline's figures on the test split against the targets in thresholds.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

THRESHOLDS = Path(__file__).with_name("thresholds.toml")
GATED_SPLIT = "test"


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def check_gate(report: dict[str, Any], thresholds: dict[str, Any], split: str = GATED_SPLIT,
               section: str = "gate") -> list[str]:
    """Every bound of one section of the file (`gate`: what fails the build; `targets`: what the office
    needs, reported) against the pipeline on the gated split and its conversations.

    `[<section>.pipeline] metric = {min = x}` reads the split's overall figures, where x is a number or the
    name of a baseline measured in the same run ("langchain": at least the plain recipe's figure);
    `[<section>.conversations.<kind>]` the figures of that kind of turn. A figure that was not measured
    fails: a missing test set passes nothing.
    """
    data = report["splits"].get(split)
    if data is None:
        return [f"the {split} split was not evaluated"]
    bounds = thresholds.get(section, {})
    systems = {name: s.get("overall", {}) for name, s in data["systems"].items()}
    failures = _check(bounds.get("pipeline", {}), systems.get("pipeline", {}), split, systems)
    by_kind = (data.get("conversations") or {}).get("summary", {}).get("by", {}).get("kind", {})
    for kind, kind_bounds in bounds.get("conversations", {}).items():
        failures += _check(kind_bounds, by_kind.get(kind, {}), f"{split} conversations, {kind}", systems)
    return failures


def _check(bounds: dict[str, Any], figures: dict[str, Any], where: str,
           systems: dict[str, dict[str, Any]]) -> list[str]:
    failures = []
    for metric, bound in bounds.items():
        value = figures.get(metric)
        if value is None:
            failures.append(f"{where}: {metric} not measured")
            continue
        for side in ("min", "max"):
            if side not in bound:
                continue
            limit, label = bound[side], str(bound[side])
            if isinstance(limit, str):  # a baseline of the same run
                limit = systems.get(limit, {}).get(metric)
                if limit is None:
                    failures.append(f"{where}: {metric} of {label} not measured")
                    continue
                label = f"{label}'s {limit:.3f}"
            if (side == "min" and value < limit) or (side == "max" and value > limit):
                failures.append(f"{where}: {metric} = {value:.3f} {'<' if side == 'min' else '>'} {label}")
    return failures
