"""Whole-process figures for `gocluster-faq bench`: cold start to first answer, app ready, app memory.

- cold start: wall time of one fresh `ask` process (interpreter start to exit, index already built);
- app ready: from starting the server process to its first HTTP 200 on a free loopback port;
- app memory: the server's resident set (/proc/<pid>/status VmRSS) after `answers` /ask calls through
  its HTTP API (the same calls as the load test).
The plain LangChain recipe gets the same treatment: `python -m evaluation.startup ask|serve DIR ...`
loads its FAISS index and documents (saved by `save_recipe` as plain data: faiss + JSON, no pickle) with
sentence-transformers embeddings and answers with its top passage, on the command line or in a minimal
gr.Interface app.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from evaluation.loadtest import call
from indexer.settings import PROJECT_ROOT

READY_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median wall time of `runs` fresh processes (the first one also fills the caches)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
                              check=False)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:4])} failed: {proc.stderr.strip()[-500:]}")
    return {"cold_start_s": statistics.median(times), "cold_start_runs_s": [round(t, 2) for t in times]}


def app_ready(cmd: list[str], env: dict[str, str], port: int, questions: list[str], answers: int,
              log: Path) -> dict[str, Any]:
    """Start the server, time it to the first HTTP 200, send `answers` questions, read its RSS, stop it."""
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            ready = _wait_ready(url, proc, started) - started
            for i in range(answers):
                call(url, "ask", [questions[i % len(questions)]])
            return {"app_ready_s": ready, "app_rss_mb": rss_mb(proc.pid), "app_answers": answers}
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(20)


def _wait_ready(url: str, proc: subprocess.Popen, started: float) -> float:
    while time.perf_counter() - started < READY_TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as resp:  # noqa: S310 (loopback URL)
                if resp.status == 200:
                    return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server was not ready within {READY_TIMEOUT_S:.0f} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the plain recipe as its own process ------------------------------------------------------------------
def save_recipe(recipe: Any, folder: Path) -> None:
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    store = recipe.store
    docs = [store.docstore.search(store.index_to_docstore_id[i]) for i in range(store.index.ntotal)]
    faiss.write_index(store.index, str(folder / "index.faiss"))
    rows = [{"page_content": d.page_content, "metadata": d.metadata} for d in docs]
    (folder / "docs.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def load_recipe(folder: Path) -> Any:
    import faiss
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    from bot.factory import build_embedder
    from indexer.settings import Settings

    embeddings = build_embedder(Settings.from_env().with_overrides(embedding_backend="sentence-transformers"))
    embeddings.embed_query("warm up")  # loaded before serving, as HuggingFaceEmbeddings does on construction
    rows = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
    docs = {str(i): Document(**row) for i, row in enumerate(rows)}
    return FAISS(embeddings, faiss.read_index(str(folder / "index.faiss")), InMemoryDocstore(docs),
                 {i: str(i) for i in range(len(rows))})


def recipe_ask(folder: Path, question: str) -> None:
    print(load_recipe(folder).similarity_search(question, k=10)[0].page_content)


def recipe_serve(folder: Path, port: int) -> None:
    import gradio as gr  # only in this child process: the recipe's app, never part of the product

    store = load_recipe(folder)
    demo = gr.Interface(lambda q: store.similarity_search(q, k=10)[0].page_content, "text", "text",
                        api_name="ask")
    demo.queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=port, share=False)


if __name__ == "__main__":
    if sys.argv[1] == "ask":
        recipe_ask(Path(sys.argv[2]), sys.argv[3])
    else:
        recipe_serve(Path(sys.argv[2]), int(sys.argv[3]))
