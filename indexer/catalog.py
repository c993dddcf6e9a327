"""What is known about each document: title, language, publisher and date, from corpus/catalog.toml.

Files without an entry still index: the language is detected (German or English, English when
unsure), the title comes from the PDF metadata, the first meaningful line or the file name.

>>> catalog = Catalog.load(Path("corpus"))
>>> catalog.info_for(Path("corpus/go-cluster-flyer-2019-en.txt"), "").date_label
'last revised March 2019'
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.cleaning import clean_blocks
from indexer.errors import CorpusError

logger = logging.getLogger(__name__)

CATALOG_FILE = "catalog.toml"
LANGUAGES = ("de", "en")
_UNTITLED = re.compile(r"(untitled|unbenannt|microsoft word\b.*|.*\.(docx?|indd|pdf))", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentInfo:
    file: str  # path relative to the corpus folder, "/"-separated: the chunks' `source`
    title: str
    language: str
    publisher: str = ""
    date: str = ""
    date_label: str = ""
    sort_date: str = ""
    kind: str = ""


class Catalog:
    """Catalogue entries by file name, plus fallbacks for files without one."""

    def __init__(self, corpus_dir: Path, entries: dict[str, dict[str, Any]] | None = None) -> None:
        self.corpus_dir = corpus_dir
        self.entries = entries or {}

    @classmethod
    def load(cls, corpus_dir: Path) -> Catalog:
        path = corpus_dir / CATALOG_FILE
        if not path.is_file():
            return cls(corpus_dir)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CorpusError(f"{path} is not valid TOML: {exc}") from exc
        entries: dict[str, dict[str, Any]] = {}
        for number, entry in enumerate(data.get("document", []), start=1):
            if not isinstance(entry, dict) or not entry.get("file"):
                raise CorpusError(f"{path}: [[document]] number {number} has no `file`")
            if entry.get("language", "en") not in LANGUAGES:
                raise CorpusError(f"{path}: {entry['file']} has language {entry['language']!r}, not de or en")
            entries[str(entry["file"])] = entry
        for name in entries:
            if not (corpus_dir / name).exists():
                logger.warning("catalogue entry without file: file=%s", name)
        return cls(corpus_dir, entries)

    def relative_name(self, path: Path) -> str:
        """The `source` of the file's chunks: its path inside the corpus (links keep their own name)."""
        try:
            return path.absolute().relative_to(self.corpus_dir.absolute()).as_posix()
        except ValueError:
            return path.name

    def info_for(self, path: Path, text: str, metadata_title: str | None = None) -> DocumentInfo:
        """The document's description: its catalogue entry, else what can be read off the text."""
        name = self.relative_name(path)
        entry = self.entries.get(name)
        if entry is None:
            language = detect_language(text)
            return DocumentInfo(file=name, title=fallback_title(path, text, language, metadata_title),
                                language=language, date_label="undated (no catalogue entry)")
        date = str(entry.get("date", ""))
        return DocumentInfo(
            file=name, title=str(entry.get("title") or fallback_title(path, text, "en", metadata_title)),
            language=str(entry.get("language") or detect_language(text)),
            publisher=str(entry.get("publisher", "")), date=date,
            date_label=str(entry.get("date_label") or date or "undated"),
            sort_date=str(entry.get("sort_date") or date), kind=str(entry.get("kind", "")))


def fallback_title(path: Path, text: str, language: str, metadata_title: str | None = None) -> str:
    """PDF metadata title if it is a real one, else the first meaningful line, else the file name."""
    if metadata_title and metadata_title.strip() and not _UNTITLED.fullmatch(metadata_title.strip()):
        return " ".join(metadata_title.split())
    for block in clean_blocks(text[:20_000], language):
        line = block.text.lstrip("- ").split("\n")[0]
        if sum(ch.isalpha() for ch in line) >= 4:
            return line if len(line) <= 100 else line[:100].rsplit(" ", 1)[0] + " …"
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name


def detect_language(text: str) -> str:
    """"de" or "en"; "en" when the text is in another language or too short to tell."""
    ranking = dict(_identifier().rank(text[:20_000]))
    best = max(LANGUAGES, key=lambda lang: ranking.get(lang, 0.0))
    top = max(ranking, key=ranking.__getitem__) if ranking else "en"
    if top not in LANGUAGES or ranking.get(best, 0.0) < 0.5:
        return "en"
    return best


@functools.cache
def _identifier() -> Any:
    # Loading the model takes ~0.5 s: once, on first use, never at import time.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
