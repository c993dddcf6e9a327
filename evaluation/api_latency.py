"""Answer latency of one served app through its two HTTP APIs: POST /v1/chat/completions (one request)
and the Gradio API's /ask (POST /gradio_api/call/ask, then its event stream: two requests, the queue).

The same questions go one after the other to both, in alternating order, from one client on the same
machine; the figures are reported, not asserted. Used by tests/ui/test_openai_api.py.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from evaluation.loadtest import call
from evaluation.metrics import percentile

MODEL_ID = "gocluster-faq"


def chat_completion(base_url: str, question: str, history: list[dict] | None = None,
                    timeout: float = 120.0) -> dict[str, Any]:
    """One non-streaming chat completion over plain HTTP."""
    body = json.dumps({"model": MODEL_ID, "messages": [*(history or []), {"role": "user", "content": question}]})
    request = urllib.request.Request(f"{base_url.rstrip('/')}/v1/chat/completions", data=body.encode(),  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (loopback URL)
        return json.loads(resp.read())


def compare(base_url: str, questions: list[str]) -> dict[str, Any]:
    """p50/p95 in ms per API, and the answers of both (for the caller to compare)."""
    timings: dict[str, list[float]] = {"v1_chat_completions": [], "gradio_ask": []}
    answers: list[tuple[dict, dict]] = []
    for i, question in enumerate(questions):
        order = ("v1_chat_completions", "gradio_ask") if i % 2 == 0 else ("gradio_ask", "v1_chat_completions")
        got: dict[str, Any] = {}
        for api in order:
            started = time.perf_counter()
            got[api] = chat_completion(base_url, question) if api == "v1_chat_completions" else call(
                base_url, "ask", [question])
            timings[api].append((time.perf_counter() - started) * 1000)
        answers.append((got["v1_chat_completions"], got["gradio_ask"]))
    summary = {api: {"p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1)}
               for api, ms in timings.items()}
    return {"questions": len(questions), **summary, "answers": answers}
