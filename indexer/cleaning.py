"""Clean extracted document text into structure: headings, paragraphs and bullet lists.

The extraction of the programme documents leaves noise (see corpus/README.md): words hyphenated across
line and page breaks, soft-wrapped lines, page furniture (credits, logos, page numbers, tables of
contents) and emoji. `clean_blocks` repairs that and returns `Block`s for the chunker; `clean_text`
renders them as text: a heading as "# Heading", a list as "- item" lines, blocks separated by a blank
line. Pages are joined with PAGE_BREAK ("\\f") so words hyphenated across a page break heal too.
Rejoining lines is indexer/reflow.py's job.

>>> clean_text("Klima-\\nschutz und Aus-\\nund Weiterbildung.\\n\\n• erstens\\n• zweitens", "de")
'Klimaschutz und Aus- und Weiterbildung.\\n\\n- erstens\\n- zweitens'
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from indexer.reflow import (
    LIST_MARKER,
    MD_HEADING,
    Layout,
    Line,
    join_lines,
    rejoin_split_paragraphs,
    space_marks_wrap,
    split_drafts,
)

PAGE_BREAK = "\f"

_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad[ \t]*\n[ \t]*")  # not across a page break: pages keep count
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff\ufe00-\ufe0f\U000e0000-\U000e007f]")
# Emoji, pictographs, dingbats, symbol-font glyphs (private use) and replacement characters.
_PICTOGRAPHS = re.compile(r"[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u20e3\ue000-\uf8ff\ufffd]")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
_FURNITURE = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\d{1,3}",  # page and figure numbers
    r"[^\W\d_]",  # a lone letter left by a decorative initial ("K")
    r"logo\b.{0,60}",  # alt text of logos ("Logo des Programms go-cluster")
    r"(image|picture|photo)s? credits?\b.*|(bild|foto)nachweise?\b.*|bildquellen?\b.*",
    r".*©.*",
    r".*/\s*(istock|adobe stock|shutterstock|getty images|fotolia|unsplash)\b.*",
    r"(.*/ )?[ps]\. \d+(\s*[–-]\s*\d+)?",  # credit page references "... / p. 11 – 19"
    r".+ /",  # credit lists wrapped after a slash
    r"(https?://|mailto:)\S+",  # bare link targets appended by the PDF export
    r"(table of )?contents|inhalt(sverzeichnis)?",
)]
_VALUE = re.compile(r"\d{1,3}")  # a figure without its label
_TOC_LINE = re.compile(r"\S.*\t\s*\d{1,3}")  # "Foreword<TAB>2"
_CONJUNCTIONS = {"de": frozenset({"und", "oder", "bzw.", "sowie", "bis"}), "en": frozenset({"and", "or"})}
# "2012", "2015 – 2020", "Ab 2020", "10:30 Uhr": prefixed to the heading that follows
_DATE_LABEL = re.compile(r"(\w+ )?(19|20)\d\d([\s–/|-]+(19|20)\d\d)*( \w+)?|\d{1,2}:\d\d( Uhr)?")
_NAME = re.compile(r"[A-ZÄÖÜ][\w³-]*( [A-ZÄÖÜ][\w³-]*){0,2}")  # "Ulrike Möller": a caption, not a title

Row = tuple[str, str, int | None]  # (kind, text, page) before headings are decided


@dataclass(frozen=True)
class Block:
    """A unit of structure: kind "heading", "paragraph" or "list" (text: one "- item" a line).
    `page_spans`: (offset in text where a page starts, page), for blocks read from a PDF's layout."""

    kind: str
    text: str
    page: int | None = None
    page_spans: tuple[tuple[int, int], ...] = ()


def clean_blocks(raw: str, language: str, page_numbers: Sequence[int | None] | None = None) -> list[Block]:
    """Clean `raw` (pages joined by PAGE_BREAK, the i-th page numbered page_numbers[i])."""
    text = normalise_characters(raw)
    lines = drop_page_furniture(_split_lines(text, page_numbers))
    doc = Layout(frozenset(re.findall(r"[\w-]+", text)), space_marks_wrap(lines),
                 _CONJUNCTIONS["en"] | _CONJUNCTIONS.get(language, frozenset()))
    drafts = rejoin_split_paragraphs(split_drafts(lines, doc), doc)
    rows: list[Row] = []
    for draft in drafts:
        line_text = join_lines(draft.lines, doc)
        kind = "heading" if draft.md_heading else "item" if draft.item else "text"
        rows.append((kind, MD_HEADING.sub("", line_text).rstrip("# ") if draft.md_heading else line_text,
                     draft.lines[0].page))
    return mark_headings(group_lists(drop_repeated_blocks(rows)))


def clean_text(raw: str, language: str) -> str:
    render = {"heading": "# {}", "paragraph": "{}", "list": "{}"}
    return "\n\n".join(render[b.kind].format(b.text) for b in clean_blocks(raw, language))


def normalise_characters(text: str) -> str:
    """NFC; NBSP becomes a space, PDF ligatures letters; a soft hyphen ending a line joins the word;
    other soft hyphens, zero-width marks, emoji and pictographs go. (Tabs and other spaces are collapsed
    line by line, after tabs marked contents lines.)"""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).translate(_LIGATURES)
    text = _SOFT_HYPHEN_BREAK.sub("", text)  # "Maßnah\u00ad" / "men": one word, not "Maßnah men"
    return _PICTOGRAPHS.sub("", _INVISIBLE.sub("", text.replace("\u00a0", " ")))


def _split_lines(text: str, page_numbers: Sequence[int | None] | None) -> list[Line | None]:
    lines: list[Line | None] = []
    for index, segment in enumerate(text.split(PAGE_BREAK)):
        page = page_numbers[index] if page_numbers and index < len(page_numbers) else None
        if index:
            lines.append(None)  # a page break ends a block like a blank line
        for raw in segment.split("\n"):
            content = " ".join(raw.split())  # str.split knows tabs, thin and em spaces
            lead = raw[:1].isspace()
            gap = lead or not lines or lines[-1] is None
            lines.append(Line(content, page, raw, lead, raw[-1:].isspace(), gap) if content else None)
    return lines


def drop_page_furniture(lines: list[Line | None]) -> list[Line | None]:
    """Blank out credits, logos, page numbers, lone letters, contents lines and running headers."""
    lines = join_label_values(lines)
    counts = Counter(line.text for line in lines if line)
    outline = _outline_lines(lines)
    return [None if line is None or index in outline or _is_furniture(line, counts) else line
            for index, line in enumerate(lines)]


def join_label_values(lines: list[Line | None]) -> list[Line | None]:
    """Figures pages set a label and its value apart ("Clusterreportagen:", blank, "16"): a short
    number right after a label is its value, not a page number, so the two become "Clusterreportagen: 16"."""
    out: list[Line | None] = list(lines)
    last: int | None = None
    for index, line in enumerate(out):
        if line is None:
            continue
        if last is not None and _VALUE.fullmatch(line.text) and out[last].text.endswith(":"):  # type: ignore[union-attr]
            label = out[last]
            assert label is not None
            out[last] = replace(label, text=f"{label.text} {line.text}", raw=f"{label.raw.rstrip()} {line.text}")
            out[index] = None
            last = None
            continue
        last = index
    return out


def _is_furniture(line: Line, counts: Counter[str]) -> bool:
    if _TOC_LINE.fullmatch(line.raw.strip()):
        return True
    # Running headers and captions repeat; years and real headings repeat far less often.
    if counts[line.text] >= 4 and len(line.text) <= 40 and not re.search(r"\d{4}", line.text):
        return True
    return any(pattern.fullmatch(line.text) for pattern in _FURNITURE)


def _outline_lines(lines: list[Line | None]) -> set[int]:
    """PDF bookmarks exported as tab-indented lines (a table of contents): runs of three or more."""
    runs: list[list[int]] = [[]]
    for index, line in enumerate(lines):
        if line is not None and line.raw.startswith("\t") and not LIST_MARKER.match(line.text):
            runs[-1].append(index)
        elif line is not None:
            runs.append([])
    return {index for run in runs if len(run) >= 3 for index in run}


def drop_repeated_blocks(rows: list[Row]) -> list[Row]:
    """"Weiterführende Informationen" twice in a row is one heading."""
    return [row for index, row in enumerate(rows) if not index or row[1] != rows[index - 1][1]]


def group_lists(rows: list[Row]) -> list[Row]:
    """Consecutive items form one list; numbered lists need two items ("1. Vernetzungstag" is not one)."""
    grouped: list[Row] = []
    items: list[Row] = []
    for row in [*rows, ("end", "", None)]:
        if row[0] == "item":
            items.append(row)
            continue
        if len(items) == 1 and items[0][1][0].isdigit():
            grouped.append(("text", items[0][1], items[0][2]))
        elif items:
            texts = [text if text[0].isdigit() else text[LIST_MARKER.match(text).end():]  # type: ignore[union-attr]
                     for _, text, _ in items]
            grouped.append(("list", "\n".join(f"- {text}" for text in texts), items[0][2]))
        items = []
        grouped.append(row)
    return grouped[:-1]


def mark_headings(rows: list[Row]) -> list[Block]:
    """A heading is a short line followed by content. Of a run of short lines only the last one is
    (or the one before it if the last is a name caption), prefixed by a date label right before it
    ("2012 – Geburtsstunde des Programms")."""
    candidate = [kind == "text" and looks_like_heading(text) for kind, text, _ in rows]
    kinds = [{"text": "paragraph"}.get(kind, kind) for kind, _, _ in rows]
    start = 0
    while start < len(rows):
        end = start
        while candidate[start] and end + 1 < len(rows) and candidate[end + 1]:
            end += 1
        if candidate[start] and end + 1 < len(rows) and kinds[end + 1] != "heading":
            caption = (end > start and _NAME.fullmatch(rows[end][1])
                       and not _DATE_LABEL.fullmatch(rows[end - 1][1]))
            kinds[end - 1 if caption else end] = "heading"
        start = end + 1
    blocks: list[Block] = []
    for index, ((_, text, page), kind) in enumerate(zip(rows, kinds, strict=True)):
        if kind == "heading" and index and candidate[index - 1] and _DATE_LABEL.fullmatch(blocks[-1].text):
            label = blocks.pop()
            text, page = f"{label.text} – {text}", label.page
        blocks.append(Block(kind, text, page))
    return blocks


def looks_like_heading(text: str) -> bool:
    """Short, one sentence, no final period or comma, no address."""
    words = text.split()
    if len(text) > 130 or len(words) > 15 or re.search(r"[.,;:)][\"“”»’]*$", text):
        return False
    if (text.endswith("!") and len(words) > 5) or re.search(r"@|www\.|https?:|\+\d", text):
        return False  # an exclamation, not a title like "Gemeinsam blicken wir zurück!"; an address
    return not re.search(r"[^\W\d_][.!?] [A-ZÄÖÜ]", text)  # more than one sentence
