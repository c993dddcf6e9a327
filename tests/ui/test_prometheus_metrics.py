"""/metrics of the served app (fake bot): every metric moves when its surface is used, labels stay bounded."""

from __future__ import annotations

import urllib.request

import openai
import pytest
from conftest import GAP_WORD, FakeBot, RunningApp
from prometheus_client.parser import text_string_to_metric_families
from servers import serve_app

from evaluation.loadtest import call
from ui.metrics import Metrics, endpoint_label, outcome_label


def scrape(app: RunningApp) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"{app.url}metrics", timeout=30) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def app(tmp_path) -> RunningApp:
    with serve_app(FakeBot(), tmp_path / "f.sqlite3") as running:
        yield running


def test_each_surface_moves_its_metrics(app: RunningApp) -> None:
    before = scrape(app)
    assert value(before, "gocluster_index_info", version=app.bot.index_version) == 1.0
    assert value(before, "gocluster_queue_depth", queue="gradio") == 0.0
    assert value(before, "gocluster_queue_depth", queue="v1") == 0.0

    client = openai.OpenAI(base_url=f"{app.url}v1", api_key="x", max_retries=0)
    client.chat.completions.create(model="gocluster-faq", messages=[{"role": "user", "content": "Wer?"}])
    client.chat.completions.create(model="gocluster-faq", messages=[{"role": "user", "content": f"{GAP_WORD}?"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gocluster-faq", messages=[{"role": "user", "content": " "}])
    answer = call(app.url, "ask", ["Wer kann sich bewerben?"])
    call(app.url, "feedback", ["Wer kann sich bewerben?", answer, -1, "zu knapp"])
    call(app.url, "ask", [f"Wie wird das {GAP_WORD}?"])  # abstains: logged as a gap (rating 0)
    with pytest.raises(RuntimeError):
        # passes ui/api.py's shape check, refused by the store (a cited id is no passage id)
        call(app.url, "feedback", ["q", answer | {"citations": [{"chunk_id": "not-hex"}]}, 1, ""])

    after = scrape(app)
    assert value(after, "gocluster_answers_total", surface="v1", outcome="answered") == 1
    assert value(after, "gocluster_answers_total", surface="v1", outcome="abstained") == 1
    assert value(after, "gocluster_answers_total", surface="v1", outcome="refused") == 1
    assert value(after, "gocluster_answers_total", surface="gradio", outcome="answered") == 1
    assert value(after, "gocluster_answers_total", surface="gradio", outcome="abstained") == 1
    assert value(after, "gocluster_answer_seconds_count", surface="v1") == 2
    assert value(after, "gocluster_answer_seconds_count", surface="gradio") == 2
    assert value(after, "gocluster_abstention_ratio") == pytest.approx(0.5)
    assert value(after, "gocluster_feedback_total", rating="down", outcome="stored") == 1
    assert value(after, "gocluster_feedback_total", rating="gap", outcome="stored") == 1
    assert value(after, "gocluster_feedback_total", rating="up", outcome="rejected") == 1
    assert value(after, "gocluster_http_requests_total", endpoint="/v1/chat/completions", outcome="ok") == 2
    assert value(after, "gocluster_http_requests_total", endpoint="/v1/chat/completions",
                 outcome="bad_request") == 1
    assert value(after, "gocluster_http_requests_total", endpoint="/gradio_api/call/ask", outcome="ok") >= 2
    assert value(after, "gocluster_http_requests_total", endpoint="/metrics", outcome="ok") == 1
    assert app.store.count() == 2


def test_labels_are_bounded() -> None:
    assert endpoint_label("/gradio_api/call/ask/0f3e") == "/gradio_api/call/ask"
    assert endpoint_label("/gradio_api/call/ui_relabel") == "other"
    assert endpoint_label("/assets/index-1234.js") == "other"
    assert endpoint_label("/v1/chat/completions") == "/v1/chat/completions"
    assert [outcome_label(c) for c in (200, 304, 400, 401, 413, 429, 500)] == [
        "ok", "ok", "bad_request", "unauthorized", "too_large", "busy", "error"]


def test_each_app_has_its_own_registry() -> None:
    bot = FakeBot()
    first, second = Metrics(lambda: bot), Metrics(lambda: bot)  # a second app in one process must not clash
    first.observe_answer("v1", 0.1, "answered")
    assert b'gocluster_answers_total{outcome="answered",surface="v1"} 1.0' in first.exposition()
    assert b'surface="v1"' not in second.exposition()
