"""The staff app's evaluation tab reads the latest comparison afresh, bounded, and says when there is none."""

from __future__ import annotations

import json
import os
from pathlib import Path

from evaluation.compare import write_comparison
from ui.evaluation_tab import MAX_CHARS, EvaluationHandlers


def test_without_a_comparison_it_says_how_to_make_one(tmp_path: Path) -> None:
    assert "gocluster-faq eval --compare" in EvaluationHandlers(tmp_path / "none").latest("en")
    assert "Noch kein Vergleich" in EvaluationHandlers(tmp_path).latest("de")


def test_it_shows_the_comparison_the_cli_wrote_with_its_time(tmp_path: Path) -> None:
    record = {"id": "a", "category": "facts", "lang": "de", "answerable": True, "abstained": False,
              "correct": False, "answer": "72 Mitglieder", "question": "Wie viele Mitglieder?"}
    for name, correct in (("old.json", False), ("new.json", True)):
        report = {"created_at": "2026-12-01", "index_version": "v", "splits": {"test": {
            "records": {"pipeline": [record | {"correct": correct}]}, "conversations": []}}}
        (tmp_path / name).write_text(json.dumps(report), encoding="utf-8")
    write_comparison(tmp_path / "old.json", tmp_path / "new.json", tmp_path / "eval")
    os.utime(tmp_path / "eval" / "compare.md", (1_764_590_400, 1_764_590_400))  # 2025-12-01 12:00 UTC
    shown = EvaluationHandlers(tmp_path / "eval").latest("en")
    assert shown.startswith("_As of 2025-12-01 12:00 (UTC)_") and "1 fixed" in shown


def test_a_huge_or_odd_file_is_cut_or_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "compare.md").write_text("x" * (MAX_CHARS + 5000), encoding="utf-8")
    shown = EvaluationHandlers(tmp_path).latest("de")
    assert len(shown) < MAX_CHARS + 200 and shown.endswith("(gekürzt: die vollständige Fassung steht in compare.md)")
    odd = tmp_path / "odd"
    (odd / "compare.md").mkdir(parents=True)  # a folder where the file should be
    shown = EvaluationHandlers(odd).latest("en")
    assert shown == "⚠️ The latest comparison cannot be read." and str(odd) not in shown
