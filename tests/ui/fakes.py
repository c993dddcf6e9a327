"""A fake FaqBot with the real bot's surface (answers from three chunks by word overlap)."""

from __future__ import annotations

from typing import Any

from bot.results import Answer, Citation, Hit
from indexer.chunk import Chunk
from indexer.errors import QuestionError

DOCUMENTS = [
    {"file": "webseite-de.txt", "title": "Programm go-cluster (Webseite)", "language": "de",
     "date_label": "undatiert, vor Dezember 2021"},
    {"file": "flyer-en.txt", "title": "Excellent networking <flyer>", "language": "en",
     "date_label": "last revised March 2019"},
]
CHUNKS = [
    Chunk.create(text="Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm "
                      "bewerben. Die Aufnahme ist an Qualitätskriterien gebunden.",
                 source="webseite-de.txt", title=DOCUMENTS[0]["title"], language="de", ordinal=0,
                 section="Aufnahme in das Programm", date_label=DOCUMENTS[0]["date_label"]),
    Chunk.create(text="Membership in the programme is open to all innovation clusters based in Germany.",
                 source="flyer-en.txt", title=DOCUMENTS[1]["title"], language="en", ordinal=0, page=2,
                 section="Who can join?", date="2019-03", date_label=DOCUMENTS[1]["date_label"]),
    Chunk.create(text="Die Clustermanagement-Organisationen erhalten <b>Beratung</b> & Coaching.",
                 source="webseite-de.txt", title=DOCUMENTS[0]["title"], language="de", ordinal=1,
                 section="Leistungen", date_label=DOCUMENTS[0]["date_label"]),
]
GAP_WORD = "Wetter"


class FakeBot:
    """Answers from CHUNKS by word overlap; abstains on questions containing GAP_WORD."""

    index_version = "2026-11-21T18:00:00Z/fake0001"

    def __init__(self) -> None:
        self.answer_calls: list[tuple[str, list[dict] | None]] = []
        self.search_calls: list[dict[str, Any]] = []

    def documents(self) -> list[dict]:
        return [dict(d) for d in DOCUMENTS]

    def search(self, query: str, k: int = 10, language: str | None = None,
               source: str | None = None) -> list[Hit]:
        self.search_calls.append({"query": query, "k": k, "language": language, "source": source})
        words = {w.lower() for w in query.split()}
        pool = [c for c in CHUNKS if (language is None or c.language == language)
                and (source is None or c.source == source)]
        scored = sorted(pool, key=lambda c: -len(words & {w.lower().strip(".,") for w in c.text.split()}))
        return [Hit(chunk=c, score=1.0 / (i + 1), rank=i + 1) for i, c in enumerate(scored[:k])]

    def answer(self, question: str, history: list[dict] | None = None) -> Answer:
        self.answer_calls.append((question, history))
        if not question.strip():
            raise QuestionError("Bitte geben Sie eine Frage ein.")
        if len(question) > 2_000:
            raise QuestionError("Die Frage ist zu lang (höchstens 2.000 Zeichen).")
        language = "en" if question.lower().startswith(("who", "what", "how")) else "de"
        if GAP_WORD.lower() in question.lower():
            return Answer(question=question, text="Dazu enthalten die Dokumente keine Angaben.",
                          language=language, abstained=True, index_version=self.index_version)
        hits = self.search(question, k=2)
        citations = [Citation.from_hit(i + 1, h, h.chunk.text[:80]) for i, h in enumerate(hits)]
        text = f"Zu „{question}“: Jedes Innovationscluster kann sich bewerben [1]. Siehe auch [2]."
        return Answer(question=question, text=text, language=language, abstained=False,
                      citations=citations, index_version=self.index_version)
