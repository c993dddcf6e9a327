"""FaqRetriever and FaqRunnable inside small LangChain chains, with the real model and the real index."""

from __future__ import annotations

import functools
import operator
import re

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough

from bot.langchain_surfaces import FaqRetriever, FaqRunnable, parse_input, text_pieces
from indexer.errors import QuestionError

pytestmark = pytest.mark.slow
METADATA = {"chunk_id", "source", "title", "page", "section", "date", "date_label", "language", "score", "rank"}


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(f"[{d.metadata['rank']}] {d.metadata['title']}: {d.page_content}" for d in docs)


def without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_retriever_in_a_chain_returns_cited_passages_in_the_asked_language(real_bot) -> None:
    retriever = FaqRetriever(bot=real_bot, k=4, language="de")
    docs = retriever.invoke("Wer kann sich um die Aufnahme bewerben?")
    assert 1 <= len(docs) <= 4
    assert all(set(d.metadata) == METADATA and d.metadata["language"] == "de" for d in docs)
    assert [d.metadata["rank"] for d in docs] == list(range(1, len(docs) + 1))
    assert any(re.search("Innovationscluster aus Deutschland", d.page_content) for d in docs)

    chain = retriever | RunnableLambda(format_docs)
    context = chain.invoke("Wer kann sich um die Aufnahme bewerben?")
    assert context.startswith("[1] ") and "Innovationscluster" in context


def test_retriever_filters_by_document_and_takes_a_live_bot_provider(real_bot) -> None:
    source = "go-cluster-flyer-2019-en.txt"
    docs = FaqRetriever(bot=lambda: real_bot, k=3, source=source).invoke("membership costs")
    assert docs and all(d.metadata["source"] == source for d in docs)
    english = FaqRetriever(bot=real_bot, k=5, language="en").batch(["Mitgliedsbeitrag", "silver label"])
    assert all(d.metadata["language"] == "en" for docs in english for d in docs)
    with pytest.raises(ValueError):
        FaqRetriever(bot=real_bot, k=0)


def test_runnable_batch_answers_and_abstains(real_bot) -> None:
    runnable = FaqRunnable(bot=real_bot)
    answers = runnable.batch(["Wer darf sich bewerben?", {"question": "Who may apply?"},
                              "Wie wird das Wetter morgen in Berlin?"])
    assert [a["language"] for a in answers] == ["de", "en", "de"]
    assert not answers[0]["abstained"] and answers[0]["citations"]
    assert answers[0]["citations"][0]["n"] == 1 and "[1]" in answers[0]["text"]
    assert answers[0]["index_version"] == real_bot.index_version
    assert answers[2]["abstained"] and not answers[2]["citations"]


def test_runnable_streams_the_text_in_pieces_that_add_up_to_the_answer(real_bot) -> None:
    runnable = FaqRunnable(bot=real_bot)
    chunks = list(runnable.stream("Wer darf sich bewerben?"))
    texts = [c["text"] for c in chunks if "text" in c]
    assert len(texts) > 5 and all(set(c) == {"text"} for c in chunks[:-1])
    whole = functools.reduce(operator.add, chunks)
    assert without_timings(whole) == without_timings(runnable.invoke("Wer darf sich bewerben?"))
    assert "".join(texts) == whole["text"]


def test_runnable_in_a_chain_with_history_as_messages(real_bot) -> None:
    chain = (RunnableParallel(question=RunnablePassthrough(), history=RunnableLambda(lambda _: [
        HumanMessage("Wer darf sich bewerben?"), AIMessage("Jedes Innovationscluster aus Deutschland ...")]))
             | FaqRunnable(bot=real_bot) | RunnableLambda(lambda answer: answer["text"]))
    text = chain.invoke("Und was kostet das?")
    streamed = "".join(chain.stream("Und was kostet das?"))
    assert text and text == streamed


def test_input_errors_are_question_errors(real_bot) -> None:
    with pytest.raises(QuestionError, match="question"):
        FaqRunnable(bot=real_bot).invoke({"frage": "Wer?"})
    with pytest.raises(QuestionError, match="history"):
        parse_input({"question": "Wer?", "history": 5})
    with pytest.raises(QuestionError):
        FaqRunnable(bot=real_bot).invoke("   ")


def test_text_pieces_join_back_to_the_text() -> None:
    for text in ("Jedes Cluster [1].  Siehe [2].\n", "", "  eins", "a"):
        assert "".join(text_pieces(text)) == text
    assert text_pieces("Siehe [12].") == ["Siehe", " [12]."]
