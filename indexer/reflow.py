"""Reflow extracted lines into blocks: rejoin hyphenated and soft-wrapped lines, heal cut paragraphs.

The cleaner (indexer/cleaning.py) calls this after dropping page furniture. Lines are `Line`s (None
for a blank line); the result is `Draft`s, each the lines of one block, which `join_lines` turns
into text.

>>> doc = Layout(frozenset(), space_marks_wrap=False, conjunctions=frozenset({"und"}))
>>> rejoin_hyphenated("Klima-", "schutz", doc), rejoin_hyphenated("Aus-", "und Weiterbildung", doc)
('Klimaschutz', 'Aus- und Weiterbildung')
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

LIST_MARKER = re.compile(r"([•▪◦●■]|[*\-–]\s|\d{1,2}[.)]\s)\s*")
MD_HEADING = re.compile(r"#{1,6}\s+")
_STRONG_BULLETS = "•▪◦●■"  # always a list item; "-", "–", "1." only where a block may start
_HYPHEN_END = re.compile(r'([\w-]*[^\W\d_][“”"’]?)-$')  # a word broken after a hyphen
_TERMINAL = re.compile(r"[.!?:;…][\"“”»’)\]]*$")


@dataclass(frozen=True)
class Line:
    text: str  # whitespace collapsed
    page: int | None
    raw: str
    lead: bool  # began with a space: in the German PDF extraction a new text box starts here
    trail: bool  # ended with a space: that extraction's mark of a soft wrap
    gap: bool  # follows a blank line or starts a text box


@dataclass
class Draft:
    lines: list[Line]
    item: bool = False
    md_heading: bool = False


@dataclass(frozen=True)
class Layout:
    """What the joining rules know about the whole document."""

    vocabulary: frozenset[str]  # its words as written, hyphenated compounds included
    space_marks_wrap: bool  # soft-wrapped lines end with a space (see `space_marks_wrap`)
    conjunctions: frozenset[str]  # words after a suspended hyphen ("Aus- und")


def space_marks_wrap(lines: list[Line | None]) -> bool:
    """True for extractions that end soft-wrapped lines with a space (the German publication)."""
    marked = unmarked = 0
    for a, b in itertools.pairwise(lines):
        if a and b and re.search(r"[a-zäöüß,]$", a.text) and b.text[0].islower():
            marked, unmarked = marked + a.trail, unmarked + (not a.trail)
    return marked >= 10 and marked >= 4 * unmarked


def split_drafts(lines: list[Line | None], doc: Layout) -> list[Draft]:
    """Group lines into drafts of blocks: split at blank lines, text boxes, list markers, hard breaks."""
    drafts: list[Draft] = []
    current: Draft | None = None
    for line in lines:
        if line is None:
            current = None
            continue
        marker = LIST_MARKER.match(line.text)
        starts = (current is None or _starts_box(current.lines[-1], line, doc)
                  or _hard_break(current.lines[-1], line, len(current.lines) == 1, doc))
        if MD_HEADING.match(line.text):
            drafts.append(Draft([line], md_heading=True))
            current = None
            continue
        if marker and (starts or (current and current.item) or marker.group(1)[0] in _STRONG_BULLETS):
            current = Draft([line], item=True)
            drafts.append(current)
        elif starts or current is None:
            current = Draft([line])
            drafts.append(current)
        else:
            current.lines.append(line)
    return drafts


def _starts_box(a: Line, b: Line, doc: Layout) -> bool:
    """A line with a leading space opens a text box unless it visibly continues the line before."""
    if not b.lead:
        return False
    return not (b.text[0].islower() and (a.trail or a.text.endswith("-") or _broken_word(a, b, doc)))


def _hard_break(a: Line, b: Line, first: bool, doc: Layout) -> bool:
    """A line break that ends a block: the next word would have fitted on the line (judged by the
    next line's length). Where soft wraps are marked with a space, a line without one ends a block
    and the fit test only checks a block's first line ("Partnerland-Konzept " above its text)."""
    if a.text.endswith("-") or b.text[0].islower():
        return False
    if doc.space_marks_wrap and (not a.trail or not first):
        return not a.trail
    return len(a.text) + 1 + len(b.text.split()[0]) <= 0.85 * len(b.text)


def rejoin_split_paragraphs(drafts: list[Draft], doc: Layout) -> list[Draft]:
    """Heal paragraphs cut by blank lines, page breaks or a figure placed in between."""
    drafts = list(drafts)
    index = 0
    while index < len(drafts):
        target = _continuation(drafts, index, doc)
        if target is None:
            index += 1
        else:
            drafts[index].lines.extend(drafts.pop(target).lines)
    return drafts


def _continuation(drafts: list[Draft], index: int, doc: Layout) -> int | None:
    draft, last = drafts[index], drafts[index].lines[-1]
    if draft.md_heading or _TERMINAL.search(last.text) or index + 1 >= len(drafts):
        return None
    following = drafts[index + 1]
    if following.item or following.md_heading:
        return None
    if _starts_lower(following) and not last.text[-1].isdigit():
        return index + 1  # not after "T +49 30 310078-387": "go-cluster" starts sentences too
    hyphen = bool(_HYPHEN_END.search(last.text))
    # Look past a figure only from a word cut by a hyphen or a paragraph longer than any heading.
    if hyphen or (not draft.item and sum(len(line.text.split()) for line in draft.lines) > 15):
        for ahead in range(index + 1, min(len(drafts), index + 17)):
            if _starts_lower(drafts[ahead]) and not drafts[ahead].item:
                return ahead
            if not _figure_like(drafts[ahead], doc):
                break
    if hyphen and following.lines[0].text[0].isupper():
        return index + 1  # "Clustermanagement-" / "Themen": a compound split by a blank line
    if doc.space_marks_wrap and last.trail and following.lines[0].gap:
        return index + 1  # a soft wrap followed by a blank line
    return None


def _starts_lower(draft: Draft) -> bool:
    first = draft.lines[0].text.split()[0]
    return first[0].islower() and not re.search(r"[./@:]\w", first)  # not "bmwk.de"


def _figure_like(draft: Draft, doc: Layout) -> bool:
    """Labels of a figure or a caption: a few short lines, none ending a sentence or cut off."""
    last = draft.lines[-1]
    if draft.item or draft.md_heading or len(draft.lines) > 5 or _HYPHEN_END.search(last.text):
        return False
    return not (doc.space_marks_wrap and last.trail) and all(
        len(line.text) <= 70 and not _TERMINAL.search(line.text) for line in draft.lines)


def join_lines(lines: list[Line], doc: Layout) -> str:
    text = lines[0].text
    for a, b in itertools.pairwise(lines):
        if _HYPHEN_END.search(text):
            text = rejoin_hyphenated(text, b.text, doc)
        else:
            text += b.text if _broken_word(a, b, doc) else " " + b.text
    return text


def rejoin_hyphenated(left: str, right: str, doc: Layout) -> str:
    """Join `left` (ending in a hyphen) and the next line: drop a line-break hyphen, keep real ones."""
    stem = _HYPHEN_END.search(left).group(1)  # type: ignore[union-attr]
    word = re.match(r"[\w.]*", right).group()  # type: ignore[union-attr]
    if word in doc.conjunctions:
        return f"{left} {right}"  # suspended hyphen: "Aus- und Weiterbildung"
    if not right[0].islower():
        return left + right  # "Wissenschaft-Wirtschaft-Kooperationen", "Neo-Ökologie"
    core = word.rstrip(".")
    if f"{stem}-{core}" in doc.vocabulary and f"{stem}{core}" not in doc.vocabulary:
        return left + right  # the document writes this compound with a hyphen
    return left[:-1] + right


def _broken_word(a: Line, b: Line, doc: Layout) -> bool:
    """A word broken without hyphen ("Cluster" / "initiativen"): only where soft wraps are marked
    with a space; after a gap only when the document uses the joined word elsewhere."""
    if not doc.space_marks_wrap or a.trail:
        return False
    head, tail = a.text.rsplit(" ", 1)[-1], re.match(r"[^\W\d_]*", b.text).group()  # type: ignore[union-attr]
    if not (head.isalpha() and tail and tail.islower() and b.text[len(tail):len(tail) + 1] in " .,;:!?"):
        return False
    return not b.gap or head + tail in doc.vocabulary
