"""A bounded load test through the app's real HTTP API (Gradio's /gradio_api/call/<name> endpoints).

`users` simulated visitors on loopback each ask a question, read the answer and send feedback on every
`feedback_every`-th answer, for `seconds` seconds. Returns throughput, latency percentiles, errors and
how many feedback rows were sent, so the caller can check that none was lost.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from evaluation.metrics import percentile


@dataclass
class LoadResult:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    feedback_sent: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms or [0.0]
        return {"requests": self.requests, "errors": len(self.errors), "feedback_sent": self.feedback_sent,
                "seconds": round(self.seconds, 1), "throughput_rps": round(self.requests / self.seconds, 2),
                "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1)}


def call(base_url: str, api_name: str, data: list[Any], timeout: float = 120.0) -> Any:
    """One call of a named endpoint: POST starts it, the event stream returns its result."""
    base = base_url.rstrip("/")
    body = json.dumps({"data": data}).encode()
    request = urllib.request.Request(f"{base}/gradio_api/call/{api_name}", data=body,  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (loopback URL)
        event_id = json.loads(resp.read())["event_id"]
    with urllib.request.urlopen(f"{base}/gradio_api/call/{api_name}/{event_id}",  # noqa: S310
                                timeout=timeout) as resp:
        event = ""
        for raw in resp:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line.split(":", 1)[1])
                if event == "error":
                    raise RuntimeError(f"{api_name} failed: {payload}")
                return payload[0]
    raise RuntimeError(f"{api_name}: stream ended without a result")


def run_load(base_url: str, questions: list[str], users: int = 50, seconds: float = 60.0,
             feedback_every: int = 3) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def visitor(n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            question = questions[i % len(questions)]
            started = time.perf_counter()
            try:
                answer = call(base_url, "ask", [question])
                elapsed = (time.perf_counter() - started) * 1000
                sent = 0
                if i % feedback_every == 0:
                    call(base_url, "feedback", [question, answer, -1 if i % 2 else 1, f"load {n}/{i}"])
                    sent = 1
                with lock:
                    result.requests += 1
                    result.latencies_ms.append(elapsed)
                    result.feedback_sent += sent
            except Exception as exc:  # every failure is counted, none may stop the test
                with lock:
                    result.errors.append(f"{exc.__class__.__name__}: {exc}"[:200])
            i += users

    started = time.monotonic()
    threads = [threading.Thread(target=visitor, args=(n,), daemon=True) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 180)
    result.seconds = time.monotonic() - started
    return result
