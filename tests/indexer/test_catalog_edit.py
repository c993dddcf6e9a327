"""Adding, replacing and removing a corpus document with its catalogue entry; the rest of the
catalogue keeps its text and comments."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from fpdf import FPDF

from indexer.catalog import Catalog
from indexer.catalog_edit import CorpusEditor, date_label, list_documents, safe_name
from indexer.errors import DocumentError
from indexer.settings import PROJECT_ROOT

TEXT = "Der neue Leitfaden erklärt die Bewerbung um das Gold-Label in drei Schritten.\n"


def make_pdf(text: str = "Leitfaden zur Bewerbung um das Label.") -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(0, 8, text)
    return bytes(pdf.output())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", folder)
    return folder


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "uploads" / "Leitfaden Gold-Label 2024.txt"
    path.parent.mkdir()
    path.write_text(TEXT, encoding="utf-8")
    return path


def entries(corpus: Path) -> dict[str, dict]:
    return Catalog.load(corpus).entries


def test_add_copies_the_file_and_appends_an_entry_keeping_the_rest(corpus: Path, upload: Path) -> None:
    before = (corpus / "catalog.toml").read_text(encoding="utf-8")
    name = CorpusEditor(corpus, 1_000_000).add(upload, upload.name, "Leitfaden „Gold“ 2024", "de", "2024-05")
    assert name == "leitfaden-gold-label-2024.txt"
    assert (corpus / name).read_text(encoding="utf-8") == TEXT
    after = (corpus / "catalog.toml").read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # header comments and every old block untouched
    entry = entries(corpus)[name]
    assert entry == {"file": name, "title": "Leitfaden „Gold“ 2024", "language": "de", "date": "2024-05",
                     "date_label": "Stand Mai 2024", "sort_date": "2024-05"}
    assert Catalog.load(corpus).info_for(corpus / name, TEXT).date_label == "Stand Mai 2024"
    assert not list(corpus.glob(".upload-*")) and not list(corpus.glob(".catalog-*"))


def test_replace_keeps_aliases_and_other_keys_and_may_change_the_suffix(corpus: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "flyer-neu.pdf"
    pdf.write_bytes(make_pdf())
    editor = CorpusEditor(corpus, 1_000_000)
    name = editor.replace("go-cluster-flyer-2019-en.txt", pdf, pdf.name, "New flyer", "en", "2024-11-05")
    assert name == "go-cluster-flyer-2019-en.pdf"
    assert not (corpus / "go-cluster-flyer-2019-en.txt").exists() and (corpus / name).read_bytes()[:5] == b"%PDF-"
    entry = entries(corpus)[name]
    assert entry["title"] == "New flyer" and entry["date_label"] == "as of 5 November 2024"
    assert entry["aliases"] == ["flyer", "Faltblatt", "Broschüre 2019"] and entry["kind"] == "flyer"
    assert "go-cluster-flyer-2019-en.txt" not in entries(corpus) and len(entries(corpus)) == 5


def test_remove_deletes_file_and_entry(corpus: Path) -> None:
    CorpusEditor(corpus, 1_000_000).remove("go-cluster-webpage-bmwk-en.txt")
    assert not (corpus / "go-cluster-webpage-bmwk-en.txt").exists()
    assert sorted(entries(corpus)) == sorted(p.name for p in corpus.glob("*.txt"))
    tomllib.loads((corpus / "catalog.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("title", "language", "date", "message"), [
    ("", "de", "", "title needs 1 to 200"), ("x" * 201, "de", "", "title needs 1 to 200"),
    ("Titel", "fr", "", "language must be de or en"), ("Titel", "de", "Mai 2024", "YYYY, YYYY-MM or YYYY-MM-DD"),
    ("Titel", "de", "2024-13", "YYYY, YYYY-MM"),
])
def test_bad_descriptions_are_refused_and_nothing_changes(corpus: Path, upload: Path, title: str, language: str,
                                                          date: str, message: str) -> None:
    before = sorted(p.name for p in corpus.iterdir())
    with pytest.raises(DocumentError, match=message):
        CorpusEditor(corpus, 1_000_000).add(upload, upload.name, title, language, date)
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_unreadable_or_clashing_uploads_are_refused(corpus: Path, tmp_path: Path, upload: Path) -> None:
    editor = CorpusEditor(corpus, 1_000_000)
    fake = tmp_path / "brochure.pdf"
    fake.write_bytes(b"this is no PDF at all")
    with pytest.raises(DocumentError):
        editor.add(fake, fake.name, "Broschüre", "de")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(DocumentError, match=r"Only \.pdf, \.txt, \.md"):
        editor.add(exe, exe.name, "Tool", "de")
    big = tmp_path / "big.txt"
    big.write_text("Förderung. " * 200_000)
    with pytest.raises(DocumentError, match="over the limit"):
        editor.add(big, big.name, "Groß", "de")
    editor.add(upload, upload.name, "Leitfaden", "de")
    with pytest.raises(DocumentError, match="exists already"):
        editor.add(upload, upload.name, "Leitfaden", "de")
    with pytest.raises(DocumentError, match="no document"):
        editor.remove("../outside.txt")
    with pytest.raises(DocumentError, match="no document"):
        editor.replace("catalog.toml", upload, upload.name, "x", "de")


def test_safe_names_and_date_labels() -> None:
    assert safe_name("../../etc/Förder Übersicht (neu).PDF") == "forder-ubersicht-neu.pdf"
    assert safe_name("C:\\Users\\x\\Straße.md") == "strasse.md"
    assert safe_name("-(1).txt") == "1.txt" and safe_name("__.txt") == "document.txt"
    assert (date_label("2024", "en"), date_label("2019-03", "en"), date_label("", "de")) == ("2024",
                                                                                          "as of March 2019", "")


def test_list_documents_joins_catalogue_files_and_the_manifest(corpus: Path, upload: Path) -> None:
    name = CorpusEditor(corpus, 1_000_000).add(upload, upload.name, "Leitfaden", "de", "2024")
    manifest = {"built_at": "2026-11-21T18:00:00Z",
                "files": {"go-cluster-flyer-2019-en.txt": {"pages": 1, "chunks": 7, "language": "en",
                                                           "indexed_at": "2026-11-20T10:00:00Z"},
                          "go-cluster-webseite-bmwi-de.txt": {"pages": 1, "chunks": 30, "language": "de"}}}
    rows = {r["file"]: r for r in list_documents(corpus, manifest)}
    assert len(rows) == 6
    assert rows["go-cluster-flyer-2019-en.txt"] | {"entry": None} == {
        "file": "go-cluster-flyer-2019-en.txt", "title": "Excellent networking in the go-cluster programme (flyer)",
        "language": "en", "date": "last revised March 2019", "pages": 1, "chunks": 7,
        "indexed_at": "2026-11-20T10:00:00Z", "entry": None}
    assert rows["go-cluster-webseite-bmwi-de.txt"]["indexed_at"] == "2026-11-21T18:00:00Z"  # the build's time
    assert rows[name]["chunks"] is None and rows[name]["indexed_at"] is None  # not in the index yet
    assert list_documents(corpus, None)[0]["pages"] is None
