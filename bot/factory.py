"""The one place that assembles the concrete objects from the settings (build the index if missing)."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable

from bot.abstention import AbstentionPolicy
from bot.composer import ExtractiveComposer
from bot.faq_bot import Contact, FaqBot
from bot.glossary import Glossary
from bot.keywords import KeywordRetriever
from bot.retriever import HybridRetriever
from indexer.builder import IndexBuilder
from indexer.chunker import Chunker
from indexer.embedder import E5Embedder
from indexer.errors import IndexNotFound
from indexer.settings import Settings
from indexer.store import StoredIndex, load_index

log = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> E5Embedder:
    return E5Embedder(settings.embedding_model, cache_dir=settings.cache_dir,
                      batch_size=settings.embed_batch_size)


def build_index(settings: Settings, embedder: E5Embedder, show_progress: bool = True,
                progress: Callable[[str, int, int], None] | None = None) -> IndexBuilder:
    chunker = Chunker(settings.chunk_max_tokens, settings.chunk_overlap_tokens, embedder.count_tokens)
    return IndexBuilder(embedder, chunker, settings.max_file_bytes, show_progress=show_progress, progress=progress)


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
              embedder: E5Embedder | None = None, build_missing: bool = True) -> FaqBot:
    embedder = embedder or build_embedder(settings)
    if build_missing:
        index = load_or_build(settings, embedder, progress)
    else:
        index = load_index(settings.index_dir, embedder.name, embedder.fingerprint())
    keywords = KeywordRetriever(index.chunks)
    glossary = Glossary.load()
    retriever = HybridRetriever(embedder, index, keywords, glossary,
                                document_aliases=_aliases(settings))
    retriever.warm_up()
    composer = ExtractiveComposer(keywords.coverage, glossary=glossary)
    llm = None
    if settings.llm_base_url:
        from bot.llm_answerer import LlmAnswerer  # optional path: only imported when configured

        llm = LlmAnswerer.from_settings(settings, keywords.coverage)
    return FaqBot(retriever, composer, AbstentionPolicy(), settings.max_question_chars, k=settings.retrieval_k,
                  contact=Contact(settings.hotline_contact_phone, settings.hotline_contact_email), llm=llm,
                  index_version=index.version, documents=_documents(index))


def _aliases(settings: Settings) -> dict[str, list[str]]:
    """Names by which questions refer to documents ("BMWi-Webseite", "flyer"), from the catalogue."""
    catalog = settings.corpus_dir / "catalog.toml"
    if not catalog.is_file():
        return {}
    data = tomllib.loads(catalog.read_text(encoding="utf-8"))
    return {d["file"]: list(d.get("aliases", [])) for d in data.get("document", []) if d.get("aliases")}


def _documents(index: StoredIndex) -> list[dict]:
    """The indexed documents, from the chunks (they carry the catalogue data the UI needs)."""
    seen: dict[str, dict] = {}
    for chunk in index.chunks:
        seen.setdefault(chunk.source, {"file": chunk.source, "title": chunk.title, "language": chunk.language,
                                       "date_label": chunk.date_label or chunk.date})
    return sorted(seen.values(), key=lambda d: d["file"])
