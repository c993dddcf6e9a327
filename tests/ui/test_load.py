"""50 simulated visitors for 60 s against the served app with the real bot, through its HTTP API.

Bounded in count and time, loopback only. Checks: no errors, no lost feedback, bounded memory.
The figures are written to tests/artifacts/load.json (they are reported, not asserted as targets).
"""

from __future__ import annotations

import json
import resource
import sqlite3
from pathlib import Path

import pytest

from evaluation.loadtest import run_load

QUESTIONS = ["Wer darf sich bewerben?", "Who pays for the silver label?", "Welche Kriterien gelten?",
             "How many members does go-cluster have?", "Wie hoch ist der Mitgliedsbeitrag?",
             "Is a prior telephone consultation recommended?", "Was bietet die Mitgliedschaft?"]


@pytest.fixture(scope="module")
def app_bot(real_bot):
    return real_bot


@pytest.mark.slow
@pytest.mark.load
def test_fifty_users_for_a_minute(running_app) -> None:
    app = running_app
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = run_load(app.url, QUESTIONS, users=50, seconds=60)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with sqlite3.connect(app.settings.feedback_db) as db:
        rows = db.execute("SELECT COUNT(*) FROM feedback WHERE comment LIKE 'load %'").fetchone()[0]
    summary = result.summary() | {"peak_rss_mb_before": round(rss_before), "peak_rss_mb_after": round(rss_after),
                                  "feedback_rows": rows}
    artifacts = Path(__file__).parent.parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "load.json").write_text(json.dumps(summary, indent=2))
    print(summary)
    assert result.errors == [], result.errors[:5]
    assert result.requests > 50
    assert rows == result.feedback_sent, "feedback lost (or duplicated) under load"
    assert rss_after - rss_before < 1024, "memory grew by more than 1 GB under load"
