"""The OpenAI-compatible API of the served app (uvicorn, Gradio mounted on FastAPI), called with the
official `openai` client: real bot, streaming, history, abstention, bounds and one-line errors, token."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from conftest import FakeBot, RunningApp
from servers import serve_app

from evaluation import api_latency
from evaluation.questions import load_questions
from ui.openai_api import MAX_BODY_BYTES, AnswerGate
from ui.openai_protocol import MAX_MESSAGES, ApiError

MODEL = "gocluster-faq"
ARTIFACTS = Path(__file__).parent.parent / "artifacts"


@pytest.fixture(scope="module")
def app_bot(real_bot):
    return real_bot


@pytest.fixture(scope="module")
def client(public_app: RunningApp) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{public_app.url}v1", api_key="not-needed-on-loopback", max_retries=0)


def ask(client: openai.OpenAI, content: str, **kwargs):
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": content}], **kwargs)


def markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


@pytest.mark.slow
def test_models_lists_the_assistant(client: openai.OpenAI, public_app: RunningApp) -> None:
    [model] = client.models.list().data
    assert model.id == MODEL and model.index_version == public_app.bot.index_version


@pytest.mark.slow
def test_answer_carries_markers_sources_and_structured_citations(client: openai.OpenAI,
                                                                  public_app: RunningApp) -> None:
    reply = ask(client, "Wer darf sich bewerben?")
    content = reply.choices[0].message.content
    answer_text, _, sources = content.partition("\n\nQuellen:\n")
    assert answer_text.strip() and sources
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.role == "assistant"
    assert reply.abstained is False and reply.index_version == public_app.bot.index_version
    assert reply.system_fingerprint == public_app.bot.index_version
    cited = {c["n"] for c in reply.citations}
    assert markers(answer_text) == cited and cited == {int(n) for n in re.findall(r"^\[(\d+)\]", sources, re.M)}
    assert all(c["quote"] in sources for c in reply.citations)
    direct = public_app.bot.answer("Wer darf sich bewerben?")
    assert answer_text == direct.text and reply.citations == [vars(c) for c in direct.citations]


@pytest.mark.slow
def test_streaming_yields_pieces_that_make_the_same_answer(client: openai.OpenAI) -> None:
    whole = ask(client, "Who may apply?")
    with ask(client, "Who may apply?", stream=True) as stream:
        chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 10
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(pieces) == whole.choices[0].message.content
    assert "Sources:" in "".join(pieces)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.citations == whole.citations
    assert all(c.id == chunks[0].id for c in chunks)


@pytest.mark.slow
def test_history_reaches_the_bot(client: openai.OpenAI, public_app: RunningApp) -> None:
    first = ask(client, "Wer darf sich bewerben?").choices[0].message.content
    history = [{"role": "system", "content": "You are a helpful assistant."},
               {"role": "user", "content": "Wer darf sich bewerben?"}, {"role": "assistant", "content": first}]
    reply = client.chat.completions.create(model=MODEL, messages=[
        *history, {"role": "user", "content": [{"type": "text", "text": "Und was kostet das?"}]}])
    direct = public_app.bot.answer("Und was kostet das?", history[1:])
    assert reply.choices[0].message.content.startswith(direct.text)


@pytest.mark.slow
def test_abstention_gives_the_hotline_without_sources(client: openai.OpenAI) -> None:
    reply = ask(client, "Wie wird das Wetter morgen in Berlin?")
    content = reply.choices[0].message.content
    assert reply.abstained is True and reply.citations == []
    assert "310078" in content and "info@go-cluster.de" in content and "Quellen" not in content


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"model": "gpt-4o"}, openai.NotFoundError, "does not exist"),
    ({"messages": [{"role": "user", "content": "   "}]}, openai.BadRequestError, "Bitte geben Sie eine Frage ein"),
    ({"messages": [{"role": "user", "content": "Wer? " * 700}]}, openai.BadRequestError, "zu lang"),
    ({"messages": [{"role": "user", "content": "Wer?"}, {"role": "assistant", "content": "x"}]},
     openai.BadRequestError, "last message must be the user's question"),
    ({"messages": [{"role": "user", "content": "Wer?"}] * (MAX_MESSAGES + 1)}, openai.BadRequestError,
     "too many messages"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]},
     openai.BadRequestError, "only text content"),
    ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, openai.BadRequestError, "role"),
    ({"messages": []}, openai.BadRequestError, "non-empty list"),
    ({"n": 2}, openai.BadRequestError, '"n" must be 1'),
])
@pytest.mark.slow
def test_bad_requests_get_one_line_errors(client: openai.OpenAI, kwargs: dict, error: type,
                                          message: str) -> None:
    request = {"model": MODEL, "messages": [{"role": "user", "content": "Wer darf sich bewerben?"}]} | kwargs
    with pytest.raises(error) as info:
        client.chat.completions.create(**request)
    text = info.value.body["message"]
    assert message in text and "\n" not in text and "Traceback" not in text
    assert not re.search(r"/(tmp|work|root|home|usr)/", text)


def post_raw(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_body_size_and_json_are_checked(public_app: RunningApp) -> None:
    status, body = post_raw(public_app.url, b'{"model": "gocluster-faq", "x": "' + b"a" * MAX_BODY_BYTES + b'"}')
    assert status == 413 and "too large" in body["error"]["message"]
    assert post_raw(public_app.url, b"{not json")[0] == 400
    assert post_raw(public_app.url, b"[" * 100_000)[1]["error"]["message"] == "the request body is not valid JSON"
    status, body = post_raw(public_app.url, json.dumps({"model": MODEL, "stream": "yes", "messages": [
        {"role": "user", "content": "Wer?"}]}).encode())
    assert status == 400 and '"stream"' in body["error"]["message"]


@pytest.mark.slow
def test_concurrent_requests_are_all_answered(client: openai.OpenAI, public_app: RunningApp) -> None:
    n = 4 * public_app.settings.max_concurrency
    results: list[str] = [""] * n

    def one(i: int) -> None:
        try:
            results[i] = ask(client, "Wer darf sich bewerben?").choices[0].message.content
        except openai.OpenAIError as exc:  # shown by the assertion below
            results[i] = repr(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r and r == results[0] for r in results), results  # every request answered, all alike


@pytest.mark.slow
def test_same_answers_through_v1_and_ask_and_latency_figures(public_app: RunningApp) -> None:
    """Fifty dev questions through both APIs; the figures go to tests/artifacts/api_latency.json."""
    dev = Path(__file__).parents[2] / "evaluation" / "data" / "dev.jsonl"
    questions = [q.question for q in load_questions(dev)][:50]
    report = api_latency.compare(public_app.url, questions)
    for v1, ask_answer in report.pop("answers"):
        assert v1["choices"][0]["message"]["content"].startswith(ask_answer["text"])
        assert v1["abstained"] == ask_answer["abstained"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "api_latency.json").write_text(json.dumps(report, indent=2))
    print(report)
    assert report["questions"] == 50


# -- with a token, and the gate (fake bot: plumbing only) ----------------------------------------------
@pytest.fixture(scope="module")
def token_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with serve_app(FakeBot(), tmp_path_factory.mktemp("token") / "f.sqlite3", api_token="s3cret-token") as app:
        yield app


def test_a_configured_token_is_required(token_app: RunningApp) -> None:
    wrong = openai.OpenAI(base_url=f"{token_app.url}v1", api_key="guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        ask(wrong, "Wer kann sich bewerben?")
    assert "s3cret" not in str(info.value.body)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    right = openai.OpenAI(base_url=f"{token_app.url}v1", api_key="s3cret-token", max_retries=0)
    assert "[1]" in ask(right, "Wer kann sich bewerben?").choices[0].message.content
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"{token_app.url}metrics", timeout=30)
    assert denied.value.code == 401
    scrape = urllib.request.Request(f"{token_app.url}metrics", headers={"Authorization": "Bearer s3cret-token"})
    with urllib.request.urlopen(scrape, timeout=30) as resp:
        assert b"gocluster_answers_total" in resp.read()


def test_gate_refuses_beyond_its_queue() -> None:
    release = threading.Event()

    async def scenario() -> tuple[str, str]:
        gate = AnswerGate(running=1, waiting=1)
        first = asyncio.create_task(gate.run(release.wait, 30))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(gate.run(lambda: "second"))
        await asyncio.sleep(0.05)
        assert gate.waiting == 1
        try:
            await gate.run(lambda: "third")
        except ApiError as exc:
            refused = f"{exc.status} {exc}"
        release.set()
        await first
        return refused, await second

    refused, second = asyncio.run(scenario())
    assert refused.startswith("429 the assistant is busy") and second == "second"
