"""Splitting a passage into answer units: sentences, and bullet lists with their introducing sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.sentences import split_sentences  # the chunker's splitter: one notion of a sentence

_BULLET = re.compile(r"^\s*(?:[-•–*·▪]|\d{1,2}[.)])\s+")


@dataclass(frozen=True)
class Unit:
    """A sentence or a whole bullet list (`items`) of one passage; `index` keeps document order."""

    text: str
    index: int
    items: tuple[str, ...] = ()
    part_of: int | None = None  # an item taken out of the list unit with this index

    @property
    def is_list(self) -> bool:
        return bool(self.items)

    def render(self) -> str:
        if not self.items:
            return self.text
        head = f"{self.text}\n" if self.text else ""
        return head + "\n".join(f"- {item}" for item in self.items)


def split_units(passage: str) -> list[Unit]:
    """Paragraph sentences become units; a list becomes one unit together with the sentence before it."""
    units: list[Unit] = []
    for block in re.split(r"\n\s*\n", passage):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        prose: list[str] = []
        items: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                items.append(_BULLET.sub("", line).strip())
            elif items:
                items[-1] += " " + line.strip()  # a wrapped item continues
            else:
                prose.append(line.strip())
        sentences = split_sentences(" ".join(prose))
        if items:
            intro = sentences.pop() if sentences and sentences[-1].rstrip().endswith(":") else ""
            units.extend(Unit(s, len(units) + i) for i, s in enumerate(sentences))
            units.append(Unit(intro, len(units), tuple(items)))
        else:
            units.extend(Unit(s, len(units) + i) for i, s in enumerate(sentences))
    return [u for u in units if u.text or u.items]
