"""The systems compared in an evaluation run, all behind one small interface.

- pipeline: the project's FaqBot asked exactly as `ask --jsonl` asks it (hybrid retrieval, cited answers,
  abstention), also turn by turn through conversations;
- bm25: BM25 alone over the project's chunks, the top passage as the answer;
- langchain: the plain LangChain recipe (RecursiveCharacterTextSplitter + the same embedder + FAISS
  similarity_search), the top passage as the answer.
The baselines never abstain: that is what a plain recipe does.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import bm25s

from bot.batch import answer_item
from bot.faq_bot import FaqBot
from bot.question import detect_language
from bot.retriever import RetrievalOptions
from evaluation.questions import Question
from indexer.chunk import Chunk


@dataclass
class SystemOutput:
    text: str
    abstained: bool
    language: str
    quotes: list[str]
    ranked_texts: list[str]  # what the system itself answered from, best first
    latency_ms: float
    cited_texts: list[str] = field(default_factory=list)  # the whole passages behind the quotes
    reference_ranked: list[str] | None = None  # the pipeline's separate reference search (k=10)
    extra: dict = field(default_factory=dict)


class System(Protocol):
    name: str

    def run(self, q: Question) -> SystemOutput: ...


class PipelineSystem:
    """The bot, asked through `bot.batch.answer_item` (the `ask --jsonl` path, history included).

    Retrieval figures come from `Answer.retrieved`: the passages the answer was made from. `ranked()` is the
    old separate search (its own k, no contact widening, no "how many" survey), kept as the labelled
    reference retrieval for one release and for the retrieval variants.
    """

    name = "pipeline"

    def __init__(self, bot: FaqBot, k: int = 10, options: RetrievalOptions | None = None,
                 reference: bool = True) -> None:
        self.bot, self.k, self.options, self.reference = bot, k, options, reference

    def run(self, q: Question) -> SystemOutput:
        item: dict = {"id": q.id, "question": q.question}
        if q.history:
            item["history"] = list(q.history)
        started = time.perf_counter()
        answer = answer_item(self.bot, item)
        latency = (time.perf_counter() - started) * 1000
        passages = {r["chunk_id"]: r["text"] for r in answer.retrieved}
        return SystemOutput(answer.text, answer.abstained, answer.language, [c.quote for c in answer.citations],
                            [r["text"] for r in answer.retrieved], latency,
                            cited_texts=[passages.get(c.chunk_id, c.quote) for c in answer.citations],
                            reference_ranked=self.ranked(q) if self.reference else None,
                            extra={"citations": [asdict(c) for c in answer.citations]})

    def converse(self, conversation: Any) -> list[tuple[Question, SystemOutput]]:
        """Ask the turns in order; each turn's history is the earlier questions and the bot's own answers."""
        history: list[dict] = []
        results = []
        for n, turn in enumerate(conversation.turns, start=1):
            q = turn.as_question(f"{conversation.id}/{n}", tuple(history))
            out = self.run(q)
            results.append((q, out))
            history += [{"role": "user", "content": turn.question},
                        {"role": "assistant", "content": out.text, "citations": out.extra["citations"]}]
        return results

    def ranked(self, q: Question, options: RetrievalOptions | None = None) -> list[str]:
        query = q.question
        lang, _ = detect_language(q.question)
        hits = self.bot.retriever.search(query, lang, k=self.k, options=options or self.options)
        return [h.chunk.text for h in hits]


class Bm25System:
    """BM25 with the library's stock tokenizer (lower-case, English stop words), no glossary."""

    name = "bm25"

    def __init__(self, chunks: list[Chunk], k: int = 10) -> None:
        self.texts = [c.text for c in chunks]
        self.k = k
        self.bm25 = bm25s.BM25()
        self.bm25.index(bm25s.tokenize(self.texts, stopwords="en", show_progress=False), show_progress=False)

    def run(self, q: Question) -> SystemOutput:
        started = time.perf_counter()
        tokens = bm25s.tokenize([q.question], stopwords="en", show_progress=False)
        ids, _ = self.bm25.retrieve(tokens, k=min(self.k, len(self.texts)), show_progress=False)
        ranked = [self.texts[i] for i in ids[0]]
        latency = (time.perf_counter() - started) * 1000
        return SystemOutput(ranked[0] if ranked else "", False, detect_language(ranked[0])[0] if ranked else "",
                            ranked[:1], ranked, latency, cited_texts=ranked[:1])


class LangChainRecipe:
    """The plain recipe, as the LangChain docs show it; built in memory from the raw corpus files."""

    name = "langchain"

    def __init__(self, corpus_dir: Path, embeddings, chunk_size: int = 1000, overlap: int = 200,
                 k: int = 10) -> None:
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        docs = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
                for p in sorted(corpus_dir.glob("*.txt")) + sorted(corpus_dir.glob("*.md"))]
        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
        self.splits = splitter.split_documents(docs)
        self.store = FAISS.from_documents(self.splits, embeddings)
        self.k = k

    def run(self, q: Question) -> SystemOutput:
        started = time.perf_counter()
        docs = self.store.similarity_search(q.question, k=self.k)
        ranked = [d.page_content for d in docs]
        latency = (time.perf_counter() - started) * 1000
        top = ranked[0] if ranked else ""
        return SystemOutput(top, False, detect_language(top)[0] if top else "", ranked[:1], ranked, latency,
                            cited_texts=ranked[:1])
