"""FeedbackStore against a real SQLite file: rows, exports, WAL, concurrency, failures."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from bot.feedback import COLUMNS, MAX_COMMENT_CHARS, SCHEMA_VERSION, FeedbackStore, FeedbackUnavailable
from bot.results import Answer, Citation

PROJECT = Path(__file__).resolve().parents[2]


def make_answer(text: str = "Jedes Innovationscluster kann sich bewerben [1].", *, abstained: bool = False,
                question: str = "Wer kann sich bewerben?") -> Answer:
    citations = [] if abstained else [
        Citation(n=1, chunk_id="abc123", source="a.txt", title="A", page=2, section="Aufnahme", date="2023",
                 date_label="Stand 2023", language="de", quote="Jedes Innovationscluster ...", score=0.9)]
    return Answer(question=question, text=text, language="de", abstained=abstained, citations=citations,
                  index_version="v1")


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "var" / "feedback.sqlite3")


def test_record_and_read_back(store: FeedbackStore) -> None:
    row_id = store.record("Wer kann sich bewerben?", make_answer(), -1, "zu knapp")
    store.record("Gut?", make_answer(), 1)
    [row] = store.recent_negative()
    assert row["id"] == row_id
    assert row["question"] == "Wer kann sich bewerben?"
    assert row["comment"] == "zu knapp"
    assert row["cited_chunk_ids"] == '["abc123"]'
    assert (row["index_version"], row["abstained"], row["language"], row["rating"]) == ("v1", 0, "de", -1)
    assert row["created_at"].endswith("+00:00")
    assert store.count() == 2


def test_index_version_falls_back_to_the_bots(store: FeedbackStore) -> None:
    answer = make_answer()
    answer.index_version = ""
    store.record("q", answer, -1, index_version="bot-v2")
    assert store.recent_negative()[0]["index_version"] == "bot-v2"


def test_rating_must_be_a_thumb_or_zero(store: FeedbackStore) -> None:
    with pytest.raises(ValueError):
        store.record("q", make_answer(), 5)


def test_rerate_and_withdraw(store: FeedbackStore) -> None:
    row_id = store.record("q", make_answer(), -1)
    gap_id = store.record_unanswered("Wetter?", make_answer("nichts", abstained=True))
    store.rerate(row_id, 1)
    assert store.recent_negative() == [] and store.count() == 2
    store.withdraw(row_id)
    store.withdraw(gap_id)  # logged gaps are not thumbs: they stay
    assert store.count() == 1 and store.content_gaps()[0]["question"] == "Wetter?"
    with pytest.raises(ValueError):
        store.rerate(gap_id, 0)


def test_content_gaps_group_abstained_questions(store: FeedbackStore) -> None:
    gap = make_answer("Dazu enthalten die Dokumente nichts.", abstained=True, question="Wie wird das Wetter?")
    store.record_unanswered("Wie wird das Wetter?", gap)
    store.record_unanswered("wie wird das wetter? ", gap)
    store.record("Wie wird das Wetter?", gap, -1)
    store.record("Wer kann sich bewerben?", make_answer(), -1)
    [row] = store.content_gaps()
    assert (row["times"], row["thumbs_down"]) == (3, 1)
    assert row["question"].lower().startswith("wie wird das wetter")
    assert len(store.recent_negative()) == 2  # the thumb on the gap counts as negative too


def test_comment_is_capped_and_control_characters_stripped(store: FeedbackStore) -> None:
    row_id = store.record("q\x00uestion", make_answer(), -1, "a\x07b\u202ec\nd" + "x" * 5_000)
    row = store.recent_negative()[0]
    assert row["question"] == "question"
    assert row["comment"].startswith("abc\nd")
    assert len(row["comment"]) == MAX_COMMENT_CHARS
    store.add_comment(row_id, "<script>alert(1)</script>\x1b[31m")
    assert store.recent_negative()[0]["comment"] == "<script>alert(1)</script>[31m"


def test_export_csv_kinds(store: FeedbackStore, tmp_path: Path) -> None:
    store.record("Frage eins", make_answer(), -1, "=HYPERLINK(\"http://x\")")
    store.record("Frage zwei", make_answer(), 1)
    store.record_unanswered("Wetter?", make_answer("nichts", abstained=True))
    counts = {}
    for kind in ("negative", "gaps", "all"):
        path = store.export_csv(tmp_path / f"{kind}.csv", kind=kind)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0]) == list(COLUMNS)
        counts[kind] = len(rows)
        if kind == "negative":
            assert rows[0]["comment"].startswith("'=")  # no formula for spreadsheet programs
            assert rows[0]["question"] == "Frage eins"
    assert counts == {"negative": 1, "gaps": 1, "all": 3}


def test_wal_mode_and_schema_version(store: FeedbackStore) -> None:
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_schema_creation_is_idempotent(store: FeedbackStore) -> None:
    store.record("q", make_answer(), 1)
    again = FeedbackStore(store.db_path)
    assert again.count() == 1


def test_no_column_could_hold_an_ip_address_or_user_agent(store: FeedbackStore) -> None:
    with sqlite3.connect(store.db_path) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(feedback)")}
    assert columns == set(COLUMNS)
    for forbidden in ("ip", "addr", "host", "agent", "user", "session", "cookie", "email", "name"):
        assert not any(forbidden in c.lower() for c in columns), forbidden


def test_concurrent_writers_lose_nothing(store: FeedbackStore) -> None:
    threads, per_thread = 20, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                row_id = store.record(f"Frage {n}-{i}", make_answer(), -1 if i % 2 else 1, f"t{n}")
                with lock:
                    ids.append(row_id)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert errors == []
    assert store.count() == threads * per_thread == 500
    assert len(set(ids)) == 500
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("SELECT COUNT(DISTINCT question) FROM feedback").fetchone()[0] == 500


def test_locked_database_raises_feedback_unavailable(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3", busy_timeout_s=0.1, retries=1)
    holder = sqlite3.connect(store.db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FeedbackUnavailable, match="cannot be written"):
            store.record("q", make_answer(), -1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.record("q", make_answer(), -1) == 1  # works again once the lock is gone


def test_unusable_folder_does_not_crash_the_constructor(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = FeedbackStore(blocker / "feedback.sqlite3")  # logs a warning, does not raise
    with pytest.raises(FeedbackUnavailable):
        store.record("q", make_answer(), -1)


READ_ONLY_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from bot.feedback import FeedbackStore, FeedbackUnavailable
    from bot.results import Answer
    store = FeedbackStore(Path(sys.argv[1]), busy_timeout_s=0.1, retries=1)
    try:
        store.record("q", Answer(question="q", text="a", language="de", abstained=False), -1)
    except FeedbackUnavailable as exc:
        print("unavailable:", exc)
    else:
        print("written")
""")


def _unprivileged_python() -> tuple[str, str | None]:
    """(interpreter, user) for the read-only check: root ignores file modes, so as root the check
    runs as `nobody`, with an interpreter that user can execute (the project needs only the stdlib here)."""
    if os.geteuid() != 0:
        return sys.executable, None
    for candidate in (sys.executable, "/usr/bin/python3"):
        try:
            probe = subprocess.run([candidate, "-c", "import bot.feedback"], cwd=PROJECT, user="nobody",
                                   capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return candidate, "nobody"
    pytest.skip("running as root and no Python 3.11+ that the user nobody can run on the project")


def test_read_only_database_raises_feedback_unavailable() -> None:
    python, user = _unprivileged_python()
    folder = Path(tempfile.mkdtemp(prefix="feedback-ro-"))
    db = folder / "feedback.sqlite3"
    FeedbackStore(db).record("q", make_answer(), 1)
    for extra in folder.glob("feedback.sqlite3-*"):  # leave only the main file, as a copied backup would
        extra.unlink()
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        result = subprocess.run([python, "-c", READ_ONLY_SCRIPT, str(db)], cwd=PROJECT, user=user,
                                capture_output=True, text=True, timeout=60, check=False)
    finally:
        folder.chmod(0o755)
    count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    shutil.rmtree(folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("unavailable:"), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert count == 1
