"""Split a cleaned document into chunks that follow its structure.

A chunk starts at a heading and carries it as `section`; paragraphs are packed up to `max_tokens`
(counted on `Chunk.embedding_text()`, i.e. with title and section, which is what the embedder reads);
a bullet list stays whole together with the sentence introducing it, and is split at item boundaries
only when it alone is too long (each part repeats the introduction); an overlong paragraph is split
at sentence boundaries with `overlap_tokens` carried over, an overlong sentence at words, and a word
longer than a chunk (text without spaces, such as 10 MiB of "AAAA" on one PDF page) by characters;
fragments under `min_tokens` join a neighbour. No chunk exceeds `max_tokens`, which may not exceed the
embedder's `token_limit`.

>>> chunker = Chunker(max_tokens=120, overlap_tokens=16)
>>> info = DocumentInfo(file="a.txt", title="A", language="de", date_label="2023")
>>> page = Page(None, "Aufnahme in das Programm\\n\\nJedes Innovationscluster kann sich bewerben.")
>>> [(c.section, c.text) for c in chunker.split(info, [page])]
[('Aufnahme in das Programm', 'Jedes Innovationscluster kann sich bewerben.')]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from indexer.catalog import Catalog, DocumentInfo
from indexer.chunk import Chunk
from indexer.cleaning import PAGE_BREAK, Block, clean_blocks
from indexer.errors import DocumentError
from indexer.loaders import Page, load_document
from indexer.page_spans import PageLocator
from indexer.sentences import split_sentences

__all__ = ["CHUNKING_VERSION", "MIN_TOKENS", "Chunker", "chunk_file", "estimate_tokens", "split_sentences"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
MIN_TOKENS = 12
# E5 reads at most 512 tokens, prompt and <s>/</s> included: anything longer is cut off unseen.
TOKEN_LIMIT = 512
# No subword token spans more characters than this (a run of "-" reaches about 16 per token), so a text
# longer than max_tokens * MAX_CHARS_PER_TOKEN cannot fit: it is never handed to the counter whole.
MAX_CHARS_PER_TOKEN = 32
# Title and section go into every chunk of a document: a longer "heading" is a paragraph, a longer
# title (from PDF metadata) is cut.
MAX_HEAD_CHARS = 200
# Bump when cleaning or chunking rules change: it is part of settings(), so the next build re-chunks.
# 2: PDFs structured from their layout, page spans, hard split of unbreakable text; 3: figure labels
CHUNKING_VERSION = 3


def estimate_tokens(text: str) -> int:
    """A conservative stand-in for a subword tokenizer: one token per three characters."""
    return math.ceil(len(text) / 3)


@dataclass(frozen=True)
class _Unit:
    text: str
    page: int | None
    kind: str  # "text" or "list"
    intro: str = ""  # the sentence that introduces a list


@dataclass(frozen=True)
class _Piece:
    section: str
    text: str
    page: int | None


class Chunker:
    """Structure-aware splitter; `count_tokens` is the embedding tokenizer's counter when known."""

    def __init__(self, max_tokens: int, overlap_tokens: int, count_tokens: Callable[[str], int] | None = None,
                 min_tokens: int = MIN_TOKENS, token_limit: int = TOKEN_LIMIT) -> None:
        if max_tokens < 32:
            raise ValueError(f"max_tokens={max_tokens} is too small for a passage (at least 32)")
        if max_tokens > token_limit:
            raise ValueError(f"max_tokens={max_tokens} is over the embedder's limit of {token_limit} tokens")
        if not 0 <= overlap_tokens <= max_tokens // 2:
            raise ValueError(f"overlap_tokens={overlap_tokens} must be between 0 and max_tokens/2")
        self.max_tokens, self.overlap_tokens, self.min_tokens = max_tokens, overlap_tokens, min_tokens
        self.count = count_tokens or estimate_tokens
        self.max_chars = max_tokens * MAX_CHARS_PER_TOKEN

    def settings(self) -> dict[str, object]:
        """What the manifest records: a change here re-chunks every file on the next build."""
        return {"max_tokens": self.max_tokens, "overlap_tokens": self.overlap_tokens,
                "min_tokens": self.min_tokens, "counter": getattr(self.count, "__qualname__", "estimate"),
                "version": CHUNKING_VERSION}

    def split(self, doc: DocumentInfo, pages: list[Page], blocks: list[Block] | None = None) -> list[Chunk]:
        """Chunks of the pages' cleaned text, or of `blocks` already structured (a PDF's layout)."""
        if len(doc.title) > MAX_HEAD_CHARS:
            doc = replace(doc, title=doc.title[:MAX_HEAD_CHARS].rsplit(" ", 1)[0] + " …")
        if blocks is None:
            blocks = clean_blocks(PAGE_BREAK.join(page.text for page in pages), doc.language,
                                  [page.number for page in pages])
        pieces = [piece for section, group in _sections(blocks) for piece in self._pack(doc, section, group)]
        locator = PageLocator(blocks)
        return [Chunk.create(text=piece.text, source=doc.file, title=doc.title, language=doc.language,
                             ordinal=ordinal, section=piece.section, page=piece.page, date=doc.date,
                             date_label=doc.date_label, sort_date=doc.sort_date,
                             page_spans=locator.spans(piece.text, piece.page) if locator.has_pages else ())
                for ordinal, piece in enumerate(self._merge_tiny(doc, pieces))]

    def _fits(self, doc: DocumentInfo, section: str, text: str) -> bool:
        if len(text) > self.max_chars:
            return False  # too long for any tokenizer; counting megabytes would take seconds and GBs
        head = " | ".join(part for part in (doc.title, section) if part)  # as in Chunk.embedding_text
        return self.count(f"{head}\n{text}" if head else text) <= self.max_tokens

    def _pack(self, doc: DocumentInfo, section: str, blocks: list[Block]) -> list[_Piece]:
        def fits(text: str) -> bool:
            return self._fits(doc, section, text)

        parts = [(part, unit.page) for unit in _units(blocks) for part in self._fit(unit, fits)]
        groups = _greedy(parts, lambda group: fits("\n\n".join(text for text, _ in group)))
        return [_Piece(section, "\n\n".join(text for text, _ in group), group[0][1]) for group in groups]

    def _fit(self, unit: _Unit, fits: Callable[[str], bool]) -> list[str]:
        whole = f"{unit.intro}\n{unit.text}" if unit.intro else unit.text
        if fits(whole):
            return [whole]
        if unit.kind == "text":
            return self._split_text(unit.text, fits)
        # A list: split at item boundaries, each part under the introducing sentence; an item longer
        # than a chunk (alone in its group) is split like a paragraph.
        def join(items: list[str]) -> str:
            return "\n".join([unit.intro, *items] if unit.intro else items)

        parts = [join(items) for items in _greedy(unit.text.split("\n"), lambda items: fits(join(items)))]
        return [piece for part in parts
                for piece in ([part] if fits(part) else self._split_text(part.replace("\n", " "), fits))]

    def _split_text(self, text: str, fits: Callable[[str], bool]) -> list[str]:
        """At sentence boundaries; each part after the first starts with the previous part's tail."""
        sentences = [piece for sentence in split_sentences(text) for piece in self._wrap_words(sentence, fits)]
        parts: list[str] = []
        current: list[str] = []
        for sentence in sentences:
            if current and not fits(" ".join([*current, sentence])):
                parts.append(" ".join(current))
                current = self._overlap(current)
                if not fits(" ".join([*current, sentence])):
                    current = []
            current.append(sentence)
        return [*parts, " ".join(current)] if current else parts

    def _wrap_words(self, sentence: str, fits: Callable[[str], bool]) -> list[str]:
        """A sentence longer than a chunk, cut at word boundaries; a word longer than a chunk is cut
        by characters."""
        if fits(sentence):
            return [sentence]
        parts: list[str] = []
        words: list[str] = []
        for word in sentence.split():
            if fits(word):
                words.append(word)
                continue
            parts += _join_greedy(words, fits)
            parts += self._hard_split(word, fits)
            words = []
        return parts + _join_greedy(words, fits)

    def _hard_split(self, word: str, fits: Callable[[str], bool]) -> list[str]:
        """Cut text without a break into parts that fit: the length is guessed from the characters per
        token of a sample (counted, never the whole text), then shortened until the counter agrees."""
        parts: list[str] = []
        start = 0
        while start < len(word):
            window = word[start:start + self.max_chars]
            sample = window[:self.max_tokens * 4]
            size = min(len(window), len(sample) * self.max_tokens * 9 // (10 * max(self.count(sample), 1)))
            while not fits(window[:size]):
                if size <= 1:
                    raise DocumentError(f"title and heading alone are over max_tokens={self.max_tokens}")
                size = max(1, size * 9 // 10)
            parts.append(window[:size])
            start += size
        return parts

    def _overlap(self, sentences: list[str]) -> list[str]:
        """Whole trailing sentences within overlap_tokens, else the last sentence's trailing words."""
        words = self._tail(sentences[-1].split())
        return self._tail(sentences) or ([" ".join(words)] if words else [])

    def _tail(self, items: list[str]) -> list[str]:
        tail: list[str] = []
        for item in reversed(items):
            if self.count(" ".join([item, *tail])) > self.overlap_tokens:
                break
            tail.insert(0, item)
        return tail

    def _merge_tiny(self, doc: DocumentInfo, pieces: list[_Piece]) -> list[_Piece]:
        """A fragment under min_tokens (a caption, a footnote, a one-line section) joins the previous
        chunk, else the next; its own heading goes along when it changes section."""
        pieces = list(pieces)
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            if self.count(piece.text) >= self.min_tokens or not self._absorb(doc, pieces, index):
                index += 1
        return pieces

    def _absorb(self, doc: DocumentInfo, pieces: list[_Piece], index: int) -> bool:
        piece = pieces[index]
        neighbours = [i for i in (index - 1, index + 1) if 0 <= i < len(pieces)]
        neighbours.sort(key=lambda i: pieces[i].section != piece.section)  # same section first
        for target in neighbours:
            receiver = pieces[target]
            text = piece.text
            if piece.section and piece.section != receiver.section:
                text = f"{piece.section}\n{text}"
            joined = f"{receiver.text}\n\n{text}" if target < index else f"{text}\n\n{receiver.text}"
            if self._fits(doc, receiver.section, joined):
                page = receiver.page if target < index or piece.page is None else piece.page
                pieces[target] = _Piece(receiver.section, joined, page)
                del pieces[index]
                return True
        return False


def _sections(blocks: list[Block]) -> Iterator[tuple[str, list[Block]]]:
    section, group = "", []
    for block in blocks:
        if block.kind == "heading" and len(block.text) > MAX_HEAD_CHARS:
            group.append(Block("paragraph", block.text, block.page))
        elif block.kind == "heading":
            if group:
                yield section, group
            section, group = block.text, []
        else:
            group.append(block)
    if group:
        yield section, group


def _units(blocks: list[Block]) -> list[_Unit]:
    """Paragraphs and lists; a list takes along the sentence before it that ends with a colon."""
    units: list[_Unit] = []
    for block in blocks:
        if block.kind == "list" and units and units[-1].kind == "text" and units[-1].text.endswith(":"):
            previous = units.pop()
            *before, intro = split_sentences(previous.text)
            if before:
                units.append(_Unit(" ".join(before), previous.page, "text"))
            units.append(_Unit(block.text, block.page, "list", intro))
        else:
            units.append(_Unit(block.text, block.page, "list" if block.kind == "list" else "text"))
    return units


def _join_greedy(words: list[str], fits: Callable[[str], bool]) -> list[str]:
    return [" ".join(group) for group in _greedy(words, lambda group: fits(" ".join(group)))]


def _greedy(items: list[T], fits: Callable[[list[T]], bool]) -> list[list[T]]:
    """Consecutive items grouped greedily while a group fits (an item too big alone forms its own)."""
    groups: list[list[T]] = []
    for item in items:
        if groups and fits([*groups[-1], item]):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def chunk_file(path: Path, corpus_dir: Path, catalog: Catalog, chunker: Chunker,
               max_bytes: int, max_chars: int | None = None) -> list[Chunk]:
    """Load, clean and split one corpus file (DocumentError if it cannot be read or its text is over
    `max_chars` characters)."""
    document = load_document(path, corpus_dir, max_bytes, max_chars)
    info = catalog.info_for(path, "\n".join(page.text for page in document.pages), document.metadata_title,
                            document.facts)
    chunks = chunker.split(info, document.pages, document.blocks)
    if not chunks:
        raise DocumentError(f"{path.name}: no text left to index after cleaning")
    logger.info("chunked file=%s chunks=%d", info.file, len(chunks))
    return chunks
