"""IndexBuilder with the real model on small corpora: incremental updates, skipped files, the build lock,
and the real corpus index."""

import io
import re
import threading
import time
import tomllib

import pytest
from fpdf import FPDF
from pypdf import PdfWriter

from indexer.builder import IndexBuilder
from indexer.chunker import Chunker
from indexer.errors import CorpusError, FaqError
from indexer.settings import PROJECT_ROOT
from indexer.store import load_index

pytestmark = pytest.mark.slow

GERMAN = ("Das Programm go-cluster fördert die Clusterplatt-\nform Deutschland und die größten "
          "Innovationscluster.\n\nÜbergang zum Exzellenzprogramm: Qualität und Außenwirkung zählen.\n")
ENGLISH = ("# Admission\n\nEvery innovation cluster in Germany can apply for admission to the programme.\n\n"
           "# Services\n\nMembers receive advice, workshops and access to the cluster platform.\n")
PDF_LINES = ["Die Geschäftsstelle berät Clustermanagements zu Strategie,",
             "Internationalisierung und Fördermöglichkeiten der Länder."]
MAX_BYTES = 20_000
# A letter, hyphen, space, lower-case letter: a line-break hyphenation left unhealed ("Cluster- plattform"),
# unless a conjunction follows ("Aus- und Weiterbildung").
HYPHEN_ARTEFACT = re.compile(r"[a-zäöüß]- (?!(?:und|oder|bzw\.|sowie|bis|and|or)\b)[a-zäöüß]")


def make_pdf(lines=PDF_LINES, text=True):
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    for line in lines if text else []:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    if not text:
        pdf.rect(20, 20, 100, 50)  # a "scan": drawing only, no text layer
    return bytes(pdf.output())


def encrypted_pdf():
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf()))
    writer.encrypt(user_password="geheim", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "programm-de.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "admission-en.md").write_text(ENGLISH, encoding="utf-8")
    (folder / "beratung-de.pdf").write_bytes(make_pdf())
    return folder


@pytest.fixture
def builder(embedder):
    return IndexBuilder(embedder, Chunker(320, 48, embedder.count_tokens), MAX_BYTES, show_progress=False)


def versions(index_dir):
    return sorted(p.name for p in index_dir.glob("v-*"))


def test_first_build_embeds_everything_and_counts_languages(builder, corpus, tmp_path):
    report = builder.build(corpus, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    assert report.changed and report.files == 3 and report.pages == 3
    assert report.embedded == report.chunks == len(loaded.chunks) and report.reused == 0
    assert report.chunks_by_language == {"de": 2, "en": 2} and report.skipped == []
    assert {c.source for c in loaded.chunks} == {"programm-de.txt", "admission-en.md", "beratung-de.pdf"}
    pdf_chunk = next(c for c in loaded.chunks if c.source == "beratung-de.pdf")
    assert pdf_chunk.page == 1 and "Geschäftsstelle" in pdf_chunk.text
    german = next(c for c in loaded.chunks if c.source == "programm-de.txt")
    assert "die Clusterplattform Deutschland und die größten" in german.text
    assert "de: 2, en: 2" in report.summary()


def test_unchanged_corpus_embeds_nothing_and_writes_nothing(builder, corpus, tmp_path):
    first = builder.build(corpus, tmp_path / "index")
    before = versions(tmp_path / "index")
    second = builder.build(corpus, tmp_path / "index")
    assert not second.changed and second.embedded == 0 and second.reused == first.chunks
    assert second.version == first.version and versions(tmp_path / "index") == before
    assert second.summary().startswith("index up to date, nothing written")


def test_changed_file_re_embeds_only_its_changed_chunks(builder, corpus, tmp_path):
    first = builder.build(corpus, tmp_path / "index")
    old = load_index(tmp_path / "index").chunks
    (corpus / "admission-en.md").write_text(ENGLISH.replace("advice, workshops", "advice, webinars"),
                                            encoding="utf-8")
    second = builder.build(corpus, tmp_path / "index")
    new = load_index(tmp_path / "index").chunks
    assert second.changed and second.embedded == 1 and second.reused == first.chunks - 1
    changed = [c for c in new if c.id not in {o.id for o in old}]
    assert [c.section for c in changed] == ["Services"] and "webinars" in changed[0].text
    assert [c.id for c in new if c.source != "admission-en.md"] == \
        [c.id for c in old if c.source != "admission-en.md"]


def test_removed_file_loses_its_chunks(builder, corpus, tmp_path):
    builder.build(corpus, tmp_path / "index")
    (corpus / "beratung-de.pdf").unlink()
    report = builder.build(corpus, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    assert report.changed and report.embedded == 0 and report.files == 2
    assert all(c.source != "beratung-de.pdf" for c in loaded.chunks)
    assert "beratung-de.pdf" not in loaded.manifest["files"]
    assert report.chunks_by_language == loaded.manifest["chunks_by_language"] == {"de": 1, "en": 2}


BAD_FILES = {
    "leer.txt": (lambda: b"", r"empty file \(0 bytes\)"),
    "kaputt.pdf": (lambda: make_pdf()[:300], "corrupt PDF"),
    "geheim.pdf": (encrypted_pdf, "encrypted PDF that needs a password"),
    "scan.pdf": (lambda: make_pdf(text=False), "no text layer — needs OCR"),
    "tabelle.xlsx": (lambda: b"PK\x03\x04 not really", r"unknown file type '\.xlsx'"),
    "riesig.txt": (lambda: ("Förderung. " * 2_000).encode(), "over the limit max_file_bytes=20000"),
}


@pytest.fixture(scope="module")
def bad_corpus_build(tmp_path_factory, embedder):
    base = tmp_path_factory.mktemp("bad-corpus")
    folder = base / "corpus"
    folder.mkdir()
    (folder / "programm-de.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "admission-en.md").write_text(ENGLISH, encoding="utf-8")
    for name, (data, _) in BAD_FILES.items():
        (folder / name).write_bytes(data())
    (base / "secret.txt").write_text("Außerhalb des Korpus: darf nicht indexiert werden.", encoding="utf-8")
    (folder / "link.txt").symlink_to(base / "secret.txt")
    builder = IndexBuilder(embedder, Chunker(320, 48, embedder.count_tokens), MAX_BYTES, show_progress=False)
    report = builder.build(folder, base / "index")
    return report, load_index(base / "index")


@pytest.mark.parametrize("name,reason", [(name, reason) for name, (_, reason) in BAD_FILES.items()]
                         + [("link.txt", "symlink points outside the corpus folder")])
def test_bad_file_is_skipped_with_a_reason(bad_corpus_build, name, reason):
    report, loaded = bad_corpus_build
    skipped = {s["file"]: s["reason"] for s in report.skipped}
    assert re.search(reason, skipped[name])
    assert f"skipped {name}: " in report.summary()
    assert name not in {c.source for c in loaded.chunks}


def test_bad_files_do_not_stop_the_rest(bad_corpus_build):
    report, loaded = bad_corpus_build
    assert len(report.skipped) == len(BAD_FILES) + 1
    assert {c.source for c in loaded.chunks} == {"programm-de.txt", "admission-en.md"}
    assert not any("Außerhalb des Korpus" in c.text for c in loaded.chunks)
    assert loaded.manifest["skipped"] == report.skipped


def test_skipped_list_is_current_when_nothing_else_changed(builder, corpus, tmp_path):
    builder.build(corpus, tmp_path / "index")
    (corpus / "leer.txt").write_bytes(b"")
    added = builder.build(corpus, tmp_path / "index")
    assert not added.changed and [s["file"] for s in added.skipped] == ["leer.txt"]
    (corpus / "leer.txt").unlink()
    removed = builder.build(corpus, tmp_path / "index")
    assert not removed.changed and removed.skipped == []


@pytest.mark.parametrize("content", [None, b""], ids=["no-files", "only-an-empty-file"])
def test_empty_corpus_is_a_corpus_error(builder, tmp_path, content):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if content is not None:
        (corpus / "leer.md").write_bytes(content)
    with pytest.raises(CorpusError, match="Nothing to index"):
        builder.build(corpus, tmp_path / "index")
    assert not (tmp_path / "index" / "CURRENT").exists()


class BlockingEncoder:
    """The real embedder, but the first encode waits until the test lets it go."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name
        self.started, self.release = threading.Event(), threading.Event()

    @property
    def dimension(self):
        return self.inner.dimension

    def fingerprint(self):
        return self.inner.fingerprint()

    def encode_passages(self, texts, show_progress=False):
        self.started.set()
        assert self.release.wait(60)
        return self.inner.encode_passages(texts)


def test_second_concurrent_build_fails_fast(embedder, corpus, tmp_path):
    encoder = BlockingEncoder(embedder)
    first = IndexBuilder(encoder, Chunker(320, 48, embedder.count_tokens), MAX_BYTES, show_progress=False)
    results = {}
    thread = threading.Thread(target=lambda: results.update(report=first.build(corpus, tmp_path / "index")))
    thread.start()
    try:
        assert encoder.started.wait(60)
        second = IndexBuilder(embedder, Chunker(320, 48, embedder.count_tokens), MAX_BYTES, show_progress=False)
        started = time.perf_counter()
        with pytest.raises(FaqError, match="Another build is writing"):
            second.build(corpus, tmp_path / "index")
        assert time.perf_counter() - started < 5
    finally:
        encoder.release.set()
        thread.join(120)
    assert results["report"].changed and load_index(tmp_path / "index").chunks


# --- the real corpus --------------------------------------------------------------------------------------
def test_real_index_has_both_languages_clean_text_and_catalogue_data(real_index):
    catalog = tomllib.loads((PROJECT_ROOT / "corpus" / "catalog.toml").read_text(encoding="utf-8"))
    entries = {entry["file"]: entry for entry in catalog["document"]}
    chunks = load_index(real_index).chunks
    assert {c.language for c in chunks} == {"de", "en"}
    assert {c.source for c in chunks} == set(entries)
    artefacts = [(c.source, m.group()) for c in chunks for m in HYPHEN_ARTEFACT.finditer(c.text)]
    assert artefacts == []
    for chunk in chunks:
        entry = entries[chunk.source]
        assert (chunk.title, chunk.language, chunk.date_label) == \
            (entry["title"], entry["language"], entry["date_label"])
