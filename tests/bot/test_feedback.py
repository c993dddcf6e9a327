"""FeedbackStore against a real SQLite file and a real PostgreSQL server: rows, bounds, exports, migrations,
concurrency, failures. The PostgreSQL cases need GOCLUSTER_TEST_POSTGRES_URL (.ci/run sets it)."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.feedback import (
    COLUMNS,
    MAX_CITED_IDS,
    MAX_COMMENT_CHARS,
    MAX_QUESTION_CHARS,
    SCHEMA_VERSION,
    FeedbackError,
    FeedbackStore,
    FeedbackUnavailable,
)
from bot.feedback_schema import database_url
from bot.results import Answer, Citation
from indexer.errors import FaqError

PROJECT = Path(__file__).resolve().parents[2]


def make_answer(text: str = "Jedes Innovationscluster kann sich bewerben [1].", *, abstained: bool = False,
                question: str = "Wer kann sich bewerben?", chunk_ids: tuple[str, ...] = ("abc123",),
                language: str = "de") -> Answer:
    citations = [] if abstained else [
        Citation(n=n, chunk_id=cid, source="a.txt", title="A", page=2, section="Aufnahme", date="2023",
                 date_label="Stand 2023", language="de", quote="Jedes Innovationscluster ...", score=0.9)
        for n, cid in enumerate(chunk_ids, start=1)]
    return Answer(question=question, text=text, language=language, abstained=abstained, citations=citations,
                  index_version="v1")


def target_of(store: FeedbackStore) -> str:
    return str(store._target)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeedbackStore]:
    """The same tests on both back ends: a SQLite file and a fresh PostgreSQL database."""
    target = tmp_path / "var" / "feedback.sqlite3" if request.param == "sqlite" else request.getfixturevalue(
        "postgres_url")
    s = FeedbackStore(target)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "var" / "feedback.sqlite3")


def test_record_and_read_back(store: FeedbackStore) -> None:
    row_id = store.record("Wer kann sich bewerben?", make_answer(), -1, "zu knapp")
    follow_id = store.record("Und was kostet das?", make_answer(), 1, follows="Wer kann sich bewerben?")
    [row] = store.recent_negative()
    assert row["id"] == row_id and follow_id != row_id
    assert row["question"] == "Wer kann sich bewerben?"
    assert row["comment"] == "zu knapp"
    assert row["cited_chunk_ids"] == '["abc123"]'
    assert (row["index_version"], row["abstained"], row["language"], row["rating"]) == ("v1", 0, "de", -1)
    assert row["follows"] is None
    assert row["created_at"].endswith("+00:00")
    assert store.count() == 2
    assert [r["follows"] for r in store.rows()] == [None, "Wer kann sich bewerben?"]


def test_index_version_falls_back_to_the_bots(store: FeedbackStore) -> None:
    answer = make_answer()
    answer.index_version = ""
    store.record("q", answer, -1, index_version="bot-v2")
    assert store.recent_negative()[0]["index_version"] == "bot-v2"


@pytest.mark.parametrize("rating", [5, -2, True, "1", 1.5, None])
def test_rating_must_be_a_thumb_or_zero(store: FeedbackStore, rating: object) -> None:
    with pytest.raises(FeedbackError, match="rating must be"):
        store.record("q", make_answer(), rating)  # type: ignore[arg-type]
    assert store.count() == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, "question is too long"),
    ({"question": 42}, "question must be text"),
    ({"comment": "x" * (MAX_COMMENT_CHARS + 1)}, "comment is too long"),
    ({"text": "x" * 20_001}, "answer is too long"),
    ({"language": "fr"}, "language must be one of de, en"),
    ({"language": ""}, "language must be one of de, en"),
    ({"chunk_ids": ("abc123",) * (MAX_CITED_IDS + 1)}, f"at most {MAX_CITED_IDS} passages"),
    ({"chunk_ids": ("../../etc/passwd",)}, "not a passage id"),
    ({"chunk_ids": ("ABC",)}, "not a passage id"),
    ({"index_version": "v" * 201}, "index version is too long"),
    ({"follows": "x" * (MAX_QUESTION_CHARS + 1)}, "earlier question is too long"),
])
def test_every_field_is_bounded_inside_the_store(store: FeedbackStore, change: dict, message: str) -> None:
    answer = make_answer(text=change.get("text", "Antwort [1]."), language=change.get("language", "de"),
                         chunk_ids=change.get("chunk_ids", ("abc123",)))
    answer.index_version = change.get("index_version", "v1")
    with pytest.raises(FeedbackError, match=message) as info:
        store.record(change.get("question", "q"), answer, -1, change.get("comment", ""),
                     follows=change.get("follows", ""))
    assert isinstance(info.value, FaqError) and "\n" not in str(info.value)
    assert store.count() == 0


def test_not_an_answer_and_bad_ids_are_refused(store: FeedbackStore) -> None:
    with pytest.raises(FeedbackError, match="answer object"):
        store.record("q", {"text": "a"}, 1)  # type: ignore[arg-type]
    for bad in (0, -3, "1", True):
        with pytest.raises(FeedbackError, match="positive whole number"):
            store.add_comment(bad, "x")  # type: ignore[arg-type]
    with pytest.raises(FeedbackError, match="kind must be"):
        store.rows("everything")  # type: ignore[arg-type]


def test_rerate_and_withdraw(store: FeedbackStore) -> None:
    row_id = store.record("q", make_answer(), -1)
    gap_id = store.record_unanswered("Wetter?", make_answer("nichts", abstained=True))
    store.rerate(row_id, 1)
    assert store.recent_negative() == [] and store.count() == 2
    store.withdraw(row_id)
    store.withdraw(gap_id)  # logged gaps are not thumbs: they stay
    assert store.count() == 1 and store.content_gaps()[0]["question"] == "Wetter?"
    with pytest.raises(FeedbackError):
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


def test_control_characters_are_stripped(store: FeedbackStore) -> None:
    row_id = store.record("q\x00uestion", make_answer(), -1, "a\x07b\u202ec\nd" + "x" * 100)
    row = store.recent_negative()[0]
    assert row["question"] == "question"
    assert row["comment"] == "abc\nd" + "x" * 100
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


def test_schema_version_is_recorded_and_creation_is_idempotent(store: FeedbackStore) -> None:
    store.record("q", make_answer(), 1)
    again = FeedbackStore(store._target)
    assert again.count() == 1
    engine = create_engine(database_url(target_of(store)))
    with engine.connect() as con:
        assert con.execute(text("SELECT version FROM schema_version")).fetchall() == [(SCHEMA_VERSION,)]
    engine.dispose()
    again.close()


def test_no_column_could_hold_an_ip_address_or_user_agent(store: FeedbackStore) -> None:
    engine = create_engine(database_url(target_of(store)))
    columns = {c["name"] for c in inspect(engine).get_columns("feedback")}
    engine.dispose()
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
    assert len({r["question"] for r in store.rows()}) == 500


def test_replicas_starting_at_once_create_the_schema_once(postgres_url: str) -> None:
    stores: list[FeedbackStore] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        stores.append(FeedbackStore(postgres_url))

    workers = [threading.Thread(target=start) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert len(stores) == 4
    assert [s.record(f"q{i}", make_answer(), 1) for i, s in enumerate(stores)] == [1, 2, 3, 4]
    engine = create_engine(database_url(postgres_url))
    with engine.connect() as con:
        assert con.execute(text("SELECT version FROM schema_version")).fetchall() == [(SCHEMA_VERSION,)]
    engine.dispose()
    for s in stores:
        s.close()


def test_newer_schema_is_refused(store: FeedbackStore) -> None:
    engine = create_engine(database_url(target_of(store)))
    with engine.begin() as con:
        con.execute(text("UPDATE schema_version SET version = 99"))
    engine.dispose()
    newer = FeedbackStore(store._target)  # logs a warning, does not raise
    with pytest.raises(FeedbackUnavailable, match="schema version 99, newer than this program's"):
        newer.count()
    newer.close()


# -- SQLite only --------------------------------------------------------------------------------------
def test_sqlite_file_is_private_and_in_wal_mode(sqlite_store: FeedbackStore) -> None:
    sqlite_store.record("q", make_answer(), 1)
    assert stat.S_IMODE(sqlite_store.db_path.stat().st_mode) == 0o600
    with sqlite3.connect(sqlite_store.db_path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for extra in sqlite_store.db_path.parent.glob("feedback.sqlite3-*"):
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600, extra.name


def test_version_1_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as con:  # the schema written before SQLAlchemy (schema 1, PRAGMA user_version)
        con.executescript("""
            CREATE TABLE feedback (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, question TEXT NOT NULL,
                answer TEXT NOT NULL, rating INTEGER NOT NULL CHECK (rating IN (-1, 0, 1)),
                comment TEXT NOT NULL DEFAULT '', cited_chunk_ids TEXT NOT NULL DEFAULT '[]',
                index_version TEXT NOT NULL DEFAULT '', abstained INTEGER NOT NULL DEFAULT 0,
                language TEXT NOT NULL DEFAULT '');
            CREATE INDEX feedback_rating ON feedback (rating);
            PRAGMA user_version = 1;
            INSERT INTO feedback (created_at, question, answer, rating) VALUES ('2026-01-01', 'alt', 'a', -1);
        """)
    store = FeedbackStore(db)
    assert [(r["question"], r["follows"]) for r in store.rows()] == [("alt", None)]
    assert store.record("neu", make_answer(), 1, follows="alt") == 2
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert con.execute("SELECT follows FROM feedback WHERE id = 2").fetchone() == ("alt",)


def test_locked_database_raises_feedback_unavailable(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3", busy_timeout_s=0.1, retries=1)
    holder = sqlite3.connect(store.db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FeedbackUnavailable, match="cannot be written: busy") as info:
            store.record("q", make_answer(), -1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(tmp_path) not in str(info.value)
    assert store.record("q", make_answer(), -1) == 1  # works again once the lock is gone


def test_unusable_folder_does_not_crash_the_constructor(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = FeedbackStore(blocker / "feedback.sqlite3")  # logs a warning, does not raise
    with pytest.raises(FeedbackUnavailable) as info:
        store.record("q", make_answer(), -1)
    assert str(tmp_path) not in str(info.value)


# -- PostgreSQL URLs (no server needed) ---------------------------------------------------------------
def test_unreachable_server_is_unavailable_without_naming_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    store = FeedbackStore(f"postgresql://faq:s3cret@127.0.0.1:{port}/faq", busy_timeout_s=1, retries=0)
    with pytest.raises(FeedbackUnavailable, match="unreachable") as info:
        store.record("q", make_answer(), -1)
    assert "s3cret" not in str(info.value) and str(port) not in str(info.value)


@pytest.mark.parametrize("url", ["mysql://u:p@h/db", "postgresql://[bad", "postgresql:///db", "sqlite://"])
def test_unsupported_or_invalid_urls_are_one_line_errors(url: str) -> None:
    with pytest.raises(FeedbackError) as info:
        FeedbackStore(url)
    assert "\n" not in str(info.value) and "p@h" not in str(info.value)


def test_plain_postgresql_urls_use_pg8000() -> None:
    assert database_url("postgresql://u:p@h:5432/db").drivername == "postgresql+pg8000"
    assert database_url("postgresql+psycopg://u:p@h/db").drivername == "postgresql+psycopg"
    assert database_url(Path("var/f.sqlite3")).drivername == "sqlite"


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
    runs as `nobody`, with an interpreter that user can execute and that has the project's packages."""
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
    assert str(folder) not in result.stdout
    assert "Traceback" not in result.stderr
    assert count == 1
