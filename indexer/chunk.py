"""The one chunk type: a passage with everything a citation needs."""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

PageSpans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Chunk:
    """A passage of one document.

    >>> c = Chunk.create(text="Jedes Innovationscluster ...", source="a.txt", title="A", language="de",
    ...                  date="2023", section="Aufnahme in das Programm", ordinal=3)
    >>> c.id == Chunk.create(text=c.text, source="a.txt", title="A", language="de", date="2023",
    ...                      section="Aufnahme in das Programm", ordinal=3).id
    True

    A chunk of a PDF records the pages it spans, `page_spans`: (offset in `text` where a page starts,
    page), sorted, the first at offset 0; `page` is the first page.

    >>> p = Chunk.create(text="Ende von Seite 4. Anfang von Seite 5.", source="a.pdf", title="A",
    ...                  language="de", ordinal=0, page_spans=((0, 4), (18, 5)))
    >>> p.page, p.pages, p.page_at(0), p.page_at(25)
    (4, (4, 5), 4, 5)
    """

    id: str
    text: str
    source: str
    title: str
    language: str
    date: str = ""
    date_label: str = ""
    sort_date: str = ""
    page: int | None = None
    section: str = ""
    ordinal: int = 0
    page_spans: PageSpans = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @staticmethod
    def make_id(source: str, section: str, text: str, ordinal: int) -> str:
        # Content-derived, so evaluation labels survive re-indexing of unchanged text.
        key = f"{source}\x1f{section}\x1f{ordinal}\x1f{text}".encode()
        return hashlib.sha1(key, usedforsecurity=False).hexdigest()[:16]

    @classmethod
    def create(cls, *, text: str, source: str, title: str, language: str, ordinal: int,
               section: str = "", page: int | None = None, date: str = "", date_label: str = "",
               sort_date: str = "", page_spans: PageSpans = ()) -> Chunk:
        return cls(id=cls.make_id(source, section, text, ordinal), text=text, source=source, title=title,
                   language=language, date=date, date_label=date_label, sort_date=sort_date or date,
                   page=page_spans[0][1] if page_spans else page, section=section, ordinal=ordinal,
                   page_spans=page_spans)

    @property
    def pages(self) -> tuple[int, ...]:
        """The distinct pages the chunk spans, sorted (its `page` alone for a chunk without spans)."""
        if self.page_spans:
            return tuple(sorted({page for _, page in self.page_spans}))
        return (self.page,) if self.page is not None else ()

    def page_at(self, offset: int) -> int | None:
        """The page on which the character at `offset` of `text` stands (None for text files)."""
        if not self.page_spans:
            return self.page
        index = bisect.bisect_right([start for start, _ in self.page_spans], max(offset, 0)) - 1
        return self.page_spans[max(index, 0)][1]

    def embedding_text(self) -> str:
        """What the embedder reads: title and heading first, so similar passages of different
        documents stay distinguishable."""
        head = " | ".join(part for part in (self.title, self.section) if part)
        return f"{head}\n{self.text}" if head else self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        """Tolerant of files written before a field existed (chunks.jsonl without page_spans)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "page_spans" in known:
            known["page_spans"] = tuple((int(offset), int(page)) for offset, page in known["page_spans"] or ())
        return cls(**known)
