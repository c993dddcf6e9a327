"""Structure-aware chunking, the catalogue behind it, and chunk_file on the real corpus."""

import itertools
import re
from collections import Counter
from dataclasses import replace

import pytest
from fpdf import FPDF

from indexer.catalog import Catalog, DocumentInfo, detect_language, fallback_title
from indexer.chunker import Chunker, chunk_file, estimate_tokens
from indexer.errors import CorpusError, DocumentError
from indexer.loaders import Page, iter_corpus_files
from indexer.sentences import split_sentences
from indexer.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
INFO = DocumentInfo(file="seite.txt", title="Programm go-cluster", language="de", date="2023",
                    date_label="2023")
LONG_PARAGRAPH = " ".join(
    f"Im Jahr {2000 + i} wuchs das Programm um {i} weitere Innovationscluster aus allen Regionen "
    "Deutschlands." for i in range(30))


def words(text):
    return len(text.split())


@pytest.fixture(scope="module")
def corpus_chunks():
    catalog, chunker = Catalog.load(CORPUS), Chunker(max_tokens=320, overlap_tokens=48)
    return [chunk for path in iter_corpus_files(CORPUS)
            for chunk in chunk_file(path, CORPUS, catalog, chunker, max_bytes=50_000_000)]


def split(text, max_tokens=120, overlap_tokens=16, **kwargs):
    return Chunker(max_tokens, overlap_tokens, **kwargs).split(INFO, [Page(None, text)])


# --- structure -------------------------------------------------------------------------------------

def test_headings_become_sections():
    chunks = split("Aufnahme in das Programm\n\nJedes Innovationscluster kann sich bewerben.\n\n"
                   "Mehrwerte des Programms\n\nEine Mitgliedschaft bietet Clustern viele Vorteile.")
    assert [(c.section, c.text) for c in chunks] == [
        ("Aufnahme in das Programm", "Jedes Innovationscluster kann sich bewerben."),
        ("Mehrwerte des Programms", "Eine Mitgliedschaft bietet Clustern viele Vorteile.")]


def test_a_list_stays_whole_with_its_introduction(corpus_chunks):
    intro = "Diese umfassen die clusterspezifischen Aspekte:"
    [chunk] = [c for c in corpus_chunks if intro in c.text]
    assert chunk.section == "Aufnahme in das Programm"
    assert (f"{intro}\n- Struktur und Zusammensetzung des Innovationsclusters\n"
            "- Clustermanagement und Steuerung\n- Aktivitäten und Kooperationen\n"
            "- Sichtbarkeit und Wirkung") in chunk.text


def test_a_list_too_long_for_one_chunk_splits_at_items_under_its_introduction():
    items = [f"Leistung Nummer {i}: Beratung, Vernetzung und Sichtbarkeit für Cluster" for i in range(12)]
    text = "Service\n\nDas Programm bietet Clustern vieles. Folgende Leistungen gibt es:\n\n" + "\n".join(
        f"• {item}" for item in items)
    chunks = split(text, max_tokens=160)
    assert len(chunks) > 1
    assert all(c.text.startswith("Folgende Leistungen gibt es:\n- ") for c in chunks[1:])
    listed = [line[2:] for c in chunks for line in c.text.split("\n") if line.startswith("- ")]
    assert listed == items  # every item once, none cut


def test_max_tokens_is_respected_on_what_the_embedder_reads(corpus_chunks):
    assert all(estimate_tokens(c.embedding_text()) <= 320 for c in corpus_chunks)
    def count_words(text):
        return len(text.split())
    catalog = Catalog.load(CORPUS)
    for max_tokens in (48, 100):
        chunker = Chunker(max_tokens, overlap_tokens=8, count_tokens=count_words)
        for path in iter_corpus_files(CORPUS):
            for chunk in chunk_file(path, CORPUS, catalog, chunker, max_bytes=50_000_000):
                assert count_words(chunk.embedding_text()) <= max_tokens, chunk.text


def test_split_paragraphs_overlap_and_end_at_sentences():
    chunks = split(LONG_PARAGRAPH, max_tokens=120, overlap_tokens=40)
    assert len(chunks) > 3
    for before, after in itertools.pairwise(chunks):
        assert before.text.endswith("Deutschlands.")
        first_sentence = split_sentences(after.text)[0]
        assert before.text.endswith(first_sentence)  # carried over from the previous chunk


def test_no_overlap_when_overlap_tokens_is_zero():
    chunks = split(LONG_PARAGRAPH, max_tokens=120, overlap_tokens=0)
    assert " ".join(c.text for c in chunks) == LONG_PARAGRAPH


@pytest.mark.parametrize(("text", "expected"), [
    ("Folgen (z. B. Auswirkungen der Pandemie). Diese Entwicklung ergab sich u. a. durch Empfehlungen.",
     ["Folgen (z. B. Auswirkungen der Pandemie).", "Diese Entwicklung ergab sich u. a. durch Empfehlungen."]),
    ("Von ca. 2000 bis 2010 folgte die Phase. Die rd. 100 Cluster vereinen Nr. 3 Akteure.",
     ["Von ca. 2000 bis 2010 folgte die Phase.", "Die rd. 100 Cluster vereinen Nr. 3 Akteure."]),
    ("Die 1. und 2. Clusterwoche fielen in diese Zeit. Michael E. Porter prägte den Begriff!",
     ["Die 1. und 2. Clusterwoche fielen in diese Zeit.", "Michael E. Porter prägte den Begriff!"]),
    ("Cluster Week 2019 was a highlight. Dr. Ole Janssen opened it (e.g. with a talk). Great?",
     ["Cluster Week 2019 was a highlight.", "Dr. Ole Janssen opened it (e.g. with a talk).", "Great?"]),
])
def test_abbreviations_do_not_end_sentences(text, expected):
    assert split_sentences(text) == expected


def test_tiny_fragments_join_a_neighbour():
    text = ("Vorwort\n\nLiebe Leserinnen und Leser, das Programm feiert sein zehnjähriges Bestehen.\n\n"
            "Quelle\n\nVgl. Porter (1990)\n\nAusblick\n\nCluster entwickeln sich zu Zukunftslaboren.")
    chunks = split(text, max_tokens=200)
    assert all(estimate_tokens(c.text) >= 12 for c in chunks)
    assert any("Quelle\nVgl. Porter (1990)" in c.text for c in chunks)  # its heading goes along


def test_chunks_carry_document_fields_and_running_ordinals():
    chunks = split(LONG_PARAGRAPH)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert {(c.source, c.title, c.language, c.date, c.date_label, c.sort_date, c.page) for c in chunks} == {
        ("seite.txt", "Programm go-cluster", "de", "2023", "2023", "2023", None)}


def test_pdf_chunks_carry_page_numbers(tmp_path):
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for heading in ("Aufnahme in das Programm", "Mehrwerte des Programms"):
        pdf.add_page()
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)
        pdf.multi_cell(0, 8, "Jedes Innovationscluster aus Deutschland kann sich bewerben. " * 8)
    (tmp_path / "b.pdf").write_bytes(bytes(pdf.output()))
    chunks = chunk_file(tmp_path / "b.pdf", tmp_path, Catalog.load(tmp_path), Chunker(120, 16), 1_000_000)
    assert {c.page for c in chunks} == {1, 2}
    assert next(c.section for c in chunks if c.page == 2) == "Mehrwerte des Programms"


# --- ids -------------------------------------------------------------------------------------------

def test_ids_are_deterministic_and_depend_on_the_text():
    first, second = split(LONG_PARAGRAPH), split(LONG_PARAGRAPH)
    assert [c.id for c in first] == [c.id for c in second]
    changed = split(LONG_PARAGRAPH.replace("Im Jahr 2000", "Im Jahr 1999"))
    assert first[0].id != changed[0].id
    assert len({c.id for c in first}) == len(first)


# --- the real corpus ------------------------------------------------------------------------------

def test_corpus_chunks_carry_the_catalogue(corpus_chunks):
    catalog = Catalog.load(CORPUS)
    for chunk in corpus_chunks:
        entry = catalog.entries[chunk.source]
        assert (chunk.language, chunk.title, chunk.date_label) == (
            entry["language"], entry["title"], entry["date_label"])
    assert Counter(c.language for c in corpus_chunks).keys() == {"de", "en"}
    assert len({c.id for c in corpus_chunks}) == len(corpus_chunks)


def test_title_and_heading_are_part_of_the_embedding_text(corpus_chunks):
    chunk = next(c for c in corpus_chunks if c.section == "Aufnahme in das Programm")
    assert chunk.embedding_text().startswith(
        "Programm go-cluster (Webseite des BMWi) | Aufnahme in das Programm\nJedes Innovationscluster")


def test_corpus_chunks_read_cleanly(corpus_chunks):
    text = "\n".join(c.text for c in corpus_chunks)
    assert "Clustermanagement-Organisationen" in text and "Competence Networks Germany" in text
    assert not re.search(r"Logo des Programms|iStock|[\U0001f000-\U0001faff]", text)


# --- the catalogue ---------------------------------------------------------------------------------

def test_uncatalogued_files_get_language_title_and_label(tmp_path):
    (tmp_path / "neu.txt").write_text("Aufnahme in das Programm\n\nJedes Innovationscluster aus Deutschland "
                                      "kann sich um die Aufnahme in das Programm bewerben.", encoding="utf-8")
    [chunk] = chunk_file(tmp_path / "neu.txt", tmp_path, Catalog.load(tmp_path), Chunker(320, 48), 1_000_000)
    assert (chunk.language, chunk.title, chunk.source) == ("de", "Aufnahme in das Programm", "neu.txt")
    assert chunk.date_label == "undated (no catalogue entry)"


@pytest.mark.parametrize(("text", "expected"), [
    ("The programme supports innovation clusters in their continuous development.", "en"),
    ("Das Programm unterstützt Innovationscluster bei ihrer Weiterentwicklung.", "de"),
    ("Le programme soutient les clusters d'innovation en Allemagne depuis 2012.", "en"),  # other: English
    ("2019 ECEI", "en"),  # unsure: English
])
def test_detect_language_knows_only_german_and_english(text, expected):
    assert detect_language(text) == expected


def test_fallback_title_prefers_metadata_then_first_line_then_file_name(tmp_path):
    path = tmp_path / "go-cluster_flyer-2019.pdf"
    assert fallback_title(path, "Erste Zeile", "de", "Programm go-cluster") == "Programm go-cluster"
    assert fallback_title(path, "12\n\nWho can join the programme?\n\nText.", "en", "Untitled") == (
        "Who can join the programme?")
    assert fallback_title(path, "", "en") == "go cluster flyer 2019"


def test_invalid_catalogue_is_a_corpus_error(tmp_path):
    (tmp_path / "catalog.toml").write_text("[[document]]\ntitle = 'no file'\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="has no `file`"):
        Catalog.load(tmp_path)
    (tmp_path / "catalog.toml").write_text("[[document]\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="not valid TOML"):
        Catalog.load(tmp_path)


def test_a_file_with_nothing_left_after_cleaning_is_a_document_error(tmp_path):
    (tmp_path / "leer.txt").write_text("  \n\n81\n\nLogo go-cluster\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="no text left to index"):
        chunk_file(tmp_path / "leer.txt", tmp_path, Catalog.load(tmp_path), Chunker(320, 48), 1_000_000)


def test_chunker_refuses_nonsense_budgets():
    with pytest.raises(ValueError, match="max_tokens"):
        Chunker(max_tokens=8, overlap_tokens=0)
    with pytest.raises(ValueError, match="overlap_tokens"):
        Chunker(max_tokens=320, overlap_tokens=200)


# --- unbreakable text: hard split at the token limit ---------------------------------------------------

class RecordingCounter:
    """One token per character (the worst case of real tokenizers), recording the longest text counted."""

    def __init__(self):
        self.longest = 0

    def __call__(self, text):
        self.longest = max(self.longest, len(text))
        return len(text) + 5  # prompt and <s>/</s>, as the embedder counts


@pytest.mark.parametrize("count_tokens", [estimate_tokens, RecordingCounter()])
def test_text_without_breaks_is_cut_by_characters_within_max_tokens(count_tokens):
    text = "A" * 200_000  # no space, no sentence end: one "word" 200,000 characters long
    chunks = split(text, max_tokens=120, overlap_tokens=16, count_tokens=count_tokens)
    assert len(chunks) > 1
    assert all(count_tokens(c.embedding_text()) <= 120 for c in chunks)
    assert sum(c.text.count("A") for c in chunks) == len(text)  # nothing lost
    # parts are cut near the budget, not into crumbs
    assert len(chunks) <= 2 * len(text) // min(len(c.text) for c in chunks[:-1])


def test_the_counter_never_sees_megabytes():
    counter = RecordingCounter()
    chunks = split("Einleitung zum Thema. " + "B" * 3_000_000 + " und danach ein Satz.", max_tokens=300,
                   overlap_tokens=16, count_tokens=counter)
    assert counter.longest <= 300 * 32 + 200  # max_chars plus the title/section head
    assert chunks[0].text.startswith("Einleitung zum Thema.") and chunks[-1].text.endswith("danach ein Satz.")
    assert all(counter(c.embedding_text()) <= 300 for c in chunks)


def test_a_giant_word_inside_a_sentence_keeps_the_words_around_it():
    words_before = " ".join(f"wort{i}" for i in range(40))
    chunks = split(f"{words_before} {'x' * 5_000} ende des Satzes.", max_tokens=64, overlap_tokens=0)
    text = " ".join(c.text for c in chunks)
    assert text.startswith(words_before) and text.endswith("ende des Satzes.")
    assert all(estimate_tokens(c.embedding_text()) <= 64 for c in chunks)


def test_overlong_heading_and_title_do_not_ride_along_in_every_chunk():
    text = "# " + "Ü" * 5_000 + "\n\nEin kurzer Absatz über das Programm und seine Cluster."
    chunks = Chunker(120, 16).split(replace(INFO, title="Titel " * 100), [Page(None, text)])
    assert all(len(c.section) <= 200 and len(c.title) <= 202 for c in chunks)
    assert all(estimate_tokens(c.embedding_text()) <= 120 for c in chunks)
    assert sum(c.text.count("Ü") for c in chunks) == 5_000  # the "heading" is indexed as text


def test_no_chunk_budget_beyond_what_the_embedder_reads():
    with pytest.raises(ValueError, match="over the embedder's limit of 512 tokens"):
        Chunker(max_tokens=600, overlap_tokens=48)
    assert Chunker(max_tokens=512, overlap_tokens=48).max_tokens == 512
    with pytest.raises(ValueError, match="limit of 256"):
        Chunker(max_tokens=320, overlap_tokens=48, token_limit=256)


def test_file_text_over_max_chars_is_refused_with_both_numbers(tmp_path):
    (tmp_path / "lang.txt").write_text("Ein Satz über Cluster. " * 1_000, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"lang.txt: text too long after extraction: 23000 characters, "
                                            r"limit max_file_chars=10000"):
        chunk_file(tmp_path / "lang.txt", tmp_path, Catalog.load(tmp_path), Chunker(320, 48), 1_000_000,
                   max_chars=10_000)
    assert chunk_file(tmp_path / "lang.txt", tmp_path, Catalog.load(tmp_path), Chunker(320, 48), 1_000_000,
                      max_chars=23_000)
