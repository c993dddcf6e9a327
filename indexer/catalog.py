"""What is known about each document: title, language, publisher and date, from corpus/catalog.toml.

An entry names its file; it also describes a file of the same stem (`x.pdf` replacing `x.txt` keeps
title, date and aliases) or, if the entry gives `sha256`, a file with that content under any name.
Files without an entry still index: the language is detected (German or English, English when
unsure); a PDF gives its own title, publisher and date (see indexer/pdf_structure.py: the date_label
says where the date comes from, e.g. "Stand Januar 2023" or "PDF creation date 2023-01-12"); else
the title is the first meaningful line or the file name.

>>> catalog = Catalog.load(Path("corpus"))
>>> catalog.info_for(Path("corpus/go-cluster-flyer-2019-en.txt"), "").date_label
'last revised March 2019'
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexer.cleaning import clean_blocks
from indexer.errors import CorpusError

if TYPE_CHECKING:
    from indexer.pdf_structure import DocumentFacts

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
    """Catalogue entries by file name (matched by name, stem or content hash), plus fallbacks."""

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
            if not (corpus_dir / name).exists() and not any((corpus_dir / name).parent.glob(f"{Path(name).stem}.*")):
                logger.warning("catalogue entry without file: file=%s", name)
        return cls(corpus_dir, entries)

    def relative_name(self, path: Path) -> str:
        """The `source` of the file's chunks: its path inside the corpus (links keep their own name)."""
        try:
            return path.absolute().relative_to(self.corpus_dir.absolute()).as_posix()
        except ValueError:
            return path.name

    def entry_for(self, path: Path) -> dict[str, Any] | None:
        """The entry naming the file; else the one entry of the same file stem; else one whose
        `sha256` is the file's."""
        name = self.relative_name(path)
        if name in self.entries:
            return self.entries[name]
        stem = Path(name).with_suffix("").as_posix()
        same_stem = [e for file, e in self.entries.items() if Path(file).with_suffix("").as_posix() == stem]
        if len(same_stem) == 1:
            return same_stem[0]
        hashed = [e for e in self.entries.values() if e.get("sha256")]
        if hashed and path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            matches = [e for e in hashed if digest in _strings(e["sha256"])]
            if len(matches) == 1:
                return matches[0]
        return None

    def aliases_by_source(self, sources: Iterable[str]) -> dict[str, list[str]]:
        """The catalogue aliases of indexed documents, by their `source` (matched like entry_for)."""
        found = {}
        for source in sources:
            entry = self.entry_for(self.corpus_dir / source)
            if entry and entry.get("aliases"):
                found[source] = [str(alias) for alias in entry["aliases"]]
        return found

    def info_for(self, path: Path, text: str, metadata_title: str | None = None,
                 facts: DocumentFacts | None = None) -> DocumentInfo:
        """The document's description: its catalogue entry, else what can be read off the document."""
        name = self.relative_name(path)
        entry = self.entry_for(path)
        if entry is None:
            language = detect_language(text)
            if facts is not None:
                return DocumentInfo(file=name, title=facts.title or fallback_title(path, text, language),
                                    language=language, publisher=facts.publisher, date=facts.date,
                                    date_label=facts.date_label or "undated (no catalogue entry)",
                                    sort_date=facts.date)
            return DocumentInfo(file=name, title=fallback_title(path, text, language, metadata_title),
                                language=language, date_label="undated (no catalogue entry)")
        date = str(entry.get("date", ""))
        title = entry.get("title") or (facts.title if facts else "") or fallback_title(path, text, "en",
                                                                                         metadata_title)
        return DocumentInfo(
            file=name, title=str(title), language=str(entry.get("language") or detect_language(text)),
            publisher=str(entry.get("publisher") or (facts.publisher if facts else "")), date=date,
            date_label=str(entry.get("date_label") or date or "undated"),
            sort_date=str(entry.get("sort_date") or date), kind=str(entry.get("kind", "")))


def _strings(value: Any) -> list[str]:
    return [str(v).lower() for v in value] if isinstance(value, list) else [str(value).lower()]


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
