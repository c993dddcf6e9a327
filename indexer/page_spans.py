"""Where a chunk's pages start: its words found again in the document's blocks, which know their pages.

The chunker packs, splits and overlaps block texts (joining with blank lines or spaces, repeating a
list's introduction, carrying a sentence over, prefixing a merged fragment's heading), so offsets do
not carry over; the words do, in document order. `PageLocator` walks each chunk's words along the
document's words and returns (offset in the chunk text where a page starts, page).

>>> from indexer.cleaning import Block
>>> locator = PageLocator([Block("paragraph", "Ende von Seite vier. Anfang von Seite fünf.", 4, ((0, 4), (21, 5)))])
>>> locator.spans("Ende von Seite vier. Anfang von Seite fünf.")
((0, 4), (21, 5))
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Sequence

from indexer.cleaning import Block

_WORD = re.compile(r"\S+")
_PROBE = 3  # words that must match where a chunk picks up the document again
_OVERLAP_WORDS = 80  # more than a chunk's overlap or a repeated list introduction


class PageLocator:
    def __init__(self, blocks: Sequence[Block]) -> None:
        self.words: list[str] = []
        self.pages: list[int | None] = []
        for block in blocks:
            spans = block.page_spans or (((0, block.page),) if block.page is not None else ())
            starts = [offset for offset, _ in spans]
            for match in _WORD.finditer(block.text):
                index = bisect.bisect_right(starts, match.start()) - 1
                self.words.append(match.group())
                self.pages.append(spans[index][1] if index >= 0 else None)
        self.positions: dict[str, list[int]] = defaultdict(list)
        for index, word in enumerate(self.words):
            self.positions[word].append(index)
        self.anchor = 0  # chunks come in document order: the previous one's start
        # Where each page's words begin (pages ascending): a lower bound for a chunk's start.
        self.first_pages: list[int] = []
        self.first_positions: list[int] = []
        for index, page in enumerate(self.pages):
            if page is not None and (not self.first_pages or page > self.first_pages[-1]):
                self.first_pages.append(page)
                self.first_positions.append(index)

    @property
    def has_pages(self) -> bool:
        return any(page is not None for page in self.pages)

    def spans(self, text: str, page: int | None = None) -> tuple[tuple[int, int], ...]:
        """Page starts in `text`: (offset, page), sorted, the first at 0; () if no word has a page.
        `page`: where the block the chunk starts in begins (the chunk starts no earlier)."""
        tokens = [(m.start(), m.group()) for m in _WORD.finditer(text)]
        words = [word for _, word in tokens]
        spans: list[tuple[int, int]] = []
        if page is not None:
            first = bisect.bisect_left(self.first_pages, page)
            self.anchor = max(self.anchor, self.first_positions[first] if first < len(self.first_pages) else 0)
        start = self._find(words, 0, self.anchor)
        if start is None:
            start = self._find(words, 0, 0)
        position, last = start, start
        for t, (offset, word) in enumerate(tokens):
            if position is None or position >= len(self.words) or self.words[position] != word:
                # A jump: the next list part after its repeated introduction, or a merged fragment.
                for origin in (position, self.anchor, 0):
                    position = self._find(words, t, origin) if origin is not None else None
                    if position is not None:
                        break
            page = None
            if position is not None:
                page, last = self.pages[position], position
                position += 1
            if page is None:
                continue  # a word not found takes the page of the words before it
            if not spans:
                spans.append((0, page))
            elif spans[-1][1] != page:
                spans.append((offset, page))
        if start is not None and last is not None:
            # The next chunk starts after this one's start, at most an overlap before its end (so a
            # passage that the document repeats is found where it stands, not where it first stood).
            self.anchor = max(start + 1, last - _OVERLAP_WORDS)
        return tuple(spans)

    def _find(self, words: list[str], t: int, start: int) -> int | None:
        """The first position >= start where words[t:t+_PROBE] stand in the document."""
        probe = words[t:t + _PROBE]
        candidates = self.positions.get(probe[0], []) if probe else []
        for index in candidates[bisect.bisect_left(candidates, start):]:
            if self.words[index:index + len(probe)] == probe:
                return index
        return None
