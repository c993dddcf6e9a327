"""Loaders on real PDF fixtures built with fpdf2, text files, and every refusal reason."""

import io
import logging

import pytest
from fpdf import FPDF
from pypdf import PdfWriter

from indexer.cleaning import PAGE_BREAK, clean_blocks
from indexer.errors import CorpusError, DocumentError
from indexer.loaders import Page, iter_corpus_files, load_document
from indexer.settings import PROJECT_ROOT

MAX_BYTES = 1_000_000
PAGE_ONE = ["Das Programm go-cluster f\u00f6rdert die Clusterplatt-",
            "form Deutschland und die gr\u00f6\u00dften Innovationscluster."]
PAGE_TWO = ["\u00dcbergang zum Exzellenzprogramm: Qualit\u00e4t und Au\u00dfenwirkung."]


def make_pdf(pages, title=None):
    """A real PDF: one page per list of lines, Helvetica (Latin-1, so umlauts and ß work)."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def encrypt(data, user_password):
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_pdf_pages_are_numbered_from_one_and_keep_umlauts(corpus):
    path = write(corpus, "broschuere.pdf", make_pdf([PAGE_ONE, PAGE_TWO], title="Programm go-cluster"))
    doc = load_document(path, corpus, MAX_BYTES)
    assert [page.number for page in doc.pages] == [1, 2]
    assert "gr\u00f6\u00dften" in doc.pages[0].text
    assert "Qualit\u00e4t und Au\u00dfenwirkung" in doc.pages[1].text
    assert doc.metadata_title == "Programm go-cluster"


def test_pdf_word_hyphenated_at_line_end_is_rejoined_after_cleaning(corpus):
    path = write(corpus, "broschuere.pdf", make_pdf([PAGE_ONE, PAGE_TWO]))
    pages = load_document(path, corpus, MAX_BYTES).pages
    assert "Clusterplatt-\nform" in pages[0].text  # the extraction keeps the break ...
    blocks = clean_blocks(PAGE_BREAK.join(p.text for p in pages), "de", [p.number for p in pages])
    assert "die Clusterplattform Deutschland" in blocks[0].text  # ... the cleaner heals it
    assert [block.page for block in blocks] == [1, 2]


def test_encrypted_pdf_that_needs_a_password_is_refused(corpus):
    path = write(corpus, "geheim.pdf", encrypt(make_pdf([PAGE_ONE]), user_password="geheim"))
    with pytest.raises(DocumentError, match="encrypted PDF that needs a password"):
        load_document(path, corpus, MAX_BYTES)


def test_encrypted_pdf_that_opens_with_the_empty_password_is_read(corpus):
    # Permissions-only protection (no user password) is common for brochures: read it.
    path = write(corpus, "geschuetzt.pdf", encrypt(make_pdf([PAGE_ONE]), user_password=""))
    assert "Clusterplatt-" in load_document(path, corpus, MAX_BYTES).pages[0].text


def test_truncated_pdf_is_reported_as_corrupt(corpus):
    data = make_pdf([PAGE_ONE, PAGE_TWO])
    path = write(corpus, "kaputt.pdf", data[: len(data) // 2])
    with pytest.raises(DocumentError, match="corrupt PDF"):
        load_document(path, corpus, MAX_BYTES)


def test_pdf_without_text_layer_needs_ocr(corpus):
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50)
    path = write(corpus, "scan.pdf", bytes(pdf.output()))
    with pytest.raises(DocumentError, match="no text layer — needs OCR"):
        load_document(path, corpus, MAX_BYTES)


def test_zero_byte_file_is_refused(corpus):
    path = write(corpus, "leer.pdf", b"")
    with pytest.raises(DocumentError, match=r"empty file \(0 bytes\)"):
        load_document(path, corpus, MAX_BYTES)


def test_unknown_extension_is_refused(corpus):
    path = write(corpus, "tabelle.xlsx", b"PK\x03\x04")
    with pytest.raises(DocumentError, match=r"unknown file type '\.xlsx'"):
        load_document(path, corpus, MAX_BYTES)


def test_symlink_pointing_outside_the_corpus_is_not_followed(corpus, tmp_path):
    outside = write(tmp_path, "secret.txt", "geheim")
    link = corpus / "link.txt"
    link.symlink_to(outside)
    with pytest.raises(DocumentError, match="symlink points outside the corpus folder"):
        load_document(link, corpus, MAX_BYTES)


def test_symlink_inside_the_corpus_is_fine(corpus):
    target = write(corpus, "a.txt", "Text")
    (corpus / "b.txt").symlink_to(target)
    assert load_document(corpus / "b.txt", corpus, MAX_BYTES).pages == [Page(None, "Text")]


def test_oversized_file_names_the_limit(corpus):
    path = write(corpus, "gross.txt", "x" * 2_000)
    with pytest.raises(DocumentError, match="2000 bytes is over the limit max_file_bytes=1000"):
        load_document(path, corpus, max_bytes=1_000)


def test_text_file_is_one_unnumbered_page_and_tolerates_a_bom(corpus):
    path = write(corpus, "seite.md", "\ufeffAufnahme in das Programm\n\nJedes Innovationscluster ...")
    doc = load_document(path, corpus, MAX_BYTES)
    assert doc.pages == [Page(None, "Aufnahme in das Programm\n\nJedes Innovationscluster ...")]
    assert doc.metadata_title is None


def test_text_file_that_is_not_utf8_falls_back_to_cp1252_with_a_warning(corpus, caplog):
    path = write(corpus, "alt.txt", "Förderung für Größe".encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="indexer.loaders"):
        assert load_document(path, corpus, MAX_BYTES).pages[0].text == "Förderung für Größe"
    assert "cp1252" in caplog.text


def test_streamed_text_decodes_across_blocks_and_falls_back_late(corpus):
    """Read in 1 MiB blocks: a multi-byte character cut by a block edge stays whole, and a byte that
    is not UTF-8 after the first block still switches the whole file to cp1252."""
    utf8 = "ä" * 700_000  # 1.4 MB: the block edge falls inside a two-byte character
    assert load_document(write(corpus, "lang.txt", utf8.encode()), corpus, 10**7).pages[0].text == utf8
    late = b"x" * (3 << 20) + "Größe".encode("cp1252")
    assert load_document(write(corpus, "spaet.txt", late), corpus, 10**7).pages[0].text.endswith("xGröße")
    with pytest.raises(DocumentError, match=f"text too long after extraction: {(3 << 20) + 5} characters"):
        load_document(write(corpus, "spaet2.txt", late), corpus, 10**7, max_chars=1000)


def test_iter_corpus_files_lists_candidates_sorted(corpus):
    for name in ("b.pdf", "a.txt", "catalog.toml", "README.md", ".hidden.txt", "notes.docx"):
        write(corpus, name, "x")
    (corpus / ".git").mkdir()
    write(corpus / ".git", "config.txt", "x")
    (corpus / "sub").mkdir()
    write(corpus / "sub", "c.md", "x")
    assert [p.relative_to(corpus).as_posix() for p in iter_corpus_files(corpus)] == [
        "a.txt", "b.pdf", "notes.docx", "sub/c.md"]


def test_iter_corpus_files_needs_the_folder(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        iter_corpus_files(tmp_path / "missing")


def test_the_real_corpus_loads():
    corpus = PROJECT_ROOT / "corpus"
    files = iter_corpus_files(corpus)
    assert len(files) == 5
    for path in files:
        doc = load_document(path, corpus, MAX_BYTES)
        assert len(doc.pages) == 1 and len(doc.pages[0].text) > 1_000
