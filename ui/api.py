"""The named API endpoints (`ask`, `search`, `feedback`) for gradio_client, as plain typed functions.

Every argument a client sends is checked here (types, lengths, the answer object's shape) and refused
with a one-line message in the UI language; a server error is logged and answered with a generic line.
No `from __future__ import annotations` here: gradio reads the return annotations as live types.

>>> from gradio_client import Client                                      # doctest: +SKIP
>>> client = Client("http://127.0.0.1:7860/")                             # doctest: +SKIP
>>> answer = client.predict("Wer kann Mitglied werden?", api_name="/ask")  # doctest: +SKIP
>>> client.predict("Wer kann Mitglied werden?", answer, -1, "zu knapp",
...                api_name="/feedback")                                  # doctest: +SKIP
"""

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from bot.feedback import MAX_ANSWER_CHARS, MAX_COMMENT_CHARS, MAX_QUESTION_CHARS, FeedbackStore, FeedbackUnavailable
from bot.results import Answer, Citation
from indexer.errors import FaqError
from ui.texts import DEFAULT_LANGUAGE, number, t

log = logging.getLogger(__name__)
MAX_K = 50
MAX_CITATIONS = 20
SHORT, LONG = 300, 2_000
# Citation fields: (type, limit) -> what a client may send; missing ones get a neutral default.
_CITATION_TEXT = {"chunk_id": 100, "source": SHORT, "title": SHORT, "section": SHORT, "date": 40,
                  "date_label": SHORT, "language": 5, "quote": LONG}


class BadRequest(FaqError):
    """A client sent something this endpoint does not take (the message says what is expected)."""


def _text(value: Any, field: str, limit: int, lang: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(t(lang, "api.bad_field", field=field, expected=t(lang, "api.text", n=number(limit, lang))))
    return value


def _integer(value: Any, field: str, lang: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value != int(value) or abs(value) > 10**6:
        raise BadRequest(t(lang, "api.bad_field", field=field, expected=t(lang, "api.number")))
    return int(value)


def _citation(data: Any, lang: str) -> Citation:
    if not isinstance(data, dict):
        raise BadRequest(t(lang, "api.bad_field", field="citations", expected=t(lang, "api.list", n=MAX_CITATIONS)))
    texts = {k: _text(data.get(k), f"citations.{k}", limit, lang) for k, limit in _CITATION_TEXT.items()}
    score = data.get("score", 0.0)
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise BadRequest(t(lang, "api.bad_field", field="citations.score", expected=t(lang, "api.number")))
    return Citation(n=_integer(data.get("n"), "citations.n", lang) or 0,
                    page=_integer(data.get("page"), "citations.page", lang), score=float(score), **texts)


def answer_from_dict(data: Any, lang: str = DEFAULT_LANGUAGE) -> Answer:
    """Rebuild an Answer from `Answer.to_dict()` output; refuse anything of another shape or size."""
    if not isinstance(data, dict):
        raise BadRequest(t(lang, "api.bad_answer"))
    citations = data.get("citations") or []
    if not isinstance(citations, list) or len(citations) > MAX_CITATIONS:
        raise BadRequest(t(lang, "api.bad_field", field="citations", expected=t(lang, "api.list", n=MAX_CITATIONS)))
    language = _text(data.get("language"), "language", 5, lang)
    if language not in ("", "de", "en"):
        raise BadRequest(t(lang, "api.bad_field", field="language", expected="“de”, “en”"))
    abstained = data.get("abstained", False)
    if not isinstance(abstained, bool):
        raise BadRequest(t(lang, "api.bad_field", field="abstained", expected=t(lang, "api.yes_no")))
    return Answer(question=_text(data.get("question"), "question", MAX_QUESTION_CHARS, lang),
                  text=_text(data.get("text"), "text", MAX_ANSWER_CHARS, lang), language=language,
                  abstained=abstained, citations=[_citation(c, lang) for c in citations],
                  index_version=_text(data.get("index_version"), "index_version", 100, lang),
                  answerer=_text(data.get("answerer"), "answerer", 40, lang) or "extractive")


def hit_to_dict(hit: Any) -> dict[str, Any]:
    c = hit.chunk
    return {"rank": hit.rank, "score": round(float(hit.score), 4), "chunk_id": c.id, "text": c.text,
            "source": c.source, "title": c.title, "page": c.page, "section": c.section, "date": c.date,
            "date_label": c.date_label, "language": c.language}


def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Known errors become their one-line message; anything else is logged and gets a generic line."""

    @functools.wraps(method)
    def wrapper(self: "Api", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except FeedbackUnavailable as exc:  # its text names the database file: log it, never send it
            log.warning("feedback store unavailable error=%s", exc)
            raise gr.Error(t(self.lang, "chat.feedback_down"), print_exception=False) from None
        except FaqError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("api call failed endpoint=%s", method.__name__)
            raise gr.Error(t(self.lang, "error.generic"), print_exception=False) from None

    return wrapper


@dataclass
class Api:
    """The endpoint functions; their type hints become the API schema."""

    bot: Any
    store: FeedbackStore
    lang: str = DEFAULT_LANGUAGE  # the language of the messages a client gets back

    @guarded
    def ask(self, question: str) -> dict:
        """Answer a question from the programme documents; the dict is Answer.to_dict()."""
        answer = self.bot.answer(question)
        if answer.abstained:
            try:
                self.store.record_unanswered(answer.question or question, answer,
                                             index_version=answer.index_version or self.bot.index_version)
            except FaqError as exc:  # FeedbackError (a value out of bounds) or FeedbackUnavailable
                log.warning("content gap not logged error=%s", exc)
        return answer.to_dict()

    @guarded
    def search(self, query: str, k: int = 10, language: str = "all", source: str = "") -> list[dict]:
        """Ranked passages: k from 1 to 50; language "all", "de" or "en"; source "" or a document file name."""
        whole = isinstance(k, int | float) and not isinstance(k, bool) and math.isfinite(k) and k == int(k)
        if not whole or not 1 <= k <= MAX_K:
            raise BadRequest(t(self.lang, "api.bad_k", max=MAX_K))
        if language not in ("", "all", "de", "en"):
            raise BadRequest(t(self.lang, "api.bad_field", field="language", expected=t(self.lang, "api.language")))
        source = _text(source, "source", SHORT, self.lang)
        hits = self.bot.search(query, k=int(k), language=None if language in ("", "all") else language,
                               source=source or None)
        return [hit_to_dict(h) for h in hits]

    @guarded
    def feedback(self, question: str, answer: dict, rating: int, comment: str = "") -> dict:
        """Rate an answer returned by `ask` (+1 or -1), optionally with a comment; returns {"id": row id}."""
        if isinstance(rating, bool) or rating not in (1, -1):
            raise BadRequest(t(self.lang, "api.bad_rating"))
        question = _text(question, "question", MAX_QUESTION_CHARS, self.lang)
        comment = _text(comment, "comment", MAX_COMMENT_CHARS, self.lang)
        parsed = answer_from_dict(answer, self.lang)
        row_id = self.store.record(question, parsed, int(rating), comment,
                                   index_version=parsed.index_version or self.bot.index_version)
        return {"id": row_id}

    def register(self) -> None:
        """Declare the endpoints inside the current gr.Blocks."""
        gr.api(self.ask, api_name="ask")
        gr.api(self.search, api_name="search")
        gr.api(self.feedback, api_name="feedback")
