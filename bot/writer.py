"""Turns the chosen units into the cited answer text.

The unit that answers comes first, with the sentence that follows it in its passage (a fact is often
finished there: "... a recommendation by the European Cluster Policy Group in 2010." then what it
recommended); a unit whose subject stands only in its section ("We organise ...") is introduced by that
section; a list item keeps the sentence that introduces its list; figures from several documents are
given newest first with source and date; a quote in the other language says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.asked import Kind, has_kind
from bot.candidates import Candidate, Neighbours
from bot.results import Citation

CROSS_NOTE = {"de": "Quelle auf Englisch", "en": "source in German"}
READ_AS = {"de": "Gelesen als", "en": "Read as"}
OTHER_LANGUAGE = "Your question is not in German or English; the programme documents are, so here is what they say:"
SOURCES_OF_FIGURES = {"de": "Angaben der Quellen, neueste zuerst", "en": "Figures by source, most recent first"}


@dataclass
class Composition:
    text: str
    citations: list[Citation]
    probability: float
    evidence_language: str


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    probability: float


class AnswerWriter:
    """>>> AnswerWriter().write([Scored(candidate, 0.9)], "de", kinds=set())   # doctest: +SKIP"""

    def __init__(self, max_units: int = 3, keep_ratio: float = 0.35, survey_ratio: float = 0.25,
                 neighbours: Neighbours | None = None) -> None:
        self.max_units = max_units
        self.keep_ratio = keep_ratio
        self.survey_ratio = survey_ratio
        self.neighbours = neighbours

    def choose(self, ranked: list[Scored], kinds: set[Kind]) -> list[Scored]:
        """The best unit, plus units nearly as likely that add something (not the same sentence or list);
        for "how many" questions preferably from other documents, whose figures may differ by date.
        "Nearly as likely" is relative to the best unit only, not to the abstention threshold: training
        learns whether this answer is right (evaluation/train.py), so the bot must write the same one."""
        best = ranked[0]
        chosen = [best]
        floor = self.keep_ratio * best.probability
        figures = Kind.NUMBER in kinds
        for s in ranked[1:12]:
            if len(chosen) >= self.max_units or s.probability < floor:
                break
            if any(_overlaps(s.candidate, c.candidate) for c in chosen):
                continue
            if figures and not has_kind(s.candidate.text, Kind.NUMBER):
                continue
            chosen.append(s)
        if figures and has_kind(best.candidate.text, Kind.NUMBER):
            chosen += self._other_sources(ranked, chosen, best.probability * self.survey_ratio)
        return chosen[: self.max_units]

    def _other_sources(self, ranked: list[Scored], chosen: list[Scored], floor: float) -> list[Scored]:
        """Figures change over time and the sources were written years apart: the figure of each other
        document among the likely units is given too (newest first when written)."""
        sources = {s.candidate.chunk.source for s in chosen}
        extra = []
        for s in ranked[1:12]:
            src = s.candidate.chunk.source
            if s.probability >= floor and src not in sources and has_kind(s.candidate.text, Kind.NUMBER):
                extra.append(s)
                sources.add(src)
        return extra

    def write(self, chosen: list[Scored], lang: str, kinds: set[Kind], supported: bool = True,
              read_as: str = "") -> Composition:
        numbers: dict[str, int] = {}
        groups: dict[int, list[Candidate]] = {}
        # A count is given with its source and date even from one source: figures change over time.
        dated = Kind.NUMBER in kinds and any(has_kind(s.candidate.text, Kind.NUMBER) for s in chosen)
        figures = dated and len({s.candidate.chunk.source for s in chosen}) > 1
        ordered = sorted(chosen, key=lambda s: s.candidate.chunk.sort_date or "0000", reverse=True) \
            if figures else chosen
        for s in ordered:
            n = numbers.setdefault(s.candidate.chunk.id, len(numbers) + 1)
            groups.setdefault(n, []).append(s.candidate)
        parts, citations = [], []
        best, following = chosen[0].candidate, self._following(chosen)

        def tail(c: Candidate) -> str:
            return following if c is best else ""

        for n, cands in groups.items():
            chunk = cands[0].chunk
            quote = "\n".join(_render(c, kinds) + tail(c) for c in cands)
            citations.append(_citation(n, cands, "\n".join(c.text + tail(c) for c in cands)))
            note = f"({CROSS_NOTE[lang]}) " if chunk.language != lang and lang in CROSS_NOTE else ""
            where = f" ({chunk.title}, {chunk.date_label or chunk.date})" if dated else ""
            parts.append(f"{note}{quote} [{n}]{where}")
        text = "\n\n".join(parts)
        if figures:
            text = f"{SOURCES_OF_FIGURES.get(lang, SOURCES_OF_FIGURES['en'])}:\n\n{text}"
        if read_as:
            text = f"{READ_AS.get(lang, READ_AS['en'])}: „{read_as}“\n\n{text}"
        if not supported:
            text = f"{OTHER_LANGUAGE}\n\n{text}"
        return Composition(text, citations, chosen[0].probability, ordered[0].candidate.chunk.language)

    def _following(self, chosen: list[Scored]) -> str:
        """The sentence after the best unit in its passage, with a leading space; empty when there is none
        or it is quoted anyway."""
        if self.neighbours is None:
            return ""
        _, after = self.neighbours(chosen[0].candidate)
        if after is None or any(after.unit.text in s.candidate.text or s.candidate.text in after.unit.text
                                for s in chosen):
            return ""
        return f" {after.unit.text}"


def _render(c: Candidate, kinds: set[Kind]) -> str:
    unit = c.record.unit
    body = f"{unit.lead}\n- {unit.text}" if unit.kind == "item" and unit.lead else unit.text
    section = c.chunk.section
    if not section or section in body:
        return body
    first = unit.text.split(maxsplit=1)[0].lower().strip(",.") if unit.text.split() else ""
    # Who "we" are, or the year or place asked for, may stand only in the section heading.
    if first in {"wir", "we", "ich", "i", "our", "unser", "unsere", "us"} or any(
            has_kind(section, k) and not has_kind(body, k) for k in kinds - {Kind.YESNO}):
        return f"{section} – {body}"
    return body


def _overlaps(a: Candidate, b: Candidate) -> bool:
    if a.text == b.text:
        return True
    if a.chunk.id != b.chunk.id:
        return False
    ua, ub = a.record.unit, b.record.unit
    return ua.index == ub.index or ua.part_of == ub.index or ub.part_of == ua.index


def _citation(n: int, cands: list[Candidate], quote: str) -> Citation:
    c = cands[0]
    chunk = c.chunk
    page_at = getattr(chunk, "page_at", None)
    page = page_at(c.record.unit.start) if callable(page_at) else chunk.page
    return Citation(n=n, chunk_id=chunk.id, source=chunk.source, title=chunk.title, page=page,
                    section=chunk.section, date=chunk.date, date_label=chunk.date_label, language=chunk.language,
                    quote=quote, score=round(max(s.dense for s in cands), 4))
