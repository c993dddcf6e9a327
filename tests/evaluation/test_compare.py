"""`eval --compare` on two tiny hand-made reports: per-question changes, paired deltas, files, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.compare import compare_reports, load_report, write_comparison
from indexer.errors import FaqError

CLI = str(Path(sys.executable).with_name("gocluster-faq"))


def rec(id, category, correct, answer, abstained=False, answerable=True, lang="de", **rest):
    return {"id": id, "lang": lang, "category": category, "answerable": answerable, "correct": correct,
            "abstained": abstained, "answer": answer, "question": f"question {id}", **rest}


OLD_RECORDS = [
    rec("a", "facts", False, "falsch", hit5=False),         # fixed in the new run
    rec("b", "facts", True, "81 Mitglieder", hit5=True),    # broken in the new run
    rec("c", "costs", True, "kostenlos", hit5=True),        # same verdict, other text
    rec("d", "costs", True, "gleich", hit5=True),           # unchanged
    rec("u", "unanswerable", True, "Keine Angabe.", abstained=True, answerable=False),  # unchanged
    rec("gone", "facts", True, "x"),                        # only in the old run
]
NEW_RECORDS = [
    rec("a", "facts", True, "richtig", hit5=True),
    rec("b", "facts", False, "72 Mitglieder", hit5=True),
    rec("c", "costs", True, "kostenlos, sagt die Seite", hit5=True),
    rec("d", "costs", True, "gleich", hit5=True),
    rec("u", "unanswerable", True, "Keine Angabe.", abstained=True, answerable=False),
    rec("new", "facts", False, "y"),                        # only in the new run
]
OLD_TURNS = [rec("conv-1/2", "costs", True, "Das Ministerium.", kind="follow-up")]
NEW_TURNS = [rec("conv-1/2", "costs", False, "Keine Angabe.", abstained=True, kind="follow-up")]


def report(created: str, records: list[dict], turns: list[dict]) -> dict:
    return {"created_at": created, "index_version": created[:4],
            "splits": {"test": {"records": {"pipeline": records, "bm25": []},
                                "conversations": {"records": turns}}}}


OLD = report("2026-11-01", OLD_RECORDS, OLD_TURNS)
NEW = report("2026-12-01", NEW_RECORDS, NEW_TURNS)


@pytest.fixture
def result():
    return compare_reports(OLD, NEW)["splits"]["test"]


def test_per_question_changes(result):
    changes = result["changes"]
    assert [c["id"] for c in changes["fixed"]] == ["a"]
    assert [c["id"] for c in changes["broken"]] == ["b", "conv-1/2"]  # conversation turns are compared too
    assert [c["id"] for c in changes["changed answer"]] == ["c"]
    assert changes["broken"][1]["new_answer"] == "(abstained) Keine Angabe."
    assert changes["broken"][0]["old_answer"] == "81 Mitglieder"
    assert result["added"] == ["new"] and result["removed"] == ["gone"] and result["n_common"] == 6


def test_overall_deltas_are_paired_over_the_common_questions(result):
    acc = result["overall"]["accuracy"]
    # common: a b c d u conv: old 0 1 1 1 1 1 = 5/6, new 1 0 1 1 1 0 = 4/6
    assert acc["n"] == 6 and acc["old"] == pytest.approx(5 / 6, abs=1e-4) and acc["new"] == pytest.approx(4 / 6,
                                                                                                           abs=1e-4)
    assert acc["delta"] == pytest.approx(-1 / 6, abs=1e-4)
    lo, hi = acc["ci"]
    assert lo < acc["delta"] < hi and lo >= -1 and hi <= 1
    hit5 = result["overall"]["hit@5"]  # answerable with hit5 in both: a b c d
    assert (hit5["n"], hit5["old"], hit5["new"], hit5["delta"]) == (4, 0.75, 1.0, 0.25)
    cab = result["overall"]["correct_abstention_rate"]
    assert (cab["n"], cab["delta"], cab["ci"]) == (1, 0.0, [0.0, 0.0])


def test_per_category_deltas(result):
    by_cat = result["by"]["category"]
    assert by_cat["facts"]["delta"] == 0.0  # a fixed, b broken
    assert by_cat["costs"]["n"] == 3 and by_cat["costs"]["delta"] == pytest.approx(-1 / 3, abs=1e-4)
    assert by_cat["unanswerable"]["ci"] == [0.0, 0.0]
    assert list(result["by"]["kind"]) == ["follow-up"] and result["by"]["kind"]["follow-up"]["ci"] == [-1.0, -1.0]


def test_write_comparison_writes_json_and_markdown(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(OLD), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(NEW), encoding="utf-8")
    out = tmp_path / "cmp"
    result = write_comparison(tmp_path / "old", tmp_path / "new.json", out)  # a folder or the file itself
    data = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert data["splits"]["test"]["changes"]["fixed"][0]["id"] == "a"
    assert data["old"] == {"created_at": "2026-11-01", "index_version": "2026"}
    md = (out / "compare.md").read_text(encoding="utf-8")
    assert "6 questions in both runs: 1 fixed, 2 broken, 1 with a changed answer; 1 new, 1 gone." in md
    assert "### Broken (2)" in md and "  - old: 81 Mitglieder\n  - new: 72 Mitglieder" in md
    assert "| follow-up | 1 | 1.000 | 0.000 | -1.000 [-1.000, -1.000] * |" in md  # * : the interval excludes 0
    assert "| facts | 2 | 0.500 | 0.500 | +0.000 [" in md and result["paths"]["json"] == out / "compare.json"


def test_an_old_report_without_splits_compares_with_a_one_split_report():
    legacy = {"created_at": "2026-10-01", "records": {"pipeline": OLD_RECORDS}}
    result = compare_reports(legacy, NEW)
    assert [c["id"] for c in result["splits"]["test"]["changes"]["fixed"]] == ["a"]


def test_bad_report_paths_are_one_line_errors(tmp_path):
    with pytest.raises(FaqError, match="No evaluation report at"):
        load_report(tmp_path / "nothing")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(FaqError, match="not a readable evaluation report"):
        load_report(tmp_path / "broken.json")
    (tmp_path / "other.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(FaqError, match="not an evaluation report"):
        load_report(tmp_path / "other.json")


def test_cli_compare(tmp_path):
    for name, data in (("old.json", OLD), ("new.json", NEW)):
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    proc = subprocess.run([CLI, "eval", "--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json"),
                           "--out", str(tmp_path / "cmp")], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "test split: 6 questions in both runs: 1 fixed, 2 broken" in proc.stdout
    assert (tmp_path / "cmp" / "compare.json").is_file() and (tmp_path / "cmp" / "compare.md").is_file()
    missing = subprocess.run([CLI, "eval", "--compare", str(tmp_path / "none.json"), str(tmp_path / "new.json"),
                              "--out", str(tmp_path / "cmp")], capture_output=True, text=True, timeout=120,
                             check=False)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("error: No evaluation report at") and missing.stderr.count("\n") == 1


def test_cli_compare_without_out_writes_where_the_staff_app_reads(tmp_path):
    for name, data in (("old.json", OLD), ("new.json", NEW)):
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, "GOCLUSTER_EVAL_DIR": str(tmp_path / "latest")}
    proc = subprocess.run([CLI, "eval", "--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")],
                          capture_output=True, text=True, timeout=120, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "1 fixed, 2 broken" in (tmp_path / "latest" / "compare.md").read_text(encoding="utf-8")
