"""The optional LLM answerer: LangChain fake chat models for the citation check and FaqBot's fallback,
a stub OpenAI-compatible server on 127.0.0.1 for the real ChatOpenAI path, and the API key kept secret."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from bot.composer import Composition
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.faq_bot import FaqBot
from bot.llm_answerer import CitationCheck, LlmAnswerer
from bot.results import Citation, Hit
from indexer.chunk import Chunk
from indexer.settings import Settings

API_KEY = "sk-test-DO-NOT-LEAK-0123456789abcdef"
FALLBACK_NOTE = "llm answer rejected or unavailable; extractive answer shown"
PASSAGES = [
    "Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm bewerben.",
    "Die Aufnahmekriterien müssen mindestens zu zwei Dritteln erfüllt sein.",
    "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied im Programm go-cluster.",
    "Die Kosten für das Benchmarking und die Zertifizierung übernimmt das Bundesministerium.",
]


def coverage(claim: str, passage: str, **_: Any) -> float:
    """Share of the claim's words (3+ letters) that the passage contains: a transparent stand-in."""
    claim_words = {w for w in re.findall(r"\w{3,}", claim.lower())}
    passage_words = set(re.findall(r"\w+", passage.lower()))
    return len(claim_words & passage_words) / len(claim_words) if claim_words else 0.0


def make_hits() -> list[Hit]:
    return [Hit(Chunk.create(text=text, source=f"doc{i}.txt", title=f"Dokument {i}", language="de",
                             ordinal=i, date="2023", date_label="2023"), score=1.0 / i, rank=i, dense_score=0.9)
            for i, text in enumerate(PASSAGES, start=1)]


def answerer(*responses: str) -> LlmAnswerer:
    return LlmAnswerer(FakeListChatModel(responses=list(responses)), CitationCheck(coverage))


# -- the citation check --------------------------------------------------------------------------------

def test_a_well_cited_answer_is_accepted_and_renumbered():
    reply = ("Die Aufnahmekriterien müssen mindestens zu zwei Dritteln erfüllt sein [2]. "
             "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied im Programm [3].")
    hits = make_hits()
    result = answerer(reply).answer("Wie viele Kriterien?", "de", hits)
    assert result is not None
    assert re.findall(r"\[(\d+)\]", result.text) == ["1", "2"]
    assert "zwei Dritteln erfüllt sein [1]" in result.text and "Mitglied im Programm [2]" in result.text
    assert [c.n for c in result.citations] == [1, 2]
    assert [c.chunk_id for c in result.citations] == [hits[1].chunk.id, hits[2].chunk.id]
    assert "81" in result.citations[1].quote


def test_markers_after_the_full_stop_belong_to_their_sentence():
    reply = ("Jedes Innovationscluster aus Deutschland kann sich bewerben. [1] "
             "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied. [3]")
    result = answerer(reply).answer("Wer darf sich bewerben?", "de", make_hits())
    assert result is not None
    assert [c.n for c in result.citations] == [1, 2]


REJECTED = [
    pytest.param("Die Aufnahmekriterien müssen zu zwei Dritteln erfüllt sein [7].", id="unknown-citation"),
    pytest.param("Die Mitgliedschaft kostet jährlich eine Gebühr für jeden Antragsteller [1].",
                 id="unsupported-sentence"),
    pytest.param("Die Aufnahmekriterien müssen zu zwei Dritteln erfüllt sein [2]. "
                 "Die Mitgliedschaft kostet 500 Euro im Jahr.", id="uncited-figure"),
    pytest.param("Im Oktober 2022 sind 8 Clusterorganisationen Mitglied im Programm go-cluster [3].",
                 id="wrong-figure"),
    pytest.param("Jedes Innovationscluster aus Deutschland kann sich bewerben.", id="no-citation"),
    pytest.param("NO_ANSWER", id="no-answer"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("reply", REJECTED)
def test_answers_that_are_not_backed_by_their_passages_are_rejected(reply):
    assert answerer(reply).answer("Frage?", "de", make_hits()) is None


class RecordingChat(FakeListChatModel):
    """FakeListChatModel that keeps the messages it was sent."""

    seen: list[Any]

    def _call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        self.seen.append(messages)
        return super()._call(messages, *args, **kwargs)


def test_the_model_sees_only_numbered_passages_and_the_question():
    model = RecordingChat(responses=["NO_ANSWER"], seen=[])
    LlmAnswerer(model, CitationCheck(coverage), max_passages=2).answer("Wer darf sich bewerben?", "en",
                                                                        make_hits())
    system, human = model.seen[0]
    assert "Answer in English" in system.content and "NO_ANSWER" in system.content
    assert "[1] (Dokument 1, 2023)" in human.content and "[2]" in human.content
    assert "[3]" not in human.content, "only max_passages passages"
    assert human.content.endswith("Question: Wer darf sich bewerben?")


# -- FaqBot with an LLM ------------------------------------------------------------------------------

EXTRACTIVE_TEXT = "Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme bewerben. [1]"


@dataclass
class FakeRetriever:
    hits: list[Hit] = field(default_factory=make_hits)
    glossary: Any = None

    def search(self, query: str, lang: str, k: int = 8, **_: Any) -> list[Hit]:
        return self.hits[:k]

    def named_documents(self, query: str) -> set[str]:
        return set()


class FakeComposer:
    @staticmethod
    def coverage(query: str, text: str, **kwargs: Any) -> float:
        return 1.0

    def compose(self, query: str, lang: str, hits: list[Hit], *args: Any, **kwargs: Any) -> Composition:
        return Composition(EXTRACTIVE_TEXT, [Citation.from_hit(1, hits[0], hits[0].chunk.text)],
                           best_coverage=0.9, evidence_language="de")


class AnswerEverything:
    def refuses(self, question: str) -> bool:
        return False

    def lacks_evidence(self, *args: Any, **kwargs: Any) -> bool:
        return False


def faq_bot(llm: Any) -> FaqBot:
    return FaqBot(FakeRetriever(), FakeComposer(), AnswerEverything(), max_question_chars=2_000, llm=llm)


def test_faq_bot_shows_an_accepted_llm_answer():
    answer = faq_bot(answerer("Die Kosten für das Benchmarking übernimmt das Bundesministerium [4].")).answer(
        "Wer übernimmt die Kosten?")
    assert answer.answerer == "llm"
    assert answer.text == "Die Kosten für das Benchmarking übernimmt das Bundesministerium [1]."
    assert [c.source for c in answer.citations] == ["doc4.txt"]
    assert not answer.abstained and not answer.notes


@pytest.mark.parametrize("reply", REJECTED)
def test_faq_bot_falls_back_to_the_extractive_answer(reply):
    answer = faq_bot(answerer(reply)).answer("Wer darf sich bewerben?")
    assert answer.answerer == "extractive"
    assert answer.text == EXTRACTIVE_TEXT
    assert FALLBACK_NOTE in answer.notes
    assert not answer.abstained and answer.citations[0].source == "doc1.txt"


# -- ChatOpenAI against a stub OpenAI-compatible server ---------------------------------------------------

@dataclass
class Stub:
    url: str
    requests: list[dict[str, Any]]
    reply: dict[str, Any]


def completion(content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": "stub-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


@pytest.fixture
def stub() -> Iterator[Stub]:
    requests: list[dict[str, Any]] = []
    state = Stub("", requests, {"status": 200, "content": "NO_ANSWER"})

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            requests.append({"path": self.path, "body": json.loads(body),
                             "headers": {k.lower(): v for k, v in self.headers.items()}})
            payload = json.dumps(completion(state.reply["content"])).encode()
            if state.reply["status"] != 200:
                payload = b'{"error": {"message": "stub failure", "type": "server_error"}}'
            self.send_response(state.reply["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def llm_settings(base_url: str) -> Settings:
    return Settings(llm_base_url=base_url, llm_model="stub-model", llm_api_key=API_KEY, llm_timeout_s=5.0)


def assert_key_kept_secret(caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    assert API_KEY not in caplog.text
    for text in texts:
        assert API_KEY not in text


def test_chat_openai_reaches_the_stub_and_the_answer_is_checked(stub, caplog):
    caplog.set_level(logging.DEBUG)
    stub.reply["content"] = "Die Aufnahmekriterien müssen mindestens zu zwei Dritteln erfüllt sein [2]."
    llm = LlmAnswerer.from_settings(llm_settings(stub.url), coverage)
    answer = faq_bot(llm).answer("Wie viele Kriterien müssen erfüllt sein?")

    assert len(stub.requests) == 1
    request = stub.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "stub-model"
    assert request["headers"].get("authorization") == f"Bearer {API_KEY}"  # sent to the endpoint only
    prompt = " ".join(m["content"] for m in request["body"]["messages"])
    assert "Question: Wie viele Kriterien müssen erfüllt sein?" in prompt and PASSAGES[1] in prompt

    assert answer.answerer == "llm"
    assert answer.text == "Die Aufnahmekriterien müssen mindestens zu zwei Dritteln erfüllt sein [1]."
    assert_key_kept_secret(caplog, json.dumps(answer.to_dict()), repr(answer))


@pytest.mark.parametrize("status", [500, 401])
def test_an_endpoint_failure_falls_back_without_leaking_the_key(stub, caplog, status):
    caplog.set_level(logging.DEBUG)
    stub.reply["status"] = status
    answer = faq_bot(LlmAnswerer.from_settings(llm_settings(stub.url), coverage)).answer("Wer darf sich bewerben?")
    assert stub.requests, "the request reached the stub"
    assert answer.answerer == "extractive" and FALLBACK_NOTE in answer.notes
    assert "llm failed" in caplog.text
    assert_key_kept_secret(caplog, json.dumps(answer.to_dict()))


def test_an_unreachable_endpoint_falls_back(caplog):
    caplog.set_level(logging.DEBUG)
    llm = LlmAnswerer.from_settings(llm_settings("http://127.0.0.1:9/v1"), coverage)  # discard port: closed
    answer = faq_bot(llm).answer("Wer darf sich bewerben?")
    assert answer.answerer == "extractive" and FALLBACK_NOTE in answer.notes
    assert_key_kept_secret(caplog, json.dumps(answer.to_dict()))


def test_the_api_key_is_not_in_the_settings_repr_or_the_chat_model_repr():
    settings = llm_settings("http://127.0.0.1:9/v1")
    assert API_KEY not in repr(settings) and API_KEY not in str(settings)
    llm = LlmAnswerer.from_settings(settings, coverage)
    assert API_KEY not in repr(llm.chat) and API_KEY not in str(llm.chat)


def test_the_api_key_can_come_from_the_environment_and_stays_out_of_the_repr():
    settings = Settings.from_env({"GOCLUSTER_LLM_API_KEY": API_KEY, "GOCLUSTER_LLM_BASE_URL": "http://x/v1"})
    assert settings.llm_api_key == API_KEY
    assert API_KEY not in repr(settings)
