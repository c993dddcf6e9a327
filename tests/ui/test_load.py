"""50 simulated visitors for 60 s against the served public app with the real bot, through its HTTP API,
while the staff app runs beside it (a logged-in office user downloads an export every 2 s).

Bounded in count and time, loopback only. Checks: no errors, no lost feedback, bounded memory.
The figures are written to tests/artifacts/load.json (they are reported, not asserted as targets).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import STAFF_PASSWORD, STAFF_USER

from evaluation.loadtest import run_load

QUESTIONS = ["Wer darf sich bewerben?", "Who pays for the silver label?", "Welche Kriterien gelten?",
             "How many members does go-cluster have?", "Wie hoch ist der Mitgliedsbeitrag?",
             "Is a prior telephone consultation recommended?", "Was bietet die Mitgliedschaft?"]


@pytest.fixture(scope="module")
def app_bot(real_bot):
    return real_bot


class StaffUser:
    """Logs in to the staff app and downloads the CSV of all feedback every 2 s until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.exports = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        form = urllib.parse.urlencode({"username": STAFF_USER, "password": STAFF_PASSWORD}).encode()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        try:
            opener.open(f"{self.url}login", data=form, timeout=30).read()
            while not self.stop.wait(2.0):
                with opener.open(f"{self.url}exports/all.csv", timeout=60) as response:
                    response.read()
                self.exports += 1
        except Exception as exc:  # counted, reported, asserted empty
            self.errors.append(f"{exc.__class__.__name__}: {exc}"[:200])


@pytest.mark.slow
@pytest.mark.load
def test_fifty_users_for_a_minute(running_app, staff_app) -> None:
    app = running_app
    office = StaffUser(staff_app.url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    office.thread.start()
    result = run_load(app.url, QUESTIONS, users=50, seconds=60)
    office.stop.set()
    office.thread.join(60)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with sqlite3.connect(app.settings.feedback_db) as db:
        rows = db.execute("SELECT COUNT(*) FROM feedback WHERE comment LIKE 'load %'").fetchone()[0]
    summary = result.summary() | {"peak_rss_mb_before": round(rss_before), "peak_rss_mb_after": round(rss_after),
                                  "feedback_rows": rows, "staff_exports": office.exports,
                                  "staff_errors": len(office.errors)}
    artifacts = Path(__file__).parent.parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "load.json").write_text(json.dumps(summary, indent=2))
    print(summary)
    assert result.errors == [], result.errors[:5]
    assert result.requests > 50
    assert rows == result.feedback_sent, "feedback lost (or duplicated) under load"
    assert office.errors == [] and office.exports > 0
    assert rss_after - rss_before < 1024, "memory grew by more than 1 GB under load"
