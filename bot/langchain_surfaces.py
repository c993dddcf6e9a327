"""The bot as LangChain parts: a retriever over the hybrid retrieval and a runnable that answers.

Both take the bot, or a zero-argument callable returning the current bot (so a reloaded index is used
without rebuilding the chain). They rely only on `bot.search`, `bot.answer` and `bot.index_version`.

>>> from langchain_core.runnables import RunnableLambda
>>> retriever = FaqRetriever(bot=bot, k=4, language="de")                           # doctest: +SKIP
>>> chain = retriever | RunnableLambda(lambda docs: "\\n\\n".join(d.page_content for d in docs))  # doctest: +SKIP
>>> FaqRunnable(bot=bot).invoke("Wer darf sich bewerben?")["citations"][0]["quote"]   # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.runnables.utils import AddableDict
from pydantic import ConfigDict, Field

from bot.results import Hit
from indexer.errors import QuestionError

_PIECE = re.compile(r"\s*\S+")
_ROLES = {"human": "user", "ai": "assistant", "user": "user", "assistant": "assistant"}


def text_pieces(text: str) -> list[str]:
    """The text in word-sized pieces that join back to exactly the text (markers [n] stay whole)."""
    pieces = _PIECE.findall(text)
    tail = text[len("".join(pieces)):]
    return [*pieces[:-1], pieces[-1] + tail] if pieces else ([text] if text else [])


def hit_to_document(hit: Hit) -> Document:
    c = hit.chunk
    return Document(page_content=c.text, id=c.id, metadata={
        "chunk_id": c.id, "source": c.source, "title": c.title, "page": c.page, "section": c.section,
        "date": c.date, "date_label": c.date_label, "language": c.language,
        "score": round(float(hit.score), 4), "rank": hit.rank})


class _BotField:
    """Mixin: `bot` is a FaqBot or a zero-argument callable returning the current one."""

    bot: Any

    def current_bot(self) -> Any:
        return self.bot if hasattr(self.bot, "search") else self.bot()


class FaqRetriever(_BotField, BaseRetriever):
    """Ranked passages (dense + BM25 + glossary) as Documents; metadata: chunk_id, source, title, page,
    section, date, date_label, language, score, rank.

    >>> FaqRetriever(bot=bot, k=3, language="en").invoke("membership fee")   # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any
    k: int = Field(default=8, ge=1, le=50)
    language: Literal["de", "en"] | None = None
    source: str | None = None  # a document file name, e.g. "webseite-de.txt"

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.current_bot().search(query, k=self.k, language=self.language, source=self.source or None)
        return [hit_to_document(h) for h in hits]


class FaqRunnable(_BotField, RunnableSerializable[Any, dict]):
    """{"question": str, "history"?: [{"role", "content"}] or messages} or a plain question -> the Answer
    as a dict (`Answer.to_dict()`). `stream` yields AddableDicts: the text in word pieces
    ({"text": ...}), then one chunk with every other field; added up they equal `invoke`'s dict.

    >>> for chunk in FaqRunnable(bot=bot).stream("Was kostet die Mitgliedschaft?"):   # doctest: +SKIP
    ...     print(chunk.get("text", ""), end="")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    bot: Any

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict]:
        yield from self.transform(iter([input]), config, **kwargs)

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None,
                  **kwargs: Any) -> Iterator[dict]:
        yield from self._transform_stream_with_config(input, self._pieces, config, run_type="chain")

    def _answer(self, value: Any) -> dict:
        question, history = parse_input(value)
        return self.current_bot().answer(question, history).to_dict()

    def _pieces(self, inputs: Iterator[Any]) -> Iterator[AddableDict]:
        value: Any = None
        for chunk in inputs:  # upstream may stream its output (e.g. RunnableParallel's keys): add it up
            try:
                value = chunk if value is None else value + chunk
            except TypeError:
                value = chunk
        answer = self._answer(value)
        for piece in text_pieces(answer.pop("text")) or [""]:
            yield AddableDict(text=piece)
        yield AddableDict(answer)


def parse_input(value: Any) -> tuple[str, list[dict] | None]:
    """(question, history) from a plain string or {"question", "history"?}."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict) or "question" not in value:
        raise QuestionError('Give a question as text or as {"question": ..., "history": [...]}.')
    history = value.get("history")
    if history is not None and not isinstance(history, Sequence | Iterator):
        raise QuestionError('"history" must be a list of {"role": ..., "content": ...} messages.')
    return value["question"], [_message(m) for m in history] if history is not None else None


def _message(message: Any) -> dict:
    if isinstance(message, BaseMessage):
        return {"role": _ROLES.get(message.type, message.type), "content": message.text}
    if isinstance(message, dict):
        return {"role": _ROLES.get(str(message.get("role")), message.get("role")),
                "content": message.get("content")}
    raise QuestionError('"history" must be a list of {"role": ..., "content": ...} messages.')
