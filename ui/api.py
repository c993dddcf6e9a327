"""The named API endpoints (`ask`, `search`, `feedback`) for gradio_client, as plain typed functions.

No `from __future__ import annotations` here: gradio reads the return annotations as live types.

>>> from gradio_client import Client                                      # doctest: +SKIP
>>> client = Client("http://127.0.0.1:7860/")                             # doctest: +SKIP
>>> answer = client.predict("Wer kann Mitglied werden?", api_name="/ask")  # doctest: +SKIP
>>> client.predict("Wer kann Mitglied werden?", answer, -1, "zu knapp",
...                api_name="/feedback")                                  # doctest: +SKIP
"""


import logging
from dataclasses import dataclass, fields
from typing import Any

import gradio as gr

from bot.feedback import FeedbackStore
from bot.results import Answer, Citation
from indexer.errors import FaqError

log = logging.getLogger(__name__)
_CITATION_FIELDS = {f.name for f in fields(Citation)}
_ANSWER_FIELDS = {f.name for f in fields(Answer)} - {"citations"}


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """Rebuild an Answer from `Answer.to_dict()` output (unknown keys are ignored)."""
    known = {k: v for k, v in data.items() if k in _ANSWER_FIELDS}
    known.setdefault("question", "")
    known.setdefault("text", "")
    known.setdefault("language", "")
    known["abstained"] = bool(known.get("abstained", False))
    citations = [Citation(**{k: v for k, v in c.items() if k in _CITATION_FIELDS})
                 for c in data.get("citations") or []]
    return Answer(citations=citations, **known)


def hit_to_dict(hit: Any) -> dict[str, Any]:
    c = hit.chunk
    return {"rank": hit.rank, "score": round(float(hit.score), 4), "chunk_id": c.id, "text": c.text,
            "source": c.source, "title": c.title, "page": c.page, "section": c.section, "date": c.date,
            "date_label": c.date_label, "language": c.language}


@dataclass
class Api:
    """The endpoint functions; their type hints become the API schema."""

    bot: Any
    store: FeedbackStore

    def ask(self, question: str) -> dict:
        """Answer a question from the programme documents; the dict is Answer.to_dict()."""
        try:
            answer = self.bot.answer(question)
        except FaqError as exc:
            raise gr.Error(str(exc)) from exc
        if answer.abstained:
            try:
                self.store.record_unanswered(answer.question, answer, index_version=self.bot.index_version)
            except FaqError as exc:
                log.warning("content gap not logged error=%s", exc)
        return answer.to_dict()

    def search(self, query: str, k: int = 10, language: str = "all", source: str = "") -> list[dict]:
        """Ranked passages; language "all", "de" or "en"; source "" or a document file name."""
        try:
            hits = self.bot.search(query, k=max(1, min(int(k), 50)),
                                   language=None if language in ("", "all") else language,
                                   source=source or None)
        except FaqError as exc:
            raise gr.Error(str(exc)) from exc
        return [hit_to_dict(h) for h in hits]

    def feedback(self, question: str, answer: dict, rating: int, comment: str = "") -> dict:
        """Rate an answer returned by `ask` (+1 or -1), optionally with a comment; returns {"id": row id}."""
        if rating not in (1, -1):
            raise gr.Error("rating must be 1 (helpful) or -1 (not helpful)")
        try:
            row_id = self.store.record(question, answer_from_dict(answer), rating, comment,
                                       index_version=self.bot.index_version)
        except FaqError as exc:  # FeedbackError (a value out of bounds) or FeedbackUnavailable
            raise gr.Error(str(exc)) from exc
        return {"id": row_id}

    def register(self) -> None:
        """Declare the endpoints inside the current gr.Blocks."""
        gr.api(self.ask, api_name="ask")
        gr.api(self.search, api_name="search")
        gr.api(self.feedback, api_name="feedback")
