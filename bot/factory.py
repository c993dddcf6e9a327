"""The one place that assembles the concrete objects from the settings (build the index if missing)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import common_words
from bot.candidates import CandidateFinder
from bot.faq_bot import Contact, FaqBot
from bot.feedback import FeedbackStore
from bot.glossary import Glossary
from bot.keywords import KeywordRetriever
from bot.query_adapter import QueryAdapter
from bot.question_memory import QuestionMemory
from bot.retriever import HybridRetriever
from bot.selector import Selector
from bot.spelling import SpellingCorrector
from bot.term_vectors import TermVectorCache
from indexer.builder import IndexBuilder
from indexer.catalog import Catalog
from indexer.chunker import Chunker
from indexer.embedder import E5Embedder, index_backend
from indexer.errors import IndexNotFound
from indexer.settings import Settings
from indexer.store import StoredIndex, load_index

log = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> E5Embedder:
    return E5Embedder(settings.embedding_model, cache_dir=settings.cache_dir,
                      batch_size=settings.embed_batch_size, backend=settings.embedding_backend)


def bulk_embedder(settings: Settings, embedder: E5Embedder) -> E5Embedder:
    """The embedder for a whole build: the same weights (so the same fingerprint and vectors) on the
    engine Settings.index_backend names. It loads only if something needs embedding."""
    backend = index_backend(embedder.backend, settings.index_backend)
    if backend == embedder.backend:
        return embedder
    return E5Embedder(settings.embedding_model, cache_dir=settings.cache_dir,
                      batch_size=settings.embed_batch_size, backend=backend)


def build_index(settings: Settings, embedder: E5Embedder, show_progress: bool = True,
                progress: Callable[[str, int, int], None] | None = None) -> IndexBuilder:
    """Embeds and counts tokens on the index engine (Settings.index_backend): sentence-transformers, when
    installed, reads each passage once for its own and its units' vectors and tokenises 3x faster than
    the C engine. The public app never builds, so it never loads torch; the staff app does on its
    first re-index."""
    bulk = bulk_embedder(settings, embedder)
    chunker = Chunker(settings.chunk_max_tokens, settings.chunk_overlap_tokens, bulk.count_tokens)
    return IndexBuilder(embedder, chunker, settings.max_file_bytes, show_progress=show_progress,
                        max_file_chars=settings.max_file_chars, progress=progress, bulk=bulk)


def load_or_build(settings: Settings, embedder: E5Embedder,
                  progress: Callable[[str], None] = print) -> StoredIndex:
    try:
        return load_index(settings.index_dir, embedder.name, embedder.fingerprint())
    except IndexNotFound:
        progress(f"No index yet at {settings.index_dir}: building it from {settings.corpus_dir} ...")
        report = build_index(settings, embedder).build(settings.corpus_dir, settings.index_dir)
        progress(report.summary())
        return load_index(settings.index_dir, embedder.name, embedder.fingerprint())


def build_bot(settings: Settings, progress: Callable[[str], None] = print,
              embedder: E5Embedder | None = None, build_missing: bool = True,
              selector: Selector | None = None, adapter: QueryAdapter | None = None,
              memory: QuestionMemory | None = None) -> FaqBot:
    """The shipped selector, query adapter and question memory unless a selector is passed in: that one
    comes with its own adapter and memory (default none), as training passes them."""
    embedder = embedder or build_embedder(settings)
    if build_missing:
        index = load_or_build(settings, embedder, progress)
    else:
        index = load_index(settings.index_dir, embedder.name, embedder.fingerprint())
    keywords = KeywordRetriever(index.chunks)
    glossary = Glossary.load()
    retriever = HybridRetriever(embedder, index, keywords, glossary,
                                document_aliases=_aliases(settings, index))
    retriever.warm_up(TermVectorCache(settings.cache_dir, embedder.fingerprint(), embedder.backend))
    spelling = SpellingCorrector.from_texts(
        [c.text for c in index.chunks] + [f"{c.title} {c.section}" for c in index.chunks],
        protected=[t for e in glossary.entries for lang in ("de", "en") for t in e[lang]],
        common=common_words.load())
    llm = None
    if settings.llm_base_url:
        from bot.llm_answerer import LlmAnswerer  # optional path: only imported when configured

        llm = LlmAnswerer.from_settings(settings, keywords.coverage)
    if selector is None:
        selector, adapter = Selector.load(), QueryAdapter.for_model(embedder.fingerprint(), embedder.dimension)
        memory = QuestionMemory.for_model(embedder.fingerprint(), embedder.dimension)
    return FaqBot(retriever, keywords, CandidateFinder(index, adapter=adapter), selector, spelling,
                  settings.max_question_chars, k=settings.retrieval_k,
                  contact=Contact(settings.hotline_contact_phone, settings.hotline_contact_email), llm=llm,
                  index_version=index.version, documents=_documents(index), memory=memory)


def _aliases(settings: Settings, index: StoredIndex) -> dict[str, list[str]]:
    """Names by which questions refer to documents ("BMWi-Webseite", "flyer"), from the catalogue
    (matched by name, stem or hash, so a brochure replaced by its PDF keeps its aliases)."""
    return Catalog.load(settings.corpus_dir).aliases_by_source({c.source for c in index.chunks})


def _documents(index: StoredIndex) -> list[dict]:
    """The indexed documents, from the chunks (they carry the catalogue data the UI needs)."""
    seen: dict[str, dict] = {}
    for chunk in index.chunks:
        seen.setdefault(chunk.source, {"file": chunk.source, "title": chunk.title, "language": chunk.language,
                                       "date_label": chunk.date_label or chunk.date})
    return sorted(seen.values(), key=lambda d: d["file"])


def build_feedback_store(settings: Settings) -> FeedbackStore:
    """PostgreSQL (or any URL) when GOCLUSTER_FEEDBACK_URL is set, else the SQLite file feedback_db."""
    return FeedbackStore(settings.feedback_url or settings.feedback_db)
