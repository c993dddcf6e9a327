"""Brochure PDFs laid out from the shipped texts (tests/fixtures/make_pdfs.py): structure, pages, metadata."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from evaluation.pdf_pages import chunk_pages
from indexer.catalog import Catalog
from indexer.chunk import Chunk
from indexer.chunker import Chunker, chunk_file
from indexer.cleaning import clean_text
from indexer.loaders import iter_corpus_files, load_document
from indexer.pdf_structure import find_date, real_title

MAX_BYTES = 50_000_000
DE = "go-cluster-jahrzehnt-publikation-2023-de.pdf"
EN = "go-cluster-decade-publication-2023-en.pdf"
FLYER = "go-cluster-flyer-2019-en.pdf"
BMWI = "go-cluster-webseite-bmwi-de.pdf"
BMWK = "go-cluster-webpage-bmwk-en.pdf"


def _fixture_module():
    path = Path(__file__).resolve().parents[1] / "fixtures" / "make_pdfs.py"
    if "make_pdfs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_pdfs", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_pdfs"] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return sys.modules["make_pdfs"]


@pytest.fixture(scope="module")
def brochures(tmp_path_factory):
    """The five PDFs (with the corpus catalogue) and their sidecar; loaded once."""
    folder = tmp_path_factory.mktemp("pdfs") / "corpus"
    sidecar = _fixture_module().build(folder)
    docs = {path.name: load_document(path, folder, MAX_BYTES) for path in iter_corpus_files(folder)}
    return folder, sidecar, docs


@pytest.fixture(scope="module")
def chunks(brochures):
    """The PDFs chunked as the index builder does (catalogue matched by stem)."""
    folder, _, _ = brochures
    catalog = Catalog.load(folder)
    return [c for path in iter_corpus_files(folder)
            for c in chunk_file(path, folder, catalog, Chunker(320, 48), MAX_BYTES)]


def texts(doc):
    return "\n".join(block.text for block in doc.blocks)


def test_the_fixture_script_writes_five_pdfs_and_a_sidecar_beside_the_folder(brochures):
    folder, sidecar, docs = brochures
    assert sorted(docs) == sorted([DE, EN, FLYER, BMWI, BMWK])
    assert json.loads((folder.parent / "corpus-pages.json").read_text(encoding="utf-8")).keys() == sidecar.keys()
    assert sidecar[DE]["imprint_page"] == 2 and sidecar[DE]["contents_page"] == 3
    assert sidecar[DE]["image_pages"] and len(sidecar[DE]["figures"]) == 12


def test_every_heading_is_found_and_no_imprint_or_contents_line_becomes_one(brochures):
    _, sidecar, docs = brochures
    for name in (DE, EN, FLYER, BMWI, BMWK):
        headings = [b.text for b in docs[name].blocks if b.kind == "heading"]
        expected = [h["text"] for h in sidecar[name]["headings"]]
        assert [h for h in expected if h not in headings] == [], name
    de_headings = [b.text for b in docs[DE].blocks if b.kind == "heading"]
    assert "PRpetuum GmbH, 80801 München" not in de_headings
    assert "Gestaltung" not in de_headings and "Herausgeber" not in de_headings
    assert de_headings.count("Vorwort") == 1  # once: the contents page's entry is not a heading


def test_headings_do_not_glue_onto_paragraphs(brochures):
    _, _, docs = brochures
    paragraphs = [b.text for b in docs[DE].blocks if b.kind == "paragraph"]
    assert not any(p.endswith("Entwicklung der Clusterpolitik") for p in paragraphs)
    assert "Entwicklung der Clusterpolitik" in [b.text for b in docs[DE].blocks if b.kind == "heading"]


def test_two_columns_are_read_in_order_across_columns_and_pages(brochures):
    _, sidecar, docs = brochures
    for name in (DE, EN):
        text = texts(docs[name])
        position, in_order = 0, 0
        for sentence in sidecar[name]["sentences"]:
            found = text.find(sentence["text"], position)
            if found >= 0:
                in_order += 1
                position = found
        assert in_order / len(sidecar[name]["sentences"]) >= 0.98, name
    foreword = next(b.text for b in docs[DE].blocks if b.text.startswith("Lesen Sie in dieser"))
    # this paragraph runs from the foot of the left column into the right one
    assert "wie sich die Clusterpolitik im vergangenen Jahrzehnt entwickelt hat und wie Deutschland" in foreword


def test_running_headers_footers_page_numbers_and_credits_are_removed(brochures):
    _, _, docs = brochures
    everything = "\n".join(texts(doc) for doc in docs.values())
    assert not re.search(r"programme\s+\|\s+\d", everything)  # "“go-cluster” decade programme  |  7"
    assert "©" not in everything and "Adobe Stock" not in everything
    assert not re.search(r"\d\d\.\d\d\.\d\d, \d\d:\d\d", everything)  # the browser's print stamp
    assert "https://www.bmwi.de/Redaktion" not in everything
    for doc in docs.values():
        assert not [b.text for b in doc.blocks if re.fullmatch(r"\d{1,3}(/\d{1,3})?", b.text)]
    # the running title is furniture in the header, but stays where it is content (cover, page 15)
    assert [b.page for b in docs[DE].blocks if b.text == "Ein Jahrzehnt Programm „go-cluster“"] == [1, 15]


def test_the_figures_page_keeps_its_numbers_as_label_value_lines(brochures):
    _, sidecar, docs = brochures
    lines = {b.text: b.page for b in docs[DE].blocks}
    for figure in sidecar[DE]["figures"]:
        assert lines.get(figure["line"]) == figure["page"], figure
    assert "Anzahl Förderprojekte: 65" in lines and "Veranstaltungen: 71" in lines


def test_soft_hyphens_and_line_end_hyphens_are_joined(brochures):
    folder, _, docs = brochures
    raw = "\n".join(page.extract_text() for page in PdfReader(folder / DE).pages)
    # Where a word breaks across a page, pypdf's next line is the running header, not the word's rest;
    # such pairs say nothing about joining, and the rest of a German word starts in lower case.
    soft = [(a, b) for a, b in re.findall(r"(\w+)\u00ad\n(\w+)", raw) if b[0].islower()]
    assert len(soft) > 50  # the fixture really breaks words with U+00AD
    text = texts(docs[DE])
    assert "\u00ad" not in text
    joined = [a + b for a, b in soft]
    assert sum(word in text for word in joined) / len(joined) >= 0.98
    assert "Maßnah men" not in text and "Clus terinitiativen" not in text
    assert "Clustermanagement-Organisationen" in text  # a real hyphen at a line end stays


def test_a_soft_hyphen_at_a_line_end_joins_the_word_in_a_small_pdf_and_in_text(tmp_path):
    fonts = _fixture_module().FONTS
    pdf = FPDF(unit="pt")
    pdf.add_font("Sans", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_page()
    pdf.set_font("Sans", "", 10)
    for index, line in enumerate(["Die Clusterpolitik fördert Maßnah\u00ad", "men für Clus\u00ad",
                                  "terinitiativen in Deutschland."]):
        pdf.text(60, 100 + 13 * index, line)
    (tmp_path / "a.pdf").write_bytes(bytes(pdf.output()))
    doc = load_document(tmp_path / "a.pdf", tmp_path, MAX_BYTES)
    assert doc.blocks[0].text == "Die Clusterpolitik fördert Maßnahmen für Clusterinitiativen in Deutschland."
    assert clean_text("fördert Maßnah\u00ad\nmen für Clus\u00ad\nterinitiativen.", "de") == \
        "fördert Maßnahmen für Clusterinitiativen."


def test_contents_and_imprint_pages_are_not_content(brochures, chunks):
    _, _, docs = brochures
    de = docs[DE]
    assert not [b for b in de.blocks if b.page == 3]  # the contents page gives nothing
    imprint = [b for b in de.blocks if b.page == 2]
    assert imprint[0].kind == "heading" and imprint[0].text == "Impressum"
    assert {b.kind for b in imprint[1:]} == {"paragraph"}
    assert "Gestaltung: PRpetuum GmbH, 80801 München" in [b.text for b in imprint]
    assert not any("iStock" in b.text or "Bildnachweis" in b.text for b in imprint)
    foreword = [c for c in chunks if "Liebe Leserinnen und Leser" in c.text]
    assert [c.section for c in foreword] == ["Vorwort"]  # not the last contents entry
    assert not any("........" in c.text for c in chunks)
    assert {c.title for c in chunks if c.source == DE} == {"Ein Jahrzehnt Programm go-cluster (Jubiläumspublikation)"}


def test_an_image_only_page_is_skipped_and_the_pages_keep_their_numbers(brochures):
    _, sidecar, docs = brochures
    page = sidecar[DE]["image_pages"][0]
    de = docs[DE]
    assert de.pages[page - 1].number == page and de.pages[page - 1].text == ""
    assert not [b for b in de.blocks if b.page == page]
    assert max(b.page for b in de.blocks) == sidecar[DE]["pages"]


def test_the_encrypted_flyer_is_read(brochures):
    folder, _, docs = brochures
    assert PdfReader(folder / FLYER).is_encrypted
    assert "Please contact us at: +49 30 310078-387" in texts(docs[FLYER])


def test_chunks_record_their_pages_and_page_at_finds_each_sentence(brochures, chunks):
    _, sidecar, _ = brochures
    assert any(len(c.pages) > 1 for c in chunks)
    for chunk in chunks:
        assert chunk.page_spans[0][0] == 0 and chunk.page == chunk.page_spans[0][1]
        assert [o for o, _ in chunk.page_spans] == sorted({o for o, _ in chunk.page_spans})
    measured = chunk_pages(chunks, sidecar)
    assert measured["share_found"] >= 0.99
    assert measured["share_page_at"] >= 0.98
    assert measured["share_page_at"] > measured["share_first_page"]  # the first page alone is often wrong


def test_without_a_catalogue_the_pdfs_give_their_own_title_publisher_and_date(brochures):
    folder, sidecar, docs = brochures
    catalog = Catalog(folder)  # no entries
    info = {name: catalog.info_for(folder / name, "\n".join(p.text for p in doc.pages), doc.metadata_title,
                                   doc.facts) for name, doc in docs.items()}
    # the metadata title is an InDesign file name; the cover's largest line wins, not the ministry logo above it
    assert info[DE].title == "Ein Jahrzehnt Programm „go-cluster“"
    assert info[EN].title == "“go-cluster” decade programme"  # a real metadata title
    assert info[FLYER].title == 'Excellent networking in the "go-cluster" programme'
    assert (info[DE].date, info[DE].date_label) == ("2023-01", "Stand Januar 2023")
    assert (info[EN].date, info[EN].date_label) == ("2023-01", "Status January 2023")
    assert (info[FLYER].date, info[FLYER].date_label) == ("2019-03", "Last revised March 2019")
    assert (info[BMWI].date, info[BMWI].date_label) == ("2021-11-15", "PDF creation date 2021-11-15")
    assert info[DE].publisher == "Bundesministerium für Wirtschaft und Klimaschutz (BMWK)"
    for name in docs:
        assert info[name].date_label == sidecar[name]["date_label"]
        assert info[name].language == sidecar[name]["language"]


def test_the_catalogue_describes_a_pdf_that_replaced_its_text_file(brochures):
    folder, _, _ = brochures
    catalog = Catalog.load(folder)  # entries name the .txt files
    info = catalog.info_for(folder / DE, "")
    assert info.title == "Ein Jahrzehnt Programm go-cluster (Jubiläumspublikation)"
    assert info.file == DE and info.sort_date == "2023-01"
    aliases = catalog.aliases_by_source([DE, FLYER])
    assert "Jubiläumspublikation" in aliases[DE] and "flyer" in aliases[FLYER]


@pytest.mark.parametrize(("text", "expected"), [
    ("Stand: Januar 2023", ("2023-01", "Stand Januar 2023")),
    ("Status\nJanuary 2023", ("2023-01", "Status January 2023")),
    ("Last revised\n\nMarch 2019", ("2019-03", "Last revised March 2019")),  # label and value apart
    ("Last revised\nMarch 2019", ("2019-03", "Last revised March 2019")),
    ("Stand 01/2023", ("2023-01", "Stand 01/2023")),
    ("Published 2021", ("2021", "Published 2021")),
    ("auf dem Stand oder der Bühne 2019", None),
    ("Stand der Technik 2020", None),
])
def test_dates_are_read_from_stand_status_last_revised_published(text, expected):
    assert find_date(text) == expected


@pytest.mark.parametrize(("title", "real"), [
    ("BMWK_go-cluster_Jubilaeumspublikation_RZ.indd", False), ("Microsoft Word - flyer.docx", False),
    ("untitled", False), ("", False), ("“go-cluster” decade programme", True),
])
def test_only_a_real_metadata_title_is_used(title, real):
    assert bool(real_title(title)) is real


def test_catalogue_matches_by_stem_and_by_content_hash(tmp_path):
    import hashlib

    (tmp_path / "flyer.pdf").write_bytes(b"%PDF-1.4 flyer")
    renamed = tmp_path / "neu-2024.pdf"
    renamed.write_bytes(b"%PDF-1.4 renamed")
    digest = hashlib.sha256(renamed.read_bytes()).hexdigest()
    (tmp_path / "catalog.toml").write_text(
        '[[document]]\nfile = "flyer.txt"\ntitle = "Flyer"\nlanguage = "en"\ndate = "2019-03"\n'
        'aliases = ["flyer"]\n\n'
        f'[[document]]\nfile = "broschuere.pdf"\ntitle = "Broschüre"\nlanguage = "de"\nsha256 = "{digest}"\n',
        encoding="utf-8")
    catalog = Catalog.load(tmp_path)
    assert catalog.info_for(tmp_path / "flyer.pdf", "").title == "Flyer"  # same stem
    assert catalog.info_for(renamed, "").title == "Broschüre"  # same content under another name
    assert catalog.entry_for(tmp_path / "other.pdf") is None
    assert catalog.aliases_by_source(["flyer.pdf", "neu-2024.pdf"]) == {"flyer.pdf": ["flyer"]}


def test_chunk_page_spans_round_trip_and_old_chunk_files_still_load():
    chunk = Chunk.create(text="Seite vier. Seite fünf.", source="a.pdf", title="A", language="de", ordinal=0,
                         page_spans=((0, 4), (12, 5)))
    again = Chunk.from_dict(json.loads(json.dumps(chunk.to_dict())))
    assert again == chunk and again.page_spans == ((0, 4), (12, 5))
    assert (again.page, again.pages, again.page_at(11), again.page_at(12)) == (4, (4, 5), 4, 5)
    old = {k: v for k, v in chunk.to_dict().items() if k != "page_spans"}
    legacy = Chunk.from_dict(old)
    assert legacy.page_spans == () and legacy.page_at(15) == 4 and legacy.pages == (4,)
