"""Answer units: the sentences, list items, whole lists and figure labels of a chunk, each with its context.

The answer selector ranks units, not passages: a unit is what an answer quotes. Each unit knows the
document title and section it stands in (an interview answer saying "we ..." means nothing without its
section), its neighbours (by `index`), and where it starts in the chunk text (for its page).

>>> [u.text for u in split_units("Wer darf? Jedes Cluster.\\n\\nVorteile:\\n- Sichtbarkeit\\n- Beratung")]
['Wer darf?', 'Jedes Cluster.', 'Vorteile:\\n- Sichtbarkeit\\n- Beratung', 'Sichtbarkeit', 'Beratung']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.chunk import Chunk
from indexer.sentences import split_sentences

_BULLET = re.compile(r"^\s*(?:[-•–*·▪]|\d{1,2}[.)])\s+")
# A figures page flows into one line: "Veranstaltungen: 71 Newsletterausgaben: 310" -> two units.
_NEXT_LABEL = re.compile(r"(?<=\d)\s+(?=[A-ZÄÖÜ][^\d:.!?]{2,60}:)")
MAX_UNIT_CHARS = 1_200  # a unit is quoted whole: longer runs are cut at sentence ends by the splitter


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage. `kind`: sentence, list (lead-in + items), item, label."""

    text: str
    index: int
    kind: str = "sentence"
    start: int = 0  # character offset in the passage text
    part_of: int | None = None  # an item: the index of its list unit
    lead: str = ""  # an item: the sentence that introduces its list

    @property
    def is_list(self) -> bool:
        return self.kind == "list"


@dataclass(frozen=True)
class UnitRecord:
    """A unit as indexed: the unit plus its chunk's id and context, one line of units.jsonl."""

    chunk_id: str
    unit: Unit
    context: str

    def embedding_text(self) -> str:
        lead = f"{self.unit.lead} " if self.unit.lead else ""
        return f"{self.context}\n{lead}{self.unit.text}" if self.context else lead + self.unit.text

    def to_dict(self) -> dict:
        u = self.unit
        return {"chunk_id": self.chunk_id, "index": u.index, "kind": u.kind, "start": u.start,
                "part_of": u.part_of, "text": u.text, "lead": u.lead, "context": self.context}

    @classmethod
    def from_dict(cls, data: dict) -> UnitRecord:
        unit = Unit(text=str(data["text"]), index=int(data["index"]), kind=str(data["kind"]),
                    start=int(data["start"]), part_of=data.get("part_of"), lead=str(data.get("lead", "")))
        return cls(chunk_id=str(data["chunk_id"]), unit=unit, context=str(data.get("context", "")))


def context_of(chunk: Chunk) -> str:
    """The section heading (the document title where there is none): short, since every unit is
    embedded with it and the build embeds about a thousand units."""
    return chunk.section or chunk.title


def unit_records(chunk: Chunk) -> list[UnitRecord]:
    context = context_of(chunk)
    return [UnitRecord(chunk.id, unit, context) for unit in split_units(chunk.text)]


def span_in_passage(chunk: Chunk, unit: Unit) -> tuple[int, int]:
    """Where the unit stands in the text the passage is embedded as (`Chunk.embedding_text`): from its
    start for its length. Approximate where the unit's white space was normalised or a list re-bulleted;
    the span only chooses which of the passage's tokens make up the unit's vector."""
    head = len(chunk.embedding_text()) - len(chunk.text)
    start = min(max(unit.start, 0), max(len(chunk.text) - 1, 0))
    return head + start, head + min(start + max(len(unit.text), 1), len(chunk.text))


def split_units(passage: str) -> list[Unit]:
    """Sentences of each paragraph; a list becomes one unit with the sentence that introduces it, and
    each of its items a unit of its own; figure labels with their values become units."""
    units: list[Unit] = []
    offset = 0
    for block in re.split(r"(\n\s*\n)", passage):
        if not block.strip() or block.isspace():
            offset += len(block)
            continue
        units.extend(_block_units(block, offset, len(units)))
        offset += len(block)
    return units


def _block_units(block: str, offset: int, first_index: int) -> list[Unit]:
    prose: list[str] = []
    items: list[str] = []
    for line in (ln for ln in block.splitlines() if ln.strip()):
        if _BULLET.match(line):
            items.append(_BULLET.sub("", line).strip())
        elif items:
            items[-1] += " " + line.strip()  # a wrapped item continues
        else:
            prose.append(line.strip())
    sentences = [piece for s in split_sentences(" ".join(prose)) for piece in _NEXT_LABEL.split(s) if piece]
    intro = sentences.pop() if items and sentences and sentences[-1].rstrip().endswith(":") else ""
    units: list[Unit] = []
    for sentence in sentences:
        kind = "label" if re.fullmatch(r"[^:.!?]{2,60}:\s*\d[\d.,]*\s*\S{0,20}", sentence) else "sentence"
        units.append(Unit(sentence[:MAX_UNIT_CHARS], first_index + len(units), kind,
                          offset + _find(block, sentence)))
    if items:
        head = f"{intro}\n" if intro else ""
        list_index = first_index + len(units)
        start = offset + (_find(block, intro) if intro else _find(block, items[0]))
        units.append(Unit(head + "\n".join(f"- {item}" for item in items), list_index, "list", start))
        for item in items:
            units.append(Unit(item[:MAX_UNIT_CHARS], first_index + len(units), "item",
                              offset + _find(block, item), part_of=list_index, lead=intro))
    return units


def _find(block: str, text: str) -> int:
    """Where `text` starts in the block (by its first words: white space may differ)."""
    probe = text[:40]
    found = block.find(probe)
    if found < 0:
        words = probe.split()
        found = block.find(words[0]) if words else -1
    return max(found, 0)
