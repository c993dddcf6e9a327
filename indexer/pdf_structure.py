"""From a PDF's layout to structure: headings, paragraphs, lists, figures, and what the document says of itself.

Input is indexer/pdf_layout.py's fragments. The steps, each a function below:
- page furniture, by position and repetition: in the top or bottom band of the page, a fragment that
  recurs on other pages once digits are masked ("“go-cluster” decade programme | 7", "1/3"), that is a
  page number, or (on a one-page file) a small URL, date stamp or the metadata title. Photo credits
  ("© …", stock agencies) anywhere. A number in the body is never dropped.
- pages: without text (image only), contents (entries ending in page numbers: dropped), imprint
  (label/value lines: its publisher and date feed `DocumentFacts`; kept as one "label: value" passage
  under its own heading, so questions such as "who designed the brochure" stay answerable while none
  of its lines becomes a section), figures (boxed big numbers: one "label: value" line per box),
  content.
- reading order: columns are found by vertical gutters; a fragment that crosses a gutter (a chapter
  title) cuts the page into bands; band by band, column by column, top to bottom.
- blocks: a larger or bold font starts a heading; a vertical gap, an indent or a list marker starts a
  block; a paragraph cut by a column or page break continues when it did not end a sentence. Words
  hyphenated at a line end are joined (soft hyphens always; hard ones by indexer.reflow's rules).
  Each block records the pages it spans: (offset in its text, page).

>>> structure = analyse(read_pdf(Path("brochure.pdf")))   # doctest: +SKIP
>>> structure.facts.date_label
'Stand Januar 2023'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from indexer.cleaning import Block, looks_like_heading
from indexer.pdf_layout import Fragment, PageText, PdfText
from indexer.reflow import Layout, rejoin_hyphenated

_TERMINAL = re.compile(r"[.!?:;…][\"“”»’)\]]*$")
_MARKER = re.compile(r"([•▪◦●■‣➢✓])\s*|([–—-]|\d{1,2}[.)])\s+")
_PAGE_NUMBER = re.compile(r"((seite|page|s\.|p\.)\s*)?\d{1,4}(\s*(/|von|of)\s*\d{1,4})?|[ivxlc]{1,6}", re.IGNORECASE)
_STAMP = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}(,?\s+\d{1,2}:\d{2}(\s*(am|pm|uhr))?)?", re.IGNORECASE)
_URL = re.compile(r"(https?://|www\.)\S+|\S+\.(de|com|org|eu|net)(/\S*)?", re.IGNORECASE)
_CREDIT = re.compile(r"©.*|.*/\s*(istock|adobe stock|shutterstock|getty images|fotolia|unsplash)\b.*|"
                     r"(foto|bild|photo|image|picture)s?\s*(credits?|nachweise?|quellen?)\s*:.*", re.IGNORECASE)
_CONTENTS_TITLE = re.compile(r"(table of )?contents|inhalt(sverzeichnis)?", re.IGNORECASE)
_CONTENTS_ENTRY = re.compile(r".*\D(\s|\.{2,}|…)\s*\d{1,3}")
_VALUE = re.compile(r"[+~≈>]?\s*\d[\d.,]*\s*(%|\+|mio\.?|mrd\.?)?(\s+[^\W\d][\w/-]*){0,2}", re.IGNORECASE)
_IMPRINT_TITLE = re.compile(r"impressum|imprint|publication details|publishing information|legal notice",
                            re.IGNORECASE)
_LOGO = re.compile(r"(bundesministerium|federal ministry|ministerium|ministry)\b", re.IGNORECASE)
PUBLISHER_LABELS = ("herausgeber", "herausgeberin", "herausgegeben von", "publisher", "published by", "editor")
DATE_LABELS = ("stand", "status", "last revised", "published", "veröffentlicht", "as of", "date", "datum")
CREDIT_LABELS = ("bildnachweis", "bildnachweise", "bildquellen", "fotos", "fotonachweis", "picture credit",
                 "picture credits", "image credits", "photo credits", "photos", "credits")
OTHER_LABELS = ("gestaltung", "design", "druck", "printed by", "print", "redaktion", "text", "konzeption",
                "layout", "satz", "editing", "editorial", "lektorat", "übersetzung", "translation")
_LABELS = frozenset(PUBLISHER_LABELS + DATE_LABELS + CREDIT_LABELS + OTHER_LABELS)
MONTHS = {name: number for number, names in enumerate((
    ("januar", "january", "jan"), ("februar", "february", "feb"), ("märz", "march", "mar", "maerz"),
    ("april", "apr"), ("mai", "may"), ("juni", "june", "jun"), ("juli", "july", "jul"),
    ("august", "aug"), ("september", "sept", "sep"), ("oktober", "october", "okt", "oct"),
    ("november", "nov"), ("dezember", "december", "dez", "dec")), start=1) for name in names}
_DATED = re.compile(r"\b(Stand|Status|Last revised|Published|Veröffentlicht|As of)\s*:?\s*(?:\n\s*)?"
                    r"(?:(\d{1,2})\.\s*)?([A-Za-zÄÖÜäöü]+\.?\s+)?(?:(\d{1,2})[./]\s*)?((?:19|20)\d\d)\b")


@dataclass(frozen=True)
class DocumentFacts:
    """What a PDF says about itself; empty strings where it says nothing."""

    title: str = ""  # a real metadata title, else the largest heading of the first pages
    publisher: str = ""
    date: str = ""  # "2023-01", "2023" or "2023-01-12" (creation date)
    date_label: str = ""  # "Stand Januar 2023" or "PDF creation date 2023-01-12": says where it comes from


@dataclass
class PdfStructure:
    blocks: list[Block]
    facts: DocumentFacts
    page_kinds: dict[int, str]  # page -> "content", "contents", "imprint", "figures", "empty"


class _Vocabulary(Layout):
    """indexer.reflow's view of the document, plus its words in lower case."""

    def __init__(self, pages: list[PageText], language: str) -> None:
        counts: Counter[str] = Counter()
        for page in pages:
            after_hyphen = False
            for fragment in page.fragments:
                words = re.findall(r"[\w-]+", fragment.text)
                counts.update(words[after_hyphen:])  # not the tail of a word cut at the line before
                after_hyphen = fragment.hyphen
        super().__init__(frozenset(counts), space_marks_wrap=False,
                         conjunctions=frozenset({"und", "oder", "bzw.", "sowie", "bis", "and", "or"}))
        object.__setattr__(self, "vocabulary_lower", frozenset(w.lower() for w in counts))
        object.__setattr__(self, "language", language)


@dataclass
class _Line:
    """A fragment in reading order, with where it stands."""

    fragment: Fragment
    page: int
    region: tuple[int, int, int]  # (page, band, column): a change means a column or page break

    @property
    def text(self) -> str:
        return self.fragment.text


@dataclass
class _Open:
    """A block being assembled."""

    kind: str  # heading, bold, paragraph, item
    lines: list[_Line] = field(default_factory=list)
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)
    marker: str = ""  # an item's bullet or number

    @property
    def size(self) -> float:
        return self.lines[0].fragment.size


class _Styles:
    """Body size and line spacing of the document: what "larger", "bold" and "a gap" mean."""

    def __init__(self, pages: list[PageText]) -> None:
        sizes: Counter[float] = Counter()
        for page in pages:
            for fragment in page.fragments:
                sizes[round(fragment.size * 2) / 2] += len(fragment.text)
        self.body = max(sizes, key=lambda s: (sizes[s], -s)) if sizes else 10.0
        deltas = [round(b.baseline - a.baseline, 1) for page in pages
                  for a, b in zip(page.fragments, page.fragments[1:], strict=False)
                  if abs(a.size - self.body) < 0.3 and abs(b.size - self.body) < 0.3 and abs(a.x0 - b.x0) < 3
                  and 0.9 * self.body < b.baseline - a.baseline < 2.2 * self.body]
        self.leading = Counter(deltas).most_common(1)[0][0] if deltas else 1.35 * self.body

    def kind(self, fragment: Fragment) -> str:
        if fragment.size >= 1.12 * self.body and re.search(r"[^\W\d_]{2}", fragment.text):
            return "heading"
        if fragment.bold and fragment.size >= 0.9 * self.body and re.search(r"[^\W\d_]{2}", fragment.text):
            return "bold"
        return "paragraph"

    def close(self, a: _Line, b: _Line) -> bool:
        """b is the next line of a's block: same column (or right below, where a crossed the gutter), at
        most about one line further down."""
        size = max(a.fragment.size, b.fragment.size)
        delta = b.fragment.baseline - a.fragment.baseline
        aligned = a.region == b.region or (a.page == b.page and abs(a.fragment.x0 - b.fragment.x0) < 2)
        return aligned and 0 < delta <= 1.22 * self.leading * size / self.body


def analyse(pdf: PdfText, language: str = "de") -> PdfStructure:
    """`language` ("de" or "en") decides how a hyphen at a line end between two words is read."""
    styles = _Styles(pdf.pages)
    furniture = find_furniture(pdf.pages, styles.body, pdf.metadata_title)
    kinds: dict[int, str] = {}
    lines: list[_Line] = []
    imprint_blocks: list[Block] = []
    figure_blocks: dict[int, list[Block]] = {}
    imprint: dict[str, str] = {}
    bodies = {page.number: [f for i, f in enumerate(page.fragments)
                            if (page.number, i) not in furniture and not _CREDIT.fullmatch(f.text)]
              for page in pdf.pages}
    kinds = {number: classify_page(fragments, styles) for number, fragments in bodies.items()}
    found = {number: _gutters(bodies[number], styles.body) for number in bodies if kinds[number] != "empty"}
    grid = _common_gutters({number: g for number, g in found.items() if kinds[number] == "content"})
    for page in pdf.pages:
        fragments, kind = bodies[page.number], kinds[page.number]
        gutters = found.get(page.number) or _free(grid, fragments, styles.body)
        ordered = reading_order(fragments, page, gutters)
        if kind == "imprint":
            blocks, imprint = parse_imprint(ordered, styles, imprint)
            imprint_blocks += blocks
        elif kind == "figures":
            figure_blocks[page.number] = parse_figures(ordered, styles)
        elif kind == "content":
            lines += ordered
        # "contents" and "empty" pages give nothing
    layout = _Vocabulary(pdf.pages, language)
    opened = assemble(lines, styles, layout)
    blocks = _finish(opened, styles)
    headings = [(block, size) for block, size in blocks if block.kind == "heading"]
    # Figures pages and the imprint go where their pages stand, so the reading order stays the document's.
    content = _place([b for b, _ in blocks], figure_blocks)
    if imprint_blocks:
        first_page = imprint_blocks[0].page or 0
        position = next((i for i, b in enumerate(content) if (b.page or 0) > first_page), len(content))
        content[position:position] = imprint_blocks
    facts = document_facts(pdf, headings, imprint, content)
    return PdfStructure(content, facts, kinds)


# --------------------------------------------------------------------------- furniture


def find_furniture(pages: list[PageText], body: float, metadata_title: str | None) -> set[tuple[int, int]]:
    """(page, fragment index) of running headers, footers and page numbers."""
    def key(text: str) -> str:
        return re.sub(r"\d+", "#", " ".join(text.lower().split()))

    banded: list[tuple[int, int, Fragment]] = []
    for page in pages:
        for index, fragment in enumerate(page.fragments):
            if fragment.baseline < 0.1 * page.height or fragment.top > 0.9 * page.height:
                banded.append((page.number, index, fragment))
    recurring = Counter()
    for key_text in {(number, key(f.text)) for number, _, f in banded}:
        recurring[key_text[1]] += 1
    title = " ".join((metadata_title or "").lower().split())
    found = set()
    for number, index, fragment in banded:
        text = fragment.text.strip()
        small = fragment.size < 0.95 * body
        if (recurring[key(text)] >= 2 or _PAGE_NUMBER.fullmatch(text)
                or (small and (_URL.fullmatch(text) or _STAMP.fullmatch(text)
                               or (title and " ".join(text.lower().split()) == title)))):
            found.add((number, index))
    return found


# --------------------------------------------------------------------------- pages


def classify_page(fragments: list[Fragment], styles: _Styles) -> str:
    if not fragments:
        return "empty"
    texts = [" ".join(f.text.split()) for f in fragments]
    rows = _rows(fragments)
    entries = sum(1 for row in rows if _is_contents_entry(row))
    titled = any(_CONTENTS_TITLE.fullmatch(t) for t in texts)
    if (titled and entries >= 2) or (entries >= 4 and entries >= 0.5 * len(rows)):
        return "contents"
    labels = sum(1 for t in texts if t.rstrip(":").lower() in _LABELS)
    if (any(_IMPRINT_TITLE.fullmatch(t) for t in texts) and labels >= 1) or labels >= 3:
        return "imprint"
    values = sum(1 for f in fragments if f.size >= 1.3 * styles.body and _VALUE.fullmatch(f.text.strip()))
    if values >= 3:
        return "figures"
    return "content"


def _rows(fragments: list[Fragment]) -> list[list[Fragment]]:
    """Fragments on one baseline, left to right."""
    rows: list[list[Fragment]] = []
    for fragment in sorted(fragments, key=lambda f: (f.baseline, f.x0)):
        if rows and abs(rows[-1][0].baseline - fragment.baseline) <= 0.3 * fragment.size:
            rows[-1].append(fragment)
        else:
            rows.append([fragment])
    return [sorted(row, key=lambda f: f.x0) for row in rows]


def _is_contents_entry(row: list[Fragment]) -> bool:
    text = " ".join(f.text for f in row)
    if len(row) >= 2 and re.fullmatch(r"\d{1,3}", row[-1].text.strip()) and re.search(r"[^\W\d_]{3}", text):
        return True
    return bool(_CONTENTS_ENTRY.fullmatch(text) and re.search(r"\.{3,}|…", text))


# --------------------------------------------------------------------------- reading order


def reading_order(fragments: list[Fragment], page: PageText, gutters: list[tuple[float, float]]) -> list[_Line]:
    """Band by band (cut by fragments that cross a column gutter), column by column, top to bottom."""
    if not fragments:
        return []
    spanning = [f for f in fragments if any(f.x0 < start and f.x1 > end for start, end in gutters)]
    cuts = sorted({f.baseline for f in spanning})
    lines: list[_Line] = []
    placed = sorted(fragments, key=lambda f: (f.baseline, f.x0))
    bands: dict[int, list[Fragment]] = {}
    for fragment in placed:
        band = sum(1 for cut in cuts if fragment.baseline >= cut - 0.01) * 2
        if fragment in spanning:
            band -= 1  # the spanning fragment is a band of its own, between the columns above and below
        bands.setdefault(band, []).append(fragment)
    for band in sorted(bands):
        columns: dict[int, list[Fragment]] = {}
        for fragment in bands[band]:
            centre = (fragment.x0 + min(fragment.x1, fragment.x0 + 60)) / 2
            column = 0 if band % 2 else sum(1 for start, end in gutters if centre > (start + end) / 2)
            columns.setdefault(column, []).append(fragment)
        for column in sorted(columns):
            lines += [_Line(f, page.number, (page.number, band, column))
                      for f in sorted(columns[column], key=lambda f: (f.baseline, f.x0))]
    return lines


def _gutters(fragments: list[Fragment], body: float) -> list[tuple[float, float]]:
    """Vertical strips that no narrow text line crosses (headings may), with three lines on either side."""
    left, right = min(f.x0 for f in fragments), max(f.x1 for f in fragments)
    narrow = [f for f in fragments if f.width < 0.55 * (right - left) and f.size < 1.12 * body]
    if len(narrow) < 6:
        return []
    covered = sorted((f.x0, f.x1) for f in narrow)
    gaps: list[tuple[float, float]] = []
    reach = covered[0][1]
    for x0, x1 in covered[1:]:
        if x0 - reach >= 6:
            gaps.append((reach, x0))
        reach = max(reach, x1)
    return [(start, end) for start, end in gaps
            if sum(1 for f in narrow if f.x1 <= start) >= 3 and sum(1 for f in narrow if f.x0 >= end) >= 3]


def _common_gutters(found: dict[int, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """The document's column grid: gutters seen on two pages or half of them (within a few points)."""
    seen: list[list[tuple[float, float]]] = []
    for gutters in found.values():
        for gutter in gutters:
            match = next((group for group in seen if abs(sum(group[0]) / 2 - sum(gutter) / 2) < 5), None)
            if match is None:
                seen.append([gutter])
            else:
                match.append(gutter)
    return [(max(g[0] for g in group), min(g[1] for g in group)) for group in seen
            if len(group) >= 2 or 2 * len(group) >= len(found)]


def _free(grid: list[tuple[float, float]], fragments: list[Fragment], body: float) -> list[tuple[float, float]]:
    """The grid's gutters on a page too sparse to show them itself (a column with one line): those no
    body line crosses and with text on both sides."""
    lines = [f for f in fragments if f.size < 1.12 * body]
    return [(start, end) for start, end in grid
            if not any(f.x0 < end - 2 and f.x1 > start + 2 for f in lines)
            and any(f.x1 <= start for f in lines) and any(f.x0 >= end for f in lines)]


# --------------------------------------------------------------------------- blocks


def assemble(lines: list[_Line], styles: _Styles, layout: Layout) -> list[_Open]:
    """Lines in reading order into open blocks (headings, bold lines, paragraphs, list items)."""
    blocks: list[_Open] = []
    for line in lines:
        kind = styles.kind(line.fragment)
        current = blocks[-1] if blocks else None
        marker = _MARKER.match(line.text) if kind == "paragraph" else None
        if marker and not marker.group(1) and current is not None and _mid_sentence(current, line, styles):
            marker = None  # "– for example" or "2." inside a running sentence is no list item
        if current is not None and _continues(current, line, kind, marker is not None, styles):
            _append(current, line, layout)
            continue
        block = _Open("item" if marker else kind)
        if marker:
            block.marker = marker.group(0).strip()
            line = _Line(_strip_marker(line.fragment, marker.end()), line.page, line.region)
            block.lines.append(line)  # its x0 is the bullet's: continuation lines stand to the right
            blocks.append(block)
            if line.text:
                _append(block, line, layout, first=True)
            continue
        _append(block, line, layout)
        blocks.append(block)
    return [b for b in blocks if b.text]


def _mid_sentence(block: _Open, line: _Line, styles: _Styles) -> bool:
    return (block.kind == "paragraph" and bool(block.text) and styles.close(block.lines[-1], line)
            and not _TERMINAL.search(block.text))


def _continues(block: _Open, line: _Line, kind: str, marker: bool, styles: _Styles) -> bool:
    last = block.lines[-1]
    same_style = (abs(last.fragment.size - line.fragment.size) < 0.3 and last.fragment.bold == line.fragment.bold)
    if block.kind in ("heading", "bold"):
        return kind == block.kind and same_style and styles.close(last, line)
    if kind != "paragraph" or marker or not same_style:
        return False
    if not block.text:  # a marker alone on its line: the item text follows
        return True
    if styles.close(last, line):
        if block.kind == "item":  # a hanging indent goes on; a line under the bullet is the next block
            return (line.fragment.x0 > block.lines[0].fragment.x0 + 0.5 * styles.body or last.fragment.hyphen
                    or line.text[:1].islower())
        indent = line.fragment.x0 - last.fragment.x0
        return not (styles.body <= indent <= 5 * styles.body)  # a first-line indent starts a paragraph
    if line.region == last.region and line.fragment.baseline > last.fragment.baseline:
        # A gap in the same column: a new paragraph, unless a word was cut off ("Clus-" / "ter…").
        return last.fragment.hyphen or (line.text[:1].islower() and not _TERMINAL.search(block.text))
    # A column or page break: the paragraph (or item) goes on if it had not ended a sentence.
    return last.fragment.hyphen or not _TERMINAL.search(block.text) or line.text[:1].islower()


def _strip_marker(fragment: Fragment, end: int) -> Fragment:
    return Fragment(fragment.text[end:].strip(), fragment.x0, fragment.x1, fragment.baseline, fragment.size,
                    fragment.bold, fragment.hyphen)


def _append(block: _Open, line: _Line, layout: Layout, first: bool = False) -> None:
    text = " ".join(line.text.split())
    if not text:
        return
    if not block.text:
        block.text = text
    elif block.text.endswith("\u00ad"):
        block.text = block.text[:-1] + text
    elif block.lines[-1].fragment.hyphen and block.text.endswith("-"):
        block.text = join_hyphenated(block.text, text, layout)
    else:
        block.text = f"{block.text} {text}"
    start = len(block.text) - len(text)
    if not block.spans or block.spans[-1][1] != line.page:
        block.spans.append((start, line.page))
    if not first:
        block.lines.append(line)


def join_hyphenated(left: str, right: str, layout: Layout) -> str:
    """A line ending in a hyphen and the next line. indexer.reflow decides (a soft hyphen cannot be told
    from a hard one in PDFium's text), with two more rules: a word in capitals is joined
    ("clusterACHIE-" / "VEMENTS"); two words the document uses on their own stay a compound
    ("high-" / "performance") in English, where compounds are hyphenated, unless it writes them joined too."""
    stem = re.search(r"([^\W\d_]*)-$", left).group(1)  # type: ignore[union-attr]
    core = re.match(r"[^\W\d_]*", right).group()  # type: ignore[union-attr]
    if core in layout.conjunctions:
        return rejoin_hyphenated(left, right, layout)
    if stem[-2:].isupper() and core[:2].isupper():
        return left[:-1] + right
    words = layout.vocabulary_lower
    if (layout.language == "en" and core[:1].islower() and len(stem) >= 2 and len(core) >= 3
            and stem.lower() in words
            and core.lower() in words and (stem + core).lower() not in words):
        return left + right
    return rejoin_hyphenated(left, right, layout)


def _finish(opened: list[_Open], styles: _Styles) -> list[tuple[Block, float]]:
    """Bold lines become headings when short and followed by body text; items group into lists."""
    blocks: list[tuple[Block, float]] = []
    items: list[_Open] = []

    def flush_items() -> None:
        if not items:
            return
        text, spans = "", []
        for item in items:
            prefix = "\n- " if text else "- "
            for offset, page in item.spans:
                if not spans or spans[-1][1] != page:
                    spans.append((len(text) + len(prefix) + offset if offset else len(text), page))
            text += prefix + item.text.replace("\u00ad", "")
        blocks.append((_block("list", text, spans), styles.body))
        items.clear()

    # A document that shows no heading by font (plain output of a word processor) gets the text
    # cleaner's rule: a short line on its own, followed by a paragraph.
    by_font = any(block.kind in ("heading", "bold") for block in opened)
    for index, block in enumerate(opened):
        following = opened[index + 1] if index + 1 < len(opened) else None
        if (not by_font and block.kind == "paragraph" and len(block.lines) == 1 and following is not None
                and following.kind == "paragraph" and len(following.lines) > 1 and looks_like_heading(block.text)):
            block.kind = "heading"
        if block.kind == "item":
            items.append(block)
            continue
        if len(items) == 1 and items[0].marker[:1].isdigit():  # "2. Virtuelles Clustertreffen": no list
            single = items.pop()
            spans = _shift(single.spans, len(single.marker) + 1)
            blocks.append((_block("paragraph", f"{single.marker} {single.text}", spans), styles.body))
        flush_items()
        kind = block.kind
        if kind == "bold":
            short = len(block.text.split()) <= 20 and not re.search(r"[,;]$", block.text)
            kind = "heading" if short and following is not None and following.kind != "bold" else "paragraph"
        if kind == "heading" and (not re.search(r"[^\W\d_]{2}", block.text) or len(block.text) > 200):
            kind = "paragraph"
        blocks.append((_block(kind, block.text.replace("\u00ad", ""), block.spans), block.size))
    flush_items()
    return blocks


def _shift(spans: list[tuple[int, int]], by: int) -> list[tuple[int, int]]:
    return [(offset + by if index else 0, page) for index, (offset, page) in enumerate(spans)]


def _block(kind: str, text: str, spans: list[tuple[int, int]]) -> Block:
    spans = [(0, spans[0][1]), *spans[1:]] if spans else []
    return Block(kind, text, spans[0][1] if spans else None, tuple(spans))


def _place(blocks: list[Block], figures: dict[int, list[Block]]) -> list[Block]:
    result = list(blocks)
    for page, extra in sorted(figures.items()):
        position = next((i for i, b in enumerate(result) if (b.page or 0) > page), len(result))
        result[position:position] = extra
    return result


# --------------------------------------------------------------------------- figures and imprint


def parse_figures(lines: list[_Line], styles: _Styles) -> list[Block]:
    """The page title, then per box (a run of lines close together in one column) "label: value"."""
    blocks: list[Block] = []
    cells: list[list[_Line]] = []
    for line in lines:
        fragment = line.fragment
        if not cells or cells[-1][0].region != line.region or not _near(cells[-1][-1].fragment, fragment):
            cells.append([line])
        else:
            cells[-1].append(line)
    for cell in cells:
        values = [ln.text for ln in cell if ln.fragment.size >= 1.3 * styles.body and _VALUE.fullmatch(ln.text)]
        labels = [ln for ln in cell if ln.text not in values]
        if not values and len(cell) == 1 and styles.kind(cell[0].fragment) == "heading":
            blocks.append(_block("heading", cell[0].text, [(0, cell[0].page)]))
            continue
        label = ""
        for ln in labels:
            if label.endswith("-") and any(x.fragment.hyphen for x in labels):
                label = label[:-1] + ln.text if ln.text[:1].islower() else label + ln.text
            else:
                label = f"{label} {ln.text}".strip()
        label = label.rstrip(": ")
        text = f"{label}: {', '.join(values)}" if label and values else label or ", ".join(values)
        blocks.append(_block("paragraph", text, [(0, cell[0].page)]))
    return blocks


def _near(a: Fragment, b: Fragment) -> bool:
    return 0 <= b.top - a.bottom <= 0.9 * max(a.size, b.size)


def parse_imprint(lines: list[_Line], styles: _Styles, facts: dict[str, str]) -> tuple[list[Block], dict[str, str]]:
    """Entries "label: value, value" (credits left out); publisher and date into `facts`."""
    facts = dict(facts)
    title = ""
    entries: list[tuple[str, list[_Line]]] = []
    for line in lines:
        text = " ".join(line.text.split())
        plain = text.rstrip(":").lower()
        if not title and _IMPRINT_TITLE.fullmatch(text):
            title = text
            continue
        label, _, rest = text.partition(": ")
        if plain in _LABELS or (line.fragment.bold and len(text) <= 40 and not text.endswith(".")):
            entries.append((text.rstrip(":"), []))
        elif label.lower() in _LABELS and rest:
            entries.append((label, [_Line(_strip_marker(line.fragment, len(label) + 2), line.page, line.region)]))
        elif entries and (styles.close(entries[-1][1][-1], line) if entries[-1][1] else bool(entries[-1][0])):
            entries[-1][1].append(line)
        else:
            entries.append(("", [line]))
    page = lines[0].page if lines else None
    blocks = [Block("heading", title or "Impressum", page, ((0, page),) if page else ())]
    for label, values in entries:
        if label.lower() in CREDIT_LABELS or not values:
            continue
        value = _join_values([v.text for v in values]) if label else " ".join(v.text for v in values)
        if label.lower() in PUBLISHER_LABELS and "publisher" not in facts:
            facts["publisher"] = _first_part(value)
        if label.lower() in DATE_LABELS and "date_text" not in facts:
            facts["date_text"] = f"{label} {value}"
        text = f"{label}: {value}" if label else value
        blocks.append(Block("paragraph", text, page, ((0, page),) if page else ()))
    return blocks, facts


def _join_values(values: list[str]) -> str:
    """Address lines joined with commas; a line that goes on (open parenthesis, lower case) with a space."""
    text = ""
    for value in values:
        if not text:
            text = value
        elif text.count("(") > text.count(")") or value[:1].islower() or text.endswith(","):
            text = f"{text} {value}"
        else:
            text = f"{text}, {value}"
    return text


def _first_part(value: str) -> str:
    depth = 0
    for index, char in enumerate(value):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            return value[:index]
    return value


# --------------------------------------------------------------------------- facts


def document_facts(pdf: PdfText, headings: list[tuple[Block, float]], imprint: dict[str, str],
                   blocks: list[Block]) -> DocumentFacts:
    title = real_title(pdf.metadata_title) or largest_heading(headings)
    dated = find_date(imprint.get("date_text", "")) or find_date("\n".join(b.text for b in blocks))
    if dated:
        date, label = dated
    elif pdf.created:
        date = pdf.created.strftime("%Y-%m-%d")
        label = f"PDF creation date {date}"
    else:
        date, label = "", ""
    return DocumentFacts(title=title, publisher=imprint.get("publisher", ""), date=date, date_label=label)


_UNTITLED = re.compile(r"(untitled|unbenannt|ohne titel|microsoft (word|powerpoint)\b.*|.*\.(docx?|indd|pdf|pptx?|qxp))"
                       r"|[\w-]+_[\w-]+", re.IGNORECASE)


def real_title(title: str | None) -> str:
    """The metadata title when it is a title, not a file name ("…_RZ.indd") or a placeholder."""
    text = " ".join((title or "").split())
    if len(re.findall(r"[^\W\d_]", text)) < 4 or _UNTITLED.fullmatch(text):
        return ""
    return text


def largest_heading(headings: list[tuple[Block, float]], first_pages: int = 3) -> str:
    """The largest heading on the first pages that is not a ministry's logo line or a page title."""
    candidates = [(size, -index, block.text) for index, (block, size) in enumerate(headings)
                  if (block.page or 0) <= first_pages and not _LOGO.match(block.text)
                  and not _IMPRINT_TITLE.fullmatch(block.text) and not _CONTENTS_TITLE.fullmatch(block.text)]
    return max(candidates)[2] if candidates else ""


def find_date(text: str) -> tuple[str, str] | None:
    """("2023-01", "Stand Januar 2023") from "Stand: Januar 2023", "Last revised\\nMarch 2019", "Status 01/2023"."""
    for match in _DATED.finditer(text):
        _, day, month_word, month_number, year = match.groups()
        month = None
        if month_word:
            month = MONTHS.get(month_word.strip().rstrip(".").lower())
            if month is None:
                continue  # "Stand der Technik 2020": not a date
        elif month_number:
            month = int(month_number)
        shown = " ".join(match.group(0).replace(":", " ").split())
        if month and 1 <= month <= 12:
            return f"{year}-{month:02d}", shown
        if not day:
            return year, shown
    return None
