"""Read a PDF's text with its layout: pieces of lines with position, font size and weight (via pypdfium2).

pypdfium2 (BSD-3/Apache-2.0, PDFium's engine) is used rather than pypdf's visitor functions: it gives
every character's box, size and weight directly, is fast, and opens permissions-only encrypted
files. The result is one `PageText` per page, its `Fragment`s in content order; indexer/pdf_structure.py
turns them into headings, paragraphs and lists.

Coordinates are points from the page's top-left corner. PDFium reports a hyphen that ends a line as
such (a soft hyphen, U+00AD, and a hard one alike): a fragment that ends with one has `hyphen=True`
and its text ends in "-".

>>> pages = read_pdf(Path("brochure.pdf"))   # doctest: +SKIP
>>> pages[0].fragments[0].text, pages[0].fragments[0].size
('Vorwort', 17.0)
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from indexer.errors import DocumentError

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|-bd\b|,b\b", re.IGNORECASE)
_SOFT_HYPHEN, _PDFIUM_HYPHEN = 0xAD, 0x02
# PDFium error codes (fpdfview.h)
_ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 3, 4, 5


@dataclass
class Fragment:
    """Consecutive characters on one baseline, without a wide gap: a line of a column, a cell, a label."""

    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    bold: bool
    hyphen: bool = False  # ends with a hyphen that PDFium (or a soft hyphen) marks as a line-end break

    @property
    def top(self) -> float:
        return self.baseline - 0.8 * self.size

    @property
    def bottom(self) -> float:
        return self.baseline + 0.25 * self.size

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass
class PageText:
    number: int  # 1-based
    width: float
    height: float
    fragments: list[Fragment] = field(default_factory=list)


@dataclass
class PdfText:
    pages: list[PageText]
    metadata_title: str | None = None
    created: datetime | None = None


def read_pdf(path: Path) -> PdfText:
    """All pages' fragments; DocumentError for a damaged file or one that needs a password."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path, password="")
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == _ERR_PASSWORD:
            raise DocumentError(f"{path.name}: encrypted PDF that needs a password") from exc
        if code == _ERR_SECURITY:
            raise DocumentError(f"{path.name}: encrypted PDF with an unsupported security handler") from exc
        raise DocumentError(f"{path.name}: corrupt PDF ({exc})") from exc
    try:
        metadata = document.get_metadata_dict(skip_empty=True)
        pages = [_read_page(document, index) for index in range(len(document))]
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"{path.name}: corrupt PDF ({exc})") from exc
    finally:
        document.close()
    return PdfText(pages, metadata.get("Title"), parse_pdf_date(metadata.get("CreationDate", "")))


def parse_pdf_date(value: str) -> datetime | None:
    """"D:20230112093000+01'00'" -> datetime (time zone ignored: only the day is used)."""
    match = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?", value.strip())
    if not match:
        return None
    parts = [int(p) if p else d for p, d in zip(match.groups(), (0, 1, 1, 0, 0, 0), strict=True)]
    try:
        return datetime(*parts)
    except ValueError:
        return None


def _read_page(document, index: int) -> PageText:
    import pypdfium2.raw as c

    page = document[index]
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        chars = _chars(c, textpage.raw, height)
    finally:
        textpage.close()
        page.close()
    return PageText(index + 1, width, height, _fragments(chars))


@dataclass
class _Char:
    code: int
    x0: float
    x1: float
    baseline: float
    size: float
    bold: bool


def _chars(c, textpage, height: float) -> list[_Char | None]:
    """The page's characters in content order; None marks a space or line break (PDFium's or the file's)."""
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    bold_by_object: dict[int, bool] = {}
    chars: list[_Char | None] = []
    for i in range(c.FPDFText_CountChars(textpage)):
        code = c.FPDFText_GetUnicode(textpage, i)
        if code in (0x20, 0x0A, 0x0D, 0x09, 0xA0, 0x00) or c.FPDFText_IsGenerated(textpage, i) == 1:
            chars.append(None)
            continue
        if abs(c.FPDFText_GetCharAngle(textpage, i)) > 0.05:
            continue  # rotated text (margin labels) is not part of the reading flow
        c.FPDFText_GetCharBox(textpage, i, ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom),
                              ctypes.byref(top))
        c.FPDFText_GetCharOrigin(textpage, i, ctypes.byref(ox), ctypes.byref(oy))
        size = c.FPDFText_GetFontSize(textpage, i)
        obj = c.FPDFText_GetTextObject(textpage, i)
        key = ctypes.cast(obj, ctypes.c_void_p).value or 0
        bold = bold_by_object.get(key)
        if bold is None:
            weight = c.FPDFText_GetFontWeight(textpage, i)
            length = c.FPDFText_GetFontInfo(textpage, i, name, len(name), ctypes.byref(flags))
            font = name.raw[: max(0, length - 1)].decode("latin-1", "replace")
            bold = weight >= 600 or bool(_BOLD_NAME.search(font)) or bool(flags.value & (1 << 18))
            bold_by_object[key] = bold
        if c.FPDFText_IsHyphen(textpage, i) == 1 or code == _PDFIUM_HYPHEN:
            code = _PDFIUM_HYPHEN
        chars.append(_Char(code, left.value, right.value, height - oy.value, size or (top.value - bottom.value),
                           bold))
    return chars


def _fragments(chars: list[_Char | None]) -> list[Fragment]:
    """Characters grouped into fragments: same baseline, left to right, no gap wider than about an em."""
    fragments: list[Fragment] = []
    run: list[_Char] = []
    spaces: list[int] = []  # indexes in run before which a space stands
    pending_space = False

    def flush() -> None:
        if run:
            fragments.append(_fragment(run, spaces))
        run.clear()
        spaces.clear()

    for char in chars:
        if char is None:
            pending_space = True
            continue
        if run:
            last = run[-1]
            size = max(last.size, char.size)
            gap = char.x0 - last.x1
            same_line = abs(char.baseline - last.baseline) <= 0.45 * size
            if not same_line or gap > 1.0 * size or gap < -0.5 * size:
                flush()
            elif pending_space or gap > 0.5 * size:  # PDFium adds spaces a file leaves out
                spaces.append(len(run))
        pending_space = False
        run.append(char)
    flush()
    return _merge_neighbours(fragments)


def _fragment(run: list[_Char], spaces: list[int]) -> Fragment:
    parts: list[str] = []
    space_at = set(spaces)
    hyphen = False
    for index, char in enumerate(run):
        if index in space_at:
            parts.append(" ")
        if char.code == _PDFIUM_HYPHEN:
            hyphen = index == len(run) - 1
            parts.append("-")
        elif char.code == _SOFT_HYPHEN:
            if index == len(run) - 1:  # kept only at the line end, where it means "join, drop me"
                hyphen = True
                parts.append("\u00ad")
        else:
            parts.append(chr(char.code) if char.code < 0x110000 else "\ufffd")
    # The body size is what most characters have (a superscript does not make a line smaller).
    sizes: dict[float, int] = {}
    for char in run:
        sizes[round(char.size, 1)] = sizes.get(round(char.size, 1), 0) + 1
    size = max(sizes, key=lambda s: (sizes[s], s))
    bold = sum(char.bold for char in run) * 2 > len(run)
    main = [char for char in run if round(char.size, 1) == size]
    baseline = sorted(char.baseline for char in main)[len(main) // 2]
    return Fragment("".join(parts).strip(), min(ch.x0 for ch in run), max(ch.x1 for ch in run), baseline,
                    size, bold, hyphen)


def _merge_neighbours(fragments: list[Fragment]) -> list[Fragment]:
    """Join fragments written out of order on one baseline (kerned words written one by one)."""
    merged: list[Fragment] = []
    for fragment in fragments:
        if not fragment.text:
            continue
        previous = merged[-1] if merged else None
        if (previous is not None and abs(previous.baseline - fragment.baseline) <= 0.2 * fragment.size
                and 0 <= fragment.x0 - previous.x1 <= 0.3 * fragment.size and previous.size == fragment.size
                and previous.bold == fragment.bold and not previous.hyphen):
            gap = " " if fragment.x0 - previous.x1 > 0.1 * fragment.size else ""
            merged[-1] = Fragment(previous.text + gap + fragment.text, previous.x0, fragment.x1, previous.baseline,
                                  previous.size, previous.bold, fragment.hyphen)
        else:
            merged.append(fragment)
    return merged
