"""Turn thumbs-down feedback and content gaps into candidate questions for a person to review."""

from __future__ import annotations

import json
from pathlib import Path

from bot.feedback import FeedbackStore
from bot.question import detect_language


def write_candidates(db_path: Path, out_dir: Path) -> Path:
    """Write candidates in the question-set format; `facts` stay empty until a reviewer fills them."""
    store = FeedbackStore(db_path)
    rows = store.recent_negative(limit=1000) + store.content_gaps(limit=1000)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "feedback_candidates.jsonl"
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as fh:
        for n, row in enumerate(rows, start=1):
            question = str(row.get("question", "")).strip()
            if not question or question.lower() in seen:
                continue
            seen.add(question.lower())
            lang, _ = detect_language(question)
            fh.write(json.dumps({
                "id": f"feedback-{lang}-{n}", "lang": lang, "category": "feedback", "question": question,
                "facts": [], "answerable": False, "sources": [],
                "review": {"answer_given": row.get("answer", ""), "comment": row.get("comment", ""),
                           "rating": row.get("rating"), "created_at": row.get("created_at"),
                           "todo": "decide answerable; if so write facts and sources"},
            }, ensure_ascii=False) + "\n")
    return path
