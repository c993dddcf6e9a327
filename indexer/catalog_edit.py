"""Add, replace or remove one corpus document together with its entry in corpus/catalog.toml.

Used by the staff app's document management. The catalogue is edited block by block: the header and
every other `[[document]]` block keep their text and comments; the changed block is written anew and
the whole file is parsed again before it atomically replaces the old one.

>>> editor = CorpusEditor(Path("corpus"), max_file_bytes=50_000_000)              # doctest: +SKIP
>>> editor.add(Path("/tmp/upload.pdf"), "Leitfaden 2024.pdf", "Leitfaden", "de", "2024-05")  # doctest: +SKIP
'leitfaden-2024.pdf'
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.catalog import CATALOG_FILE, LANGUAGES
from indexer.errors import DocumentError
from indexer.loaders import load_document

SUFFIXES = (".pdf", ".txt", ".md")
MAX_TITLE_CHARS = 200
_BLOCK = re.compile(r"^\[\[document\]\][ \t]*(?:#.*)?$", re.MULTILINE)
_DATE = re.compile(r"(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
MONTHS = {"de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                 "November", "Dezember"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December")}


@dataclass(frozen=True)
class Description:
    """What the office types in for a document."""

    title: str
    language: str
    date: str = ""

    def checked(self) -> Description:
        title = " ".join(_CONTROL.sub(" ", self.title or "").split())
        if not title or len(title) > MAX_TITLE_CHARS:
            raise DocumentError(f"The title needs 1 to {MAX_TITLE_CHARS} characters.")
        if self.language not in LANGUAGES:
            raise DocumentError("The language must be de or en.")
        date = (self.date or "").strip()
        if date and not _DATE.fullmatch(date):
            raise DocumentError("The date must be YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2024-05).")
        return Description(title, self.language, date)


def date_label(date: str, language: str) -> str:
    """'Stand Mai 2024' / 'as of May 2024'; the year alone for YYYY; '' for no date."""
    match = _DATE.fullmatch(date or "")
    if not match:
        return ""
    year, month, day = match.groups()
    if not month:
        return year
    name = MONTHS[language][int(month) - 1]
    if language == "de":
        return f"Stand {int(day)}. {name} {year}" if day else f"Stand {name} {year}"
    return f"as of {int(day)} {name} {year}" if day else f"as of {name} {year}"


def safe_name(original: str) -> str:
    """A corpus file name from an uploaded one: ASCII letters, digits, '.', '-', '_'; known suffix."""
    base = Path(original.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"Only {', '.join(SUFFIXES)} files can be added (not {suffix or 'no suffix'!r}).")
    ascii_stem = unicodedata.normalize("NFKD", stem.replace("ß", "ss")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_stem.lower()).strip(".-_")[:100]
    return f"{slug or 'document'}{suffix}"


class CorpusEditor:
    """Changes the corpus folder; one change at a time (a lock), each file write atomic."""

    def __init__(self, corpus_dir: Path, max_file_bytes: int) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()

    def add(self, upload: Path, original_name: str, title: str, language: str, date: str = "") -> str:
        """Copy the uploaded file into the corpus and describe it in the catalogue; return its name."""
        description = Description(title, language, date).checked()
        name = safe_name(original_name)
        with self._lock:
            if (self.corpus_dir / name).exists() or name in self._entries():
                raise DocumentError(f"A document named {name} exists already: replace it or rename the file.")
            self._check_readable(upload, name)
            self._copy_in(upload, name)
            try:
                self._write_entry(name, name, description)
            except BaseException:
                (self.corpus_dir / name).unlink(missing_ok=True)
                raise
        return name

    def replace(self, file: str, upload: Path, original_name: str, title: str, language: str,
                date: str = "") -> str:
        """Put a new version of `file` in place (same name, or the new suffix); keep its other entries."""
        description = Description(title, language, date).checked()
        suffix = Path(safe_name(original_name)).suffix
        with self._lock:
            old = self._existing(file)
            name = str(Path(file).with_suffix(suffix).as_posix())
            if name != file and ((self.corpus_dir / name).exists() or name in self._entries()):
                raise DocumentError(f"A document named {name} exists already.")
            self._check_readable(upload, name)
            self._copy_in(upload, name)
            self._write_entry(file, name, description)
            if name != file:
                old.unlink(missing_ok=True)
        return name

    def remove(self, file: str) -> None:
        """Delete the file and its catalogue entry."""
        with self._lock:
            path = self._existing(file, must_exist=False)
            self._write_entry(file, None, None)
            path.unlink(missing_ok=True)

    # -- plumbing ----------------------------------------------------------------------------------
    def _existing(self, file: str, must_exist: bool = True) -> Path:
        path = (self.corpus_dir / file).resolve()
        inside = path.is_relative_to(self.corpus_dir.resolve()) and path.name != CATALOG_FILE
        known = path.is_file() if must_exist else path.is_file() or file in self._entries()
        if not inside or not known:
            raise DocumentError(f"There is no document {file!r} in the corpus.")
        return path

    def _check_readable(self, upload: Path, name: str) -> None:
        """Refuse now what the index build would skip later (not a PDF, no text, too large)."""
        if not upload.is_file():
            raise DocumentError("The upload did not arrive; please try again.")
        with tempfile.TemporaryDirectory(prefix="upload-check-") as folder:
            probe = Path(folder) / name.replace("/", "_")
            shutil.copyfile(upload, probe)
            document = load_document(probe, Path(folder), self.max_file_bytes)
            if not any(page.text.strip() for page in document.pages):
                raise DocumentError(f"{probe.name}: no text found (a scanned PDF needs a text layer first).")

    def _copy_in(self, upload: Path, name: str) -> None:
        target = self.corpus_dir / name
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.corpus_dir)  # hidden: the builder skips it
        os.close(fd)
        try:
            shutil.copyfile(upload, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _entries(self) -> dict[str, dict[str, Any]]:
        return {entry["file"]: entry for _, entry in _blocks(self._catalog_text())[1] if entry}

    def _catalog_text(self) -> str:
        path = self.corpus_dir / CATALOG_FILE
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def _write_entry(self, file: str, new_name: str | None, description: Description | None) -> None:
        """Replace the block of `file` (or append one) with `new_name`'s entry; None removes it."""
        header, blocks = _blocks(self._catalog_text())
        texts = []
        found = False
        for text, entry in blocks:
            if entry and entry.get("file") == file:
                found = True
                if new_name is not None and description is not None:
                    texts.append(render_block(_updated(entry, new_name, description)))
            else:
                texts.append(text)
        if not found and new_name is not None and description is not None:
            texts.append(render_block(_updated({}, new_name, description)))
        text = header.rstrip("\n") + "\n\n" + "\n\n".join(t.strip("\n") for t in texts) + "\n"
        tomllib.loads(text)  # never write a catalogue that does not parse
        _write_atomic(self.corpus_dir / CATALOG_FILE, text.lstrip("\n"))


def _updated(entry: dict[str, Any], name: str, description: Description) -> dict[str, Any]:
    fields = {"file": name, "title": description.title, "language": description.language,
              "date": description.date, "date_label": date_label(description.date, description.language),
              "sort_date": description.date}
    return {"file": name, **{k: v for k, v in entry.items() if k != "file"}, **fields}


def _blocks(text: str) -> tuple[str, list[tuple[str, dict[str, Any] | None]]]:
    """(header, [(block text, its entry)]); a block that does not parse on its own keeps entry None."""
    starts = [m.start() for m in _BLOCK.finditer(text)]
    if not starts:
        return text, []
    blocks = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        part = text[start:end]
        try:
            documents = tomllib.loads(part).get("document") or [None]
        except tomllib.TOMLDecodeError:
            documents = [None]
        blocks.append((part, documents[0]))
    return text[:starts[0]], blocks


def render_block(entry: dict[str, Any]) -> str:
    lines = ["[[document]]"]
    for key, value in entry.items():
        if value in ("", None, []) and key not in ("file", "title", "language"):
            continue
        name = key if _BARE_KEY.fullmatch(key) else json.dumps(key)
        lines.append(f"{name} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    # JSON's string escapes are valid TOML; control characters are dropped first (TOML forbids DEL raw).
    return json.dumps(_CONTROL.sub("", str(value)), ensure_ascii=False)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".catalog-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def list_documents(corpus_dir: Path, manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every corpus document with its catalogue data and, from the live index's manifest, how it is
    indexed: pages, chunks and when it was last indexed (None while it is not in the index)."""
    from indexer.catalog import Catalog
    from indexer.loaders import iter_corpus_files

    catalog = Catalog.load(corpus_dir)
    indexed = (manifest or {}).get("files") or {}
    names = {p.relative_to(corpus_dir).as_posix() for p in iter_corpus_files(corpus_dir)} | set(catalog.entries)
    rows = []
    for name in sorted(names):
        entry = catalog.entries.get(name, {})
        info = indexed.get(name) if isinstance(indexed.get(name), dict) else None
        rows.append({"file": name, "title": str(entry.get("title") or name),
                     "language": str(entry.get("language") or (info or {}).get("language") or ""),
                     "date": str(entry.get("date_label") or entry.get("date") or ""),
                     "pages": info.get("pages") if info else None, "chunks": info.get("chunks") if info else None,
                     "indexed_at": (info.get("indexed_at") or manifest.get("built_at", "")) if info and manifest
                     else None,
                     "entry": {k: entry.get(k, "") for k in ("title", "language", "date")}})
    return rows
