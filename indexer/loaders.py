"""Read corpus files into pages of text: one loader per suffix (.pdf, .txt, .md).

A PDF is read with its layout (indexer/pdf_layout.py, pypdfium2) and structured from it
(indexer/pdf_structure.py): its `blocks` (headings, paragraphs, lists, figures, each with the pages it
spans) go to the chunker as they are, its `facts` (title, publisher, date) to the catalogue. Text
files are one unnumbered page for the text cleaner.

Every failure is a `DocumentError` with a one-line reason, so the index builder can skip the file
and say why. Encrypted PDFs are read only if they open with the empty password (permissions-only
protection, common for brochures); a PDF that needs a password is refused.

>>> doc = load_document(Path("corpus/go-cluster-flyer-2019-en.txt"), Path("corpus"), max_bytes=10**6)
>>> len(doc.pages), doc.pages[0].number
(1, None)
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from indexer.cleaning import Block
from indexer.errors import CorpusError, DocumentError
from indexer.pdf_structure import DocumentFacts

logger = logging.getLogger(__name__)

SKIPPED_NAMES = ("catalog.toml",)


@dataclass(frozen=True)
class Page:
    number: int | None  # 1-based for PDFs; None for text files
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    path: Path
    pages: list[Page] = field(default_factory=list)
    metadata_title: str | None = None
    blocks: list[Block] | None = None  # structure read off a PDF's layout; None: clean the pages' text
    facts: DocumentFacts | None = None  # what a PDF says about itself (title, publisher, date)


def iter_corpus_files(corpus_dir: Path) -> list[Path]:
    """Candidate documents, sorted: everything but catalog.toml, README* and hidden files or folders.
    Unknown suffixes are listed too, so the builder can report them (load_document refuses them)."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    files = []
    for path in sorted(corpus_dir.rglob("*")):
        parts = path.relative_to(corpus_dir).parts
        if any(part.startswith(".") for part in parts) or path.name in SKIPPED_NAMES:
            continue
        if path.name.upper().startswith("README") or path.is_dir():
            continue
        files.append(path)
    return files


def load_document(path: Path, corpus_dir: Path, max_bytes: int, max_chars: int | None = None) -> LoadedDocument:
    """Check the file (inside the corpus, known suffix, not empty, not too large), then load it; its
    text may hold at most `max_chars` characters (a text file is refused while streaming)."""
    # Checked on the resolved path, so a symlinked folder inside the corpus cannot lead out either.
    if not path.resolve().is_relative_to(corpus_dir.resolve()):
        raise DocumentError(f"{path.name}: symlink points outside the corpus folder (not followed)")
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        known = ", ".join(sorted(LOADERS))
        raise DocumentError(f"{path.name}: unknown file type {path.suffix or '(none)'!r} (known: {known})")
    if not path.is_file():
        raise DocumentError(f"{path.name}: not a readable file")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(f"{path.name}: empty file (0 bytes)")
    if size > max_bytes:
        raise DocumentError(f"{path.name}: {size} bytes is over the limit max_file_bytes={max_bytes}")
    document = load_text(path, max_chars) if loader is load_text else loader(path)
    chars = sum(len(page.text) for page in document.pages)
    if max_chars is not None and chars > max_chars:
        raise DocumentError(_too_long(path, chars, max_chars))
    return document


def load_text(path: Path, max_chars: int | None = None) -> LoadedDocument:
    """UTF-8 (a BOM tolerated), else cp1252. Read in blocks: a text over `max_chars` is only counted,
    never held whole, so memory stays bounded whatever the file size."""
    with path.open("rb") as fh:
        if b"\x00" in fh.read(8192):
            raise DocumentError(f"{path.name}: binary content in a text file")
        fh.seek(0)
        try:
            text, chars = _read_chars(fh, "utf-8-sig", "strict", max_chars)
        except UnicodeDecodeError:
            logger.warning("not UTF-8, read as cp1252: file=%s", path.name)
            fh.seek(0)
            text, chars = _read_chars(fh, "cp1252", "replace", max_chars)
    if max_chars is not None and chars > max_chars:
        raise DocumentError(_too_long(path, chars, max_chars))
    return LoadedDocument(path, [Page(None, text)])


def _read_chars(fh: BinaryIO, encoding: str, errors: str, max_chars: int | None) -> tuple[str, int]:
    """The decoded text ("" once over max_chars) and its length in characters."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    parts: list[str] = []
    chars = 0
    while True:
        block = fh.read(1 << 20)
        piece = decoder.decode(block, final=not block)
        chars += len(piece)
        if max_chars is not None and chars > max_chars:
            parts.clear()
        else:
            parts.append(piece)
        if not block:
            return "".join(parts), chars


def _too_long(path: Path, chars: int, max_chars: int) -> str:
    return f"{path.name}: text too long after extraction: {chars} characters, limit max_file_chars={max_chars}"


def load_pdf(path: Path) -> LoadedDocument:
    from indexer.catalog import detect_language
    from indexer.pdf_layout import read_pdf
    from indexer.pdf_structure import analyse

    pdf = read_pdf(path)
    pages = [Page(page.number, "\n".join(f.text for f in page.fragments)) for page in pdf.pages]
    if not any(page.text.strip() for page in pages):
        raise DocumentError(f"{path.name}: no text layer — needs OCR")
    empty = [page.number for page in pages if not page.text.strip()]
    if empty:
        logger.info("pages without text (images only): file=%s pages=%s", path.name, empty)
    structure = analyse(pdf, detect_language("\n".join(page.text for page in pages)))
    return LoadedDocument(path, pages, pdf.metadata_title, structure.blocks, structure.facts)


LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {".pdf": load_pdf, ".txt": load_text, ".md": load_text}
