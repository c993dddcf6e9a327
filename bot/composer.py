"""The default answerer (no LLM): picks the sentences and lists of the best passages that answer the
question and writes them with inline markers [n]; figures from several dated sources newest first."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.abstention import counted_noun
from bot.answer_types import AnswerType, answer_type, unit_has_type
from bot.glossary import Glossary
from bot.results import Citation, Hit
from bot.units import Unit, split_units

# (question, unit text, glossary translations of the question's words) -> coverage in [0, 1]
Scorer = Callable[..., float]

_COUNT = re.compile(r"(?<![\d.,])(?!(?:19|20)\d\d\b)\d[\d.,]*(?![\d.]*(?:th|st|nd|rd)\b)")
CROSS_NOTE = {"de": "Quelle auf Englisch", "en": "source in German"}
NEWEST = {"de": "Neueste Angabe", "en": "Most recent figure"}
OTHERS = {"de": "Ältere bzw. andere Quellen nennen", "en": "Older or other sources give"}


@dataclass(frozen=True)
class Candidate:
    hit_rank: int
    hit: Hit
    unit: Unit
    coverage: float
    score: float
    counts: int = 0  # 2: a figure in it counts what "how many" asks about; 1: it names that thing


@dataclass
class Composition:
    text: str
    citations: list[Citation]
    best_coverage: float
    evidence_language: str


class ExtractiveComposer:
    """>>> composer = ExtractiveComposer(keyword_retriever.coverage)
    >>> composer.compose("Wer darf sich bewerben?", "de", hits)   # doctest: +SKIP
    """

    def __init__(self, coverage: Scorer, max_hits: int = 4, max_units: int = 3,
                 glossary: Glossary | None = None) -> None:
        self.coverage = coverage
        self.glossary = glossary
        self.max_hits = max_hits
        self.max_units = max_units

    def candidates(self, query: str, hits: Sequence[Hit],
                   translations: dict[str, list[str]] | None = None, lang: str = "") -> list[Candidate]:
        kind = answer_type(query)
        noun = counted_noun(query) if kind is AnswerType.NUMBER else None
        out = []
        for rank, hit in enumerate(hits, start=1):
            for unit in _with_items(split_units(hit.chunk.text)):
                text = unit.render()
                cov = self.coverage(query, text, translations=translations)
                typed = 0.25 if kind is not AnswerType.ANY and unit_has_type(text, kind) else 0.0
                counts = 0
                if noun and typed:  # "how many members": the figure must count members, not years or ranks
                    counts = 2 if self._counts(noun, text, lang) else int(
                        self.coverage(noun, text, translations=translations) > 0)
                    typed = 0.4 if counts == 2 else 0.0
                if typed and kind is AnswerType.CONTACT:
                    cov = max(cov, 0.5)  # a phone number or address answers "how do I reach ..." as such
                brevity = 0.03 * min(len(text) / 400, 3)  # of equal coverage, the shorter unit is the answer
                same = 0.05 if hit.chunk.language == lang else 0.0  # as good in the question's language wins
                out.append(Candidate(rank, hit, unit, cov, cov + typed + same + 0.15 / rank - brevity, counts))
        return sorted(out, key=lambda c: -c.score)

    def _counts(self, noun: str, text: str, lang: str) -> bool:
        """Does a number in the text count `noun` (the noun within a few words after the number)?"""
        translations = self.glossary.word_translations(noun, lang, synonyms=True, head_only=True) \
            if self.glossary else None
        for match in _COUNT.finditer(text):
            window = " ".join(text[match.end():].split()[:5])
            if self.coverage(noun, window, translations=translations) > 0:
                return True
        return False

    def compose(self, query: str, lang: str, hits: Sequence[Hit],
                translations: dict[str, list[str]] | None = None,
                document_named: bool = False) -> Composition | None:
        """`document_named`: the question names its source ("laut Flyer"), so no survey of other dates."""
        ranked = self.candidates(query, hits[: self.max_hits], translations, lang)
        if not ranked or ranked[0].coverage <= 0:
            return None
        if answer_type(query) is AnswerType.NUMBER and not document_named:
            dated = self._dated_figures(self.candidates(query, hits, translations, lang))
            if dated:
                return self._write_figures(dated, lang, max(c.coverage for c in dated))
        chosen = self._choose(ranked, lang)
        return self._write(chosen, lang, ranked[0].coverage)

    def _choose(self, ranked: list[Candidate], lang: str = "") -> list[Candidate]:
        best = ranked[0]
        chosen = [best]
        for cand in ranked[1:]:
            if len(chosen) >= self.max_units or best.unit.is_list:
                break
            same_passage = cand.hit is best.hit
            overlaps = any(_overlap(cand.unit, c.unit) for c in chosen if c.hit is cand.hit)
            if overlaps or cand.coverage <= 0 or cand.score < 0.8 * best.score:
                continue
            if same_passage or cand.coverage >= 0.5:
                chosen.append(cand)
        chosen += [nxt for c in chosen if _is_label(c.unit) for nxt in [_next_unit(c)] if nxt is not None]
        # Passages in the question's language first, then rank order; document order within a passage.
        return sorted(chosen, key=lambda c: (c.hit.chunk.language != lang, c.hit_rank, c.unit.index))

    def _write(self, chosen: list[Candidate], lang: str, best_cov: float) -> Composition:
        numbers: dict[str, int] = {}
        groups: dict[int, list[Candidate]] = {}
        for cand in chosen:
            n = numbers.setdefault(cand.hit.chunk.id, len(numbers) + 1)
            groups.setdefault(n, []).append(cand)
        parts, citations = [], []
        for n, cands in groups.items():
            quote = "\n".join(c.unit.render() for c in cands)
            hit = cands[0].hit
            citations.append(Citation.from_hit(n, hit, quote))
            note = f"({CROSS_NOTE[lang]}) " if hit.chunk.language != lang and lang in CROSS_NOTE else ""
            parts.append(f"{note}{quote} [{n}]")
        evidence_lang = chosen[0].hit.chunk.language
        return Composition("\n\n".join(parts), citations, best_cov, evidence_lang)

    def _dated_figures(self, ranked: list[Candidate]) -> list[Candidate]:
        """Best figure-bearing unit per document, if several documents give one for the question.
        Within a document a dated figure ("im Oktober 2022 ... 81") beats an undated one ("über 80")."""
        figures = [c for c in ranked if c.coverage > 0 and not c.unit.is_list
                   and unit_has_type(c.unit.render(), AnswerType.NUMBER)]
        level = max((c.counts for c in figures), default=0)
        figures = [c for c in figures if c.counts == level]  # those that count (or name) what was asked
        if not figures:
            return []
        best_cov = max(c.coverage for c in figures)
        per_doc: dict[str, Candidate] = {}
        for cand in figures:
            if cand.coverage < 0.75 * best_cov:
                continue
            held = per_doc.get(cand.hit.chunk.source)
            if held is None or _figure_rank(cand) > _figure_rank(held):
                per_doc[cand.hit.chunk.source] = cand
        if len(per_doc) < 2:
            return []
        return sorted(per_doc.values(), key=lambda c: (c.hit.chunk.sort_date or "0000", _figure_rank(c)),
                      reverse=True)

    def _write_figures(self, dated: list[Candidate], lang: str, best_cov: float) -> Composition:
        citations, lines = [], []
        for n, cand in enumerate(dated[:4], start=1):
            chunk = cand.hit.chunk
            quote = cand.unit.render()
            following = _next_figure(cand) if n == 1 else None
            if following is not None:
                quote += " " + following.unit.render()  # a figure often goes on in the next sentence
            citations.append(Citation.from_hit(n, cand.hit, quote))
            note = f"; {CROSS_NOTE[lang]}" if chunk.language != lang and lang in CROSS_NOTE else ""
            where = f"{chunk.title}, {chunk.date_label or chunk.date}{note}"
            lines.append(f"{quote} [{n}] ({where})")
        text = f"{NEWEST[lang]}: {lines[0]}"
        if len(lines) > 1:
            text += f"\n\n{OTHERS[lang]}:\n" + "\n".join(f"- {line}" for line in lines[1:])
        return Composition(text, citations, best_cov, dated[0].hit.chunk.language)


def _is_label(unit: Unit) -> bool:
    """A caption line like "Printed by" or "Published by": its value stands in the next unit."""
    return not unit.is_list and len(unit.text.split()) <= 4 and not unit.text.rstrip().endswith((".", "!", "?"))


def _next_unit(c: Candidate) -> Candidate | None:
    units = [u for u in split_units(c.hit.chunk.text) if u.index == c.unit.index + 1 and u.part_of is None]
    if not units:
        return None
    return Candidate(c.hit_rank, c.hit, units[0], c.coverage, c.score - 0.01)


def _next_figure(c: Candidate, within: int = 2) -> Candidate | None:
    """The next figure-bearing sentence within `within` units (extraction may put a caption between)."""
    units = {u.index: u for u in split_units(c.hit.chunk.text) if u.part_of is None}
    for step in range(1, within + 1):
        unit = units.get(c.unit.index + step)
        if unit is not None and not unit.is_list and unit_has_type(unit.render(), AnswerType.NUMBER):
            return Candidate(c.hit_rank, c.hit, unit, c.coverage, c.score - 0.01)
    return None


def _figure_rank(c: Candidate) -> float:
    return c.coverage + (0.1 if unit_has_type(c.unit.render(), AnswerType.DATE) else 0.0)


def _with_items(units: list[Unit]) -> list[Unit]:
    """Each list as a whole and each of its items alone: a question may ask for one item or all."""
    out: list[Unit] = []
    for unit in units:
        out.append(unit)
        out.extend(Unit(item, unit.index, (), part_of=unit.index) for item in unit.items)
    return out


def _overlap(a: Unit, b: Unit) -> bool:
    return a.index == b.index or a.part_of == b.index or b.part_of == a.index

