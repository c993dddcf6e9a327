"""What the bot returns: ranked passages (Hit) and cited answers (Answer, Citation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from indexer.chunk import Chunk


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and its rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    keyword_score: float | None = None


@dataclass(frozen=True)
class Citation:
    """One source of an answer: `n` is the number of the inline marker [n]."""

    n: int
    chunk_id: str
    source: str
    title: str
    page: int | None
    section: str
    date: str
    date_label: str
    language: str
    quote: str
    score: float

    @classmethod
    def from_hit(cls, n: int, hit: Hit, quote: str) -> Citation:
        c = hit.chunk
        return cls(n=n, chunk_id=c.id, source=c.source, title=c.title, page=c.page, section=c.section,
                   date=c.date, date_label=c.date_label, language=c.language, quote=quote,
                   score=round(float(hit.score), 4))


@dataclass
class Answer:
    """The bot's reply. `abstained` is True when the documents do not answer the question."""

    question: str
    text: str
    language: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    answerer: str = "extractive"
    index_version: str = ""
    # The ranked passages the answer path used, best first: {"chunk_id", "rank", "source", "text"}.
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    read_as: str = ""  # the question as read after typo correction ("" when nothing was corrected)
    probability: float = 0.0  # the selector's confidence in the best answer unit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def retrieved_passages(hits: list[Hit]) -> list[dict[str, Any]]:
    """`Answer.retrieved` for the hits in the order the answer path saw them (rank = position, 1 = best)."""
    return [{"chunk_id": h.chunk.id, "rank": n, "source": h.chunk.source, "text": h.chunk.text}
            for n, h in enumerate(hits, start=1)]
