"""The one chunk type: a passage with everything a citation needs."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chunk:
    """A passage of one document.

    >>> c = Chunk.create(text="Jedes Innovationscluster ...", source="a.txt", title="A", language="de",
    ...                  date="2023", section="Aufnahme in das Programm", ordinal=3)
    >>> c.id == Chunk.create(text=c.text, source="a.txt", title="A", language="de", date="2023",
    ...                      section="Aufnahme in das Programm", ordinal=3).id
    True
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
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @staticmethod
    def make_id(source: str, section: str, text: str, ordinal: int) -> str:
        # Content-derived, so evaluation labels survive re-indexing of unchanged text.
        key = f"{source}\x1f{section}\x1f{ordinal}\x1f{text}".encode()
        return hashlib.sha1(key, usedforsecurity=False).hexdigest()[:16]

    @classmethod
    def create(cls, *, text: str, source: str, title: str, language: str, ordinal: int,
               section: str = "", page: int | None = None, date: str = "", date_label: str = "",
               sort_date: str = "") -> Chunk:
        return cls(id=cls.make_id(source, section, text, ordinal), text=text, source=source, title=title,
                   language=language, date=date, date_label=date_label, sort_date=sort_date or date,
                   page=page, section=section, ordinal=ordinal)

    def embedding_text(self) -> str:
        """What the embedder reads: title and heading first, so similar passages of different
        documents stay distinguishable."""
        head = " | ".join(part for part in (self.title, self.section) if part)
        return f"{head}\n{self.text}" if head else self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)
