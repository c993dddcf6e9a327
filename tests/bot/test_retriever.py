"""Hybrid retrieval over a real one-hot FAISS index: dense and BM25 fused by rank, the question's language
preferred, named documents first, filters and k (the encoder is a stand-in that returns chosen vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.keywords import KeywordRetriever
from bot.retriever import HybridRetriever, RetrievalOptions
from indexer.chunk import Chunk


def chunk(text: str, lang: str, source: str, n: int) -> Chunk:
    return Chunk.create(text=text, source=source, title=source, language=lang, ordinal=n)


CHUNKS = [chunk("Jedes Innovationscluster kann sich um die Aufnahme bewerben.", "de", "web-de.txt", 0),
          chunk("Every innovation cluster can apply for admission.", "en", "web-en.txt", 0),
          chunk("Die Clusterwoche fand in Berlin statt.", "de", "flyer-de.txt", 0),
          chunk("Das Ministerium übernimmt die Kosten.", "de", "web-de.txt", 1)]


class ChosenVectors:
    """encode_queries returns the vector set for the next query (a unit vector over chosen chunks)."""

    def __init__(self, dim: int, offset: int) -> None:
        self.dim, self.offset, self.weights = dim, offset, {}

    def point_at(self, **weights: float) -> None:
        self.weights = {int(k[1:]): v for k, v in weights.items()}  # c0=1.0 -> chunk 0

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        vec = np.zeros((len(texts), self.dim), np.float32)
        for i, w in self.weights.items():
            vec[:, self.offset + i] = w
        return vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)


@pytest.fixture
def setup(one_hot_index):
    index = one_hot_index(CHUNKS)
    units = len(index.units)
    encoder = ChosenVectors(units + len(CHUNKS), units)
    aliases = {"flyer-de.txt": ["Flyer"]}
    return encoder, lambda **opt: HybridRetriever(encoder, index, KeywordRetriever(CHUNKS),
                                                   options=RetrievalOptions(**opt), document_aliases=aliases)


def sources(hits):
    return [(h.chunk.source, h.chunk.ordinal) for h in hits]


def test_dense_only_follows_the_vectors(setup):
    encoder, make = setup
    encoder.point_at(c2=1.0, c3=0.5)
    hits = make(use_keywords=False, cross_language=False).search("egal", "de", k=2)
    assert sources(hits) == [("flyer-de.txt", 0), ("web-de.txt", 1)]
    assert hits[0].dense_score == pytest.approx(2 / np.sqrt(5), abs=1e-5) and hits[0].keyword_score is None


def test_keywords_only_follow_bm25_and_a_question_without_content_words_finds_nothing(setup):
    _, make = setup
    retriever = make(use_dense=False, cross_language=False)
    assert sources(retriever.search("Clusterwoche Berlin", "de", k=1)) == [("flyer-de.txt", 0)]
    assert retriever.search("Wer ist das?", "de") == []


def test_a_passage_both_find_beats_one_only_one_finds(setup):
    encoder, make = setup
    encoder.point_at(c0=1.0, c3=1.0)  # dense: a tie between 0 and 3
    hits = make(cross_language=False).search("Wer kann sich um die Aufnahme bewerben?", "de", k=4)
    assert sources(hits)[0] == ("web-de.txt", 0) and hits[0].keyword_score > 0


def test_of_two_equal_passages_the_one_in_the_question_language_comes_first(setup):
    encoder, make = setup
    encoder.point_at(c0=1.0, c1=1.0)
    hits = make(use_keywords=False, cross_language=False)
    assert sources(hits.search("x", "en", k=2))[0] == ("web-en.txt", 0)
    assert sources(hits.search("x", "de", k=2))[0] == ("web-de.txt", 0)


def test_a_document_the_question_names_comes_first(setup):
    encoder, make = setup
    encoder.point_at(c0=1.0, c2=0.8)
    retriever = make(use_keywords=False, cross_language=False)
    assert sources(retriever.search("Was steht im Flyer?", "de", k=1)) == [("flyer-de.txt", 0)]
    assert retriever.named_documents("laut flyer") == {"flyer-de.txt"} and retriever.named_documents("x") == set()


def test_language_and_source_filters_and_k(setup):
    encoder, make = setup
    encoder.point_at(c0=1.0, c1=0.9, c2=0.8, c3=0.7)
    retriever = make(use_keywords=False, cross_language=False)
    assert [h.rank for h in retriever.search("x", "de", k=3)] == [1, 2, 3]
    assert {h.chunk.language for h in retriever.search("x", "de", k=4, language="en")} == {"en"}
    assert {h.chunk.source for h in retriever.search("x", "de", k=4, source="web-de.txt")} == {"web-de.txt"}
