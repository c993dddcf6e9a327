"""The on-disk index: real FAISS files + chunks.jsonl + manifest.json, and every way loading refuses."""

import hashlib
import json
import shutil
import sys
from importlib.metadata import version

import numpy as np
import pytest

from indexer import store
from indexer.builder import IndexBuilder
from indexer.chunk import Chunk
from indexer.chunker import Chunker
from indexer.errors import IndexMismatch, IndexNotFound
from indexer.store import load_index, write_version

DIM = 8
NAME, FINGERPRINT = "test/embedder", "0123456789abcdef"
GERMAN = ("Das Programm go-cluster fördert die Clusterplatt-\nform Deutschland und die größten "
          "Innovationscluster.\n\nÜbergang zum Exzellenzprogramm: Qualität und Außenwirkung zählen.\n")
ENGLISH = ("# Admission\n\nEvery innovation cluster in Germany can apply for admission to the programme.\n\n"
           "# Services\n\nMembers receive advice, workshops and access to the cluster platform.\n")

_opened: list[str] | None = None  # paths opened while recording (an audit hook cannot be removed)


def _audit(event, args):
    if _opened is not None and event == "open":
        _opened.append(str(args[0]))


sys.addaudithook(_audit)


def make_chunks(n=3):
    return [Chunk.create(text=f"Absatz {i} über Förderung", source=f"doc{i % 2}.txt", title="Titel",
                         language="de" if i % 2 else "en", ordinal=i, date_label="2023")
            for i in range(n)]


def make_vectors(n=3, seed=0):
    vectors = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def manifest():
    return {"built_at": "2024-05-01T12:00:00Z", "embedder": {"name": NAME, "fingerprint": FINGERPRINT,
                                                              "dimension": DIM}}


@pytest.fixture
def index_dir(tmp_path):
    folder = tmp_path / "index"
    write_version(folder, make_chunks(), make_vectors(), manifest())
    return folder


def live(index_dir):
    return store.current_path(index_dir)


def refuses(index_dir, error=IndexMismatch, match="", **kwargs):
    with pytest.raises(error, match=match) as info:
        load_index(index_dir, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "gocluster-faq index" in message
    return message


# --- round trip --------------------------------------------------------------------------------------
def test_write_then_load_returns_the_same_chunks_and_vectors(index_dir):
    loaded = load_index(index_dir, NAME, FINGERPRINT)
    assert loaded.chunks == make_chunks()
    np.testing.assert_allclose(loaded.vectors(), make_vectors(), rtol=1e-6)
    assert loaded.manifest["dimension"] == DIM and loaded.manifest["ntotal"] == 3
    assert loaded.version.startswith("2024-05-01T12:00:00Z/")
    assert sorted(p.name for p in loaded.path.iterdir()) == [
        "chunks.jsonl", "index.faiss", "manifest.json", "units.faiss", "units.jsonl"
    ]


def test_search_finds_the_stored_vector_first(index_dir):
    scores, rows = load_index(index_dir).search(make_vectors()[1:2], k=10)
    assert rows[0][0] == 1 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert len(rows[0]) == 3  # k capped at the number of vectors


def test_chunks_jsonl_is_plain_utf8_json(index_dir):
    lines = (live(index_dir) / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [c.id for c in make_chunks()]
    assert "über Förderung" in lines[0]


def test_chunk_and_vector_counts_must_agree(tmp_path):
    with pytest.raises(ValueError, match="3 chunks but 2 vectors"):
        write_version(tmp_path, make_chunks(3), make_vectors(2), manifest())


def test_a_new_version_replaces_current_and_keeps_one_predecessor(index_dir):
    first = live(index_dir)
    for seed, built_at in ((1, "2024-05-02T12:00:00Z"), (2, "2024-05-03T12:00:00Z")):
        write_version(index_dir, make_chunks(), make_vectors(seed=seed), dict(manifest(), built_at=built_at))
    versions = sorted(p.name for p in index_dir.glob("v-*"))
    assert len(versions) == 2 and first.name not in versions
    assert (index_dir / "CURRENT").read_text().strip() == versions[-1]
    np.testing.assert_allclose(load_index(index_dir).vectors(), make_vectors(seed=2), rtol=1e-6)


def test_no_pickle_is_written_or_read(index_dir, monkeypatch):
    global _opened
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    (live(index_dir) / "extra.pkl").write_bytes(b"not to be read")  # a planted pickle is ignored
    _opened = []
    try:
        load_index(index_dir, NAME, FINGERPRINT)
        opened = [p for p in _opened if p.startswith(str(index_dir))]
    finally:
        _opened = None
    assert {p.rsplit("/", 1)[-1] for p in opened} <= {
        "CURRENT", "manifest.json", "index.faiss", "chunks.jsonl", "units.faiss", "units.jsonl"
    }
    assert "chunks.jsonl" in "".join(opened)
    assert [p.name for p in index_dir.rglob("*.pkl")] == ["extra.pkl"]


# --- refusals -------------------------------------------------------------------------------------------
def test_missing_folder_is_index_not_found(tmp_path):
    refuses(tmp_path / "nowhere", IndexNotFound, match="No index at")


def test_current_pointing_to_a_missing_folder_is_refused(index_dir):
    (index_dir / "CURRENT").write_text("v-20240501T120000Z-deadbeef\n")
    refuses(index_dir, match="missing version")


def test_truncated_faiss_file_is_refused(index_dir):
    faiss_file = live(index_dir) / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:40])
    refuses(index_dir, match="index.faiss is missing or damaged")


def test_edited_chunks_file_is_refused(index_dir):
    chunks_file = live(index_dir) / "chunks.jsonl"
    chunks_file.write_text(chunks_file.read_text(encoding="utf-8").replace("Absatz 1", "Absatz 9"),
                           encoding="utf-8")
    refuses(index_dir, match="chunks.jsonl is missing or damaged")


def edit_manifest(index_dir, **embedder):
    path = live(index_dir) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["embedder"].update(embedder)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_index_of_another_embedder_is_refused(index_dir):
    edit_manifest(index_dir, name="other/model")
    message = refuses(index_dir, match="built with the embedder 'other/model'", embedder_name=NAME)
    assert NAME in message


def test_index_of_other_weights_is_refused(index_dir):
    edit_manifest(index_dir, fingerprint="ffffffffffffffff")
    refuses(index_dir, match="other weights", embedder_name=NAME, embedder_fingerprint=FINGERPRINT)


def test_unreadable_manifest_is_refused(index_dir):
    (live(index_dir) / "manifest.json").write_text("{not json", encoding="utf-8")
    refuses(index_dir, match="manifest .* is unreadable")


def test_deleted_version_folder_is_refused(index_dir):
    shutil.rmtree(live(index_dir))
    refuses(index_dir, match="missing version")


# --- the manifest the builder writes (real model) -------------------------------------------------------
@pytest.mark.slow
def test_builder_manifest_records_how_the_index_was_made(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "programm-de.txt").write_text(GERMAN, encoding="utf-8")
    (corpus / "admission-en.md").write_text(ENGLISH, encoding="utf-8")
    chunker = Chunker(320, 48, embedder.count_tokens)
    report = IndexBuilder(embedder, chunker, 1_000_000, show_progress=False).build(corpus, tmp_path / "index")

    loaded = load_index(tmp_path / "index", embedder.name, embedder.fingerprint())
    m = loaded.manifest
    assert m["embedder"] == {"name": embedder.name, "fingerprint": embedder.fingerprint(),
                             "backend": embedder.backend, "dimension": 384}
    assert m["dimension"] == 384 == loaded.index.d
    assert m["chunking"] == chunker.settings()
    assert m["files"]["programm-de.txt"]["sha256"] == hashlib.sha256(GERMAN.encode()).hexdigest()
    assert m["files"]["admission-en.md"]["sha256"] == hashlib.sha256(ENGLISH.encode()).hexdigest()
    assert m["chunks_by_language"] == report.chunks_by_language == {"de": 1, "en": 2}
    assert m["built_at"].endswith("Z") and m["version"] == report.version
    assert m["package_version"] == version("gocluster-faq")
    assert len(loaded.chunks) == loaded.index.ntotal == 3
    assert {c.language for c in loaded.chunks} == {"de", "en"}
    norms = np.linalg.norm(loaded.vectors(), axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-4)
