"""Thumbs up/down, comments and unanswered questions for the staff view, in SQLite or PostgreSQL.

Privacy: a row holds the question (and, for a follow-up, the question it follows), the answer, the rating,
an optional comment and what the answer cited - no IP address, no user agent, no session or user id, no
other personal data. (A question or a comment may still contain whatever a user typed into it; the staff
view shows it as text.)

Every value is checked here, whoever calls: a value out of bounds raises `FeedbackError`, a database that
cannot be used raises `FeedbackUnavailable`; both carry one line that names no file and no URL. A busy
database is retried before giving up. Several app replicas can share one PostgreSQL database.

>>> store = FeedbackStore(Path("/tmp/feedback-doctest.sqlite3"))   # or "postgresql://faq:pw@host/faq"
>>> store.record("Wer kann Mitglied werden?", answer, rating=-1, comment="zu knapp")  # doctest: +SKIP
1
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.feedback_schema import (
    COLUMNS,
    SCHEMA_VERSION,
    FeedbackError,
    FeedbackUnavailable,
    database_url,
    ensure_schema,
    feedback,
    feedback_engine,
)
from bot.results import Answer

__all__ = ["COLUMNS", "SCHEMA_VERSION", "FeedbackError", "FeedbackStore", "FeedbackUnavailable"]

log = logging.getLogger(__name__)

LANGUAGES = ("de", "en")  # the answer languages, which are the UI languages
MAX_COMMENT_CHARS = 2_000
MAX_QUESTION_CHARS = 4_000
MAX_ANSWER_CHARS = 20_000
MAX_INDEX_VERSION_CHARS = 200
MAX_CITED_IDS = 50
_CHUNK_ID = re.compile(r"[0-9a-f]{1,40}")  # chunk ids are hex digests (indexer/chunk.py)
# Control characters except tab and newline, plus bidi overrides (they can disguise text in a CSV).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Kind = Literal["negative", "gaps", "all"]
_KIND_FILTER = {"negative": feedback.c.rating == -1, "gaps": feedback.c.abstained == 1, "all": None}


def clean_text(value: object, limit: int, what: str) -> str:
    """Strip control characters; refuse non-text and text longer than `limit` after cleaning."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FeedbackError(f"the {what} must be text")
    text = _CONTROL.sub("", value).strip()
    if len(text) > limit:
        raise FeedbackError(f"the {what} is too long (at most {limit:,} characters)")
    return text


def check_rating(rating: object, allowed: tuple[int, ...]) -> int:
    if isinstance(rating, bool) or rating not in allowed:
        names = {1: "1 (helpful)", -1: "-1 (not helpful)", 0: "0 (no rating)"}
        raise FeedbackError(f"rating must be {' or '.join(names[r] for r in allowed)}")
    return int(rating)  # type: ignore[call-overload]


def row_values(question: object, answer: Answer, rating: object, comment: object, index_version: object,
               follows: object) -> dict[str, Any]:
    """The checked column values of one rating."""
    if not isinstance(answer, Answer):
        raise FeedbackError("the answer must be an answer object as returned by ask")
    if answer.language not in LANGUAGES:
        raise FeedbackError(f"the answer language must be one of {', '.join(LANGUAGES)}")
    ids = [getattr(c, "chunk_id", None) for c in answer.citations]
    if len(ids) > MAX_CITED_IDS:
        raise FeedbackError(f"an answer cites at most {MAX_CITED_IDS} passages")
    if not all(isinstance(i, str) and _CHUNK_ID.fullmatch(i) for i in ids):
        raise FeedbackError("a cited passage id is not a passage id (hexadecimal, at most 40 digits)")
    version = clean_text(answer.index_version or index_version, MAX_INDEX_VERSION_CHARS, "index version")
    return {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "question": clean_text(question, MAX_QUESTION_CHARS, "question"),
            "answer": clean_text(answer.text, MAX_ANSWER_CHARS, "answer"),
            "rating": check_rating(rating, (-1, 0, 1)),
            "comment": clean_text(comment, MAX_COMMENT_CHARS, "comment"),
            "cited_chunk_ids": json.dumps(ids), "index_version": version,
            "abstained": int(bool(answer.abstained)), "language": answer.language,
            "follows": clean_text(follows, MAX_QUESTION_CHARS, "earlier question") or None}


def check_row_id(row_id: object) -> int:
    if isinstance(row_id, bool) or not isinstance(row_id, int) or row_id < 1:
        raise FeedbackError("the feedback id must be a positive whole number")
    return row_id


class FeedbackStore:
    """Feedback rows. `busy_timeout_s` and `retries` bound how long a call waits for a busy database."""

    def __init__(self, target: Path | str, *, busy_timeout_s: float = 5.0, retries: int = 2) -> None:
        url = database_url(target)
        self.db_path = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
        self.backend = url.get_backend_name()
        self._where = url.render_as_string(hide_password=True)  # for the server log only
        self._target = target
        self.busy_timeout_s = busy_timeout_s
        self.retries = retries
        self._engine: Any = None
        try:
            self._ready()
        except FeedbackUnavailable as exc:
            log.warning("feedback store unavailable at start where=%s error=%s", self._where, exc)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- writing -----------------------------------------------------------------------------------
    def record(self, question: str, answer: Answer, rating: int, comment: str = "", *,
               index_version: str = "", follows: str = "") -> int:
        """Store one rating (+1 or -1; 0 = logged without a rating) and return the row id.
        `follows` is the earlier question when `question` is a follow-up."""
        values = row_values(question, answer, rating, comment, index_version, follows)
        return self._write(lambda con: con.execute(insert(feedback).values(**values)).inserted_primary_key[0])

    def record_unanswered(self, question: str, answer: Answer, *, index_version: str = "",
                          follows: str = "") -> int:
        """Log an abstained answer (rating 0) so the staff view sees the gap even without a thumb."""
        return self.record(question, answer, 0, index_version=index_version, follows=follows)

    def add_comment(self, row_id: int, comment: str) -> None:
        """Attach a comment to an earlier rating (the chat's "send feedback" button)."""
        query = update(feedback).where(feedback.c.id == check_row_id(row_id)).values(
            comment=clean_text(comment, MAX_COMMENT_CHARS, "comment"))
        self._write(lambda con: con.execute(query))

    def rerate(self, row_id: int, rating: int) -> None:
        """Change an earlier thumb (the user clicked the other one)."""
        query = update(feedback).where(feedback.c.id == check_row_id(row_id)).values(
            rating=check_rating(rating, (1, -1)))
        self._write(lambda con: con.execute(query))

    def withdraw(self, row_id: int) -> None:
        """Delete an earlier thumb (the user clicked it again to take it back); logged gaps stay."""
        query = delete(feedback).where(feedback.c.id == check_row_id(row_id), feedback.c.rating != 0)
        self._write(lambda con: con.execute(query))

    # -- reading -----------------------------------------------------------------------------------
    def recent_negative(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._rows(feedback.c.rating == -1, newest_first=True, limit=limit)

    def content_gaps(self, limit: int = 50) -> list[dict[str, Any]]:
        """Abstained questions, one row per distinct question, the most recently asked first."""
        fb = feedback.c
        query = (select(func.max(fb.question).label("question"), func.count().label("times"),
                        func.sum(case((fb.rating == -1, 1), else_=0)).label("thumbs_down"),
                        func.max(fb.created_at).label("last_asked"), func.max(fb.language).label("language"))
                 .where(fb.abstained == 1).group_by(func.lower(func.trim(fb.question)))
                 .order_by(func.max(fb.id).desc()).limit(_limit(limit)))
        return self._read(query)

    def rows(self, kind: Kind = "all") -> list[dict[str, Any]]:
        """All rows of one kind, oldest first."""
        if kind not in _KIND_FILTER:
            raise FeedbackError(f"kind must be one of {', '.join(_KIND_FILTER)}")
        return self._rows(_KIND_FILTER[kind])

    def count(self) -> int:
        return int(self._read(select(func.count().label("n")).select_from(feedback))[0]["n"])

    def export_csv(self, path: Path, kind: Kind = "all") -> Path:
        """Write the rows of one kind to a UTF-8 CSV (with BOM, for spreadsheet programs)."""
        rows = self.rows(kind)
        path = Path(path)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
        return path

    # -- plumbing ----------------------------------------------------------------------------------
    def _ready(self) -> Any:
        if self._engine is None:
            engine = feedback_engine(self._target, self.busy_timeout_s)
            try:
                self._with_retries(lambda: ensure_schema(engine), "prepared")
            except FeedbackUnavailable:
                engine.dispose()
                raise
            self._engine = engine
        return self._engine

    def _write(self, action: Callable[[Connection], Any]) -> Any:
        engine = self._ready()

        def in_transaction() -> Any:
            with engine.connect() as con, con.execution_options(write=True).begin():
                return action(con)

        return self._with_retries(in_transaction, "written")

    def _rows(self, where: Any, *, newest_first: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        query = select(*feedback.columns)
        if where is not None:
            query = query.where(where)
        query = query.order_by(feedback.c.id.desc() if newest_first else feedback.c.id)
        return self._read(query if limit is None else query.limit(_limit(limit)))

    def _read(self, query: Any) -> list[dict[str, Any]]:
        engine = self._ready()

        def run() -> list[dict[str, Any]]:
            with engine.connect() as con:
                return [dict(row._mapping) for row in con.execute(query)]

        return self._with_retries(run, "read")

    def _with_retries(self, action: Callable[[], Any], verb: str) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return action()
            except DBAPIError as exc:
                reason = _reason(exc)
                if reason.startswith(("busy", "unreachable")) and attempt < self.retries:
                    log.info("feedback database %s attempt=%s where=%s", reason, attempt + 1, self._where)
                    time.sleep(0.05 * 2**attempt)
                    continue
                log.warning("feedback database failed where=%s error=%s", self._where, exc.orig)
                raise FeedbackUnavailable(f"the feedback database cannot be {verb}: {reason}") from None
            except SQLAlchemyError as exc:
                log.warning("feedback database failed where=%s error=%s", self._where, exc)
                raise FeedbackUnavailable(f"the feedback database cannot be {verb}: "
                                          f"{exc.__class__.__name__}") from None
        raise AssertionError("unreachable")  # pragma: no cover


def _reason(exc: DBAPIError) -> str:
    """A short cause that names no file, host or URL (driver messages can contain them)."""
    message = str(exc.orig).lower()
    if "locked" in message or "busy" in message:
        return "busy (another writer holds it); try again"
    if "readonly" in message or "read-only" in message:
        return "it is read-only"
    if "unable to open" in message:
        return "the file cannot be opened"
    if exc.connection_invalidated or "connect" in message or "timeout" in message or "timed out" in message:
        return "unreachable (server down or refusing connections)"
    if "malformed" in message or "not a database" in message:
        return "the file is damaged"
    return f"database error ({exc.orig.__class__.__name__})"


def _limit(limit: object) -> int:
    return max(1, min(int(limit), 10_000)) if isinstance(limit, int) and not isinstance(limit, bool) else 50


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs: quote it.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
