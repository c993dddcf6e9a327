"""Thumbs up/down, comments and unanswered questions, kept in one SQLite file for the staff view.

Privacy: a row holds the question, the answer, the rating, an optional comment and what the answer
cited - no IP address, no user agent, no session or user id, no other personal data. (A question or a
comment may still contain whatever a user typed into it; the staff view shows it as text.)

Each call opens its own connection (safe from any thread); WAL mode lets readers and one writer work
at once, and a busy database is retried before `FeedbackUnavailable` is raised.

>>> store = FeedbackStore(Path("/tmp/feedback-doctest.sqlite3"))   # doctest: +SKIP
>>> store.record("Wer kann Mitglied werden?", answer, rating=-1, comment="zu knapp")  # doctest: +SKIP
1
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from bot.results import Answer
from indexer.errors import FaqError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: `follows`, the question a follow-up follows
MAX_COMMENT_CHARS = 2_000
MAX_QUESTION_CHARS = 4_000
MAX_ANSWER_CHARS = 20_000
COLUMNS = ("id", "created_at", "question", "follows", "answer", "rating", "comment", "cited_chunk_ids",
           "index_version", "abstained", "language")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    cited_chunk_ids TEXT NOT NULL DEFAULT '[]',
    index_version TEXT NOT NULL DEFAULT '',
    abstained INTEGER NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT '',
    follows TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_rating ON feedback (rating);
CREATE INDEX IF NOT EXISTS feedback_abstained ON feedback (abstained);
"""
# Control characters except tab and newline, plus bidi overrides (they can disguise text in a CSV).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Kind = Literal["negative", "gaps", "all"]


class FeedbackUnavailable(FaqError):
    """The feedback database cannot be written (locked, read-only, missing folder...)."""


def clean_text(text: str | None, limit: int) -> str:
    """Strip control characters and cap the length."""
    return _CONTROL.sub("", text or "").strip()[:limit]


class FeedbackStore:
    """Feedback rows in SQLite. `busy_timeout_s` and `retries` bound how long a write waits."""

    def __init__(self, db_path: Path, *, busy_timeout_s: float = 5.0, retries: int = 2) -> None:
        self.db_path = Path(db_path)
        self.busy_timeout_s = busy_timeout_s
        self.retries = retries
        self._schema_ready = False
        try:
            self._ensure_schema()
        except FeedbackUnavailable as exc:
            log.warning("feedback store unavailable at start path=%s error=%s", self.db_path, exc)

    # -- writing -----------------------------------------------------------------------------------
    def record(self, question: str, answer: Answer, rating: int, comment: str = "", *,
               index_version: str = "", follows: str = "") -> int:
        """Store one rating (+1 or -1; 0 = logged without a rating) and return the row id.
        `follows` is the question a follow-up follows ("Und was kostet das?" needs what "das" was)."""
        if rating not in (-1, 0, 1):
            raise ValueError(f"rating must be -1, 0 or 1, not {rating!r}")
        row = (datetime.now(UTC).isoformat(timespec="seconds"),
               clean_text(question, MAX_QUESTION_CHARS), clean_text(answer.text, MAX_ANSWER_CHARS),
               rating, clean_text(comment, MAX_COMMENT_CHARS),
               json.dumps([c.chunk_id for c in answer.citations]),
               answer.index_version or index_version, int(answer.abstained), answer.language,
               clean_text(follows, MAX_QUESTION_CHARS))
        sql = ("INSERT INTO feedback (created_at, question, answer, rating, comment, cited_chunk_ids,"
               " index_version, abstained, language, follows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        return self._write(lambda con: con.execute(sql, row).lastrowid)

    def record_unanswered(self, question: str, answer: Answer, *, index_version: str = "",
                          follows: str = "") -> int:
        """Log an abstained answer (rating 0) so the staff view sees the gap even without a thumb."""
        return self.record(question, answer, 0, index_version=index_version, follows=follows)

    def add_comment(self, row_id: int, comment: str) -> None:
        """Attach a comment to an earlier rating (the chat's "send feedback" button)."""
        text = clean_text(comment, MAX_COMMENT_CHARS)
        self._write(lambda con: con.execute("UPDATE feedback SET comment = ? WHERE id = ?", (text, row_id)))

    def rerate(self, row_id: int, rating: int) -> None:
        """Change an earlier thumb (the user clicked the other one)."""
        if rating not in (-1, 1):
            raise ValueError(f"rating must be -1 or 1, not {rating!r}")
        self._write(lambda con: con.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, row_id)))

    def withdraw(self, row_id: int) -> None:
        """Delete an earlier thumb (the user clicked it again to take it back)."""
        self._write(lambda con: con.execute("DELETE FROM feedback WHERE id = ? AND rating != 0", (row_id,)))

    # -- reading -----------------------------------------------------------------------------------
    def recent_negative(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._rows("WHERE rating = -1 ORDER BY id DESC LIMIT ?", (limit,))

    def content_gaps(self, limit: int = 50) -> list[dict[str, Any]]:
        """Abstained questions, one row per distinct question, the most recently asked first."""
        sql = ("SELECT MAX(question) AS question, COUNT(*) AS times, SUM(rating = -1) AS thumbs_down,"
               " MAX(created_at) AS last_asked, MAX(language) AS language FROM feedback"
               " WHERE abstained = 1 GROUP BY lower(trim(question)) ORDER BY MAX(id) DESC LIMIT ?")
        return self._read(sql, (limit,))

    def count(self) -> int:
        return int(self._read("SELECT COUNT(*) AS n FROM feedback", ())[0]["n"])

    def export_csv(self, path: Path, kind: Kind = "all") -> Path:
        """Write the rows of one kind to a UTF-8 CSV (with BOM, for spreadsheet programs)."""
        where = {"negative": "WHERE rating = -1", "gaps": "WHERE abstained = 1", "all": ""}[kind]
        rows = self._rows(f"{where} ORDER BY id", ())
        path = Path(path)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
        return path

    # -- plumbing ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.db_path, timeout=self.busy_timeout_s, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            con.row_factory = sqlite3.Row
            yield con
        finally:
            con.close()

    def _ensure_schema(self) -> None:
        def create(con: sqlite3.Connection) -> None:
            con.execute("PRAGMA journal_mode = WAL")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FeedbackUnavailable(f"feedback database {self.db_path} has schema {version},"
                                          f" newer than this program's {SCHEMA_VERSION}; update the program")
            if version < SCHEMA_VERSION:  # only then write, so a read-only copy can still be read
                if version == 1:
                    con.execute("ALTER TABLE feedback ADD COLUMN follows TEXT NOT NULL DEFAULT ''")
                con.executescript(_SCHEMA)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedbackUnavailable(f"cannot create the folder of {self.db_path}: {exc}") from exc
        self._with_retries(create)
        self._schema_ready = True

    def _write(self, action: Any) -> Any:
        if not self._schema_ready:
            self._ensure_schema()

        def in_transaction(con: sqlite3.Connection) -> Any:
            con.execute("BEGIN IMMEDIATE")
            try:
                result = action(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return result

        return self._with_retries(in_transaction)

    def _with_retries(self, action: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                with self._connect() as con:
                    return action(con)
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if busy and attempt < self.retries:
                    log.info("feedback database busy attempt=%s path=%s", attempt + 1, self.db_path)
                    time.sleep(0.05 * 2**attempt)
                    continue
                raise FeedbackUnavailable(
                    f"feedback database {self.db_path} cannot be written: {exc}") from exc
            except sqlite3.DatabaseError as exc:
                raise FeedbackUnavailable(f"feedback database {self.db_path} is unusable: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _rows(self, clause: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        # `clause` is one of this module's constant strings; values always travel as parameters.
        return self._read(f"SELECT {', '.join(COLUMNS)} FROM feedback {clause}", params)  # noqa: S608

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        if not self._schema_ready:
            self._ensure_schema()
        return self._with_retries(lambda con: [dict(r) for r in con.execute(sql, params).fetchall()])


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs: quote it.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
