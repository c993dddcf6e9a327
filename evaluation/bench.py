"""`gocluster-faq bench`: speed and memory of the pipeline next to the plain LangChain recipe.

Each system runs in its own child process (so peak memory is its own) on the same questions:
index build from scratch (time, chunks/s), model load, retrieval latency, full answer latency
(median and p95 over >= 200 questions), peak RSS and index size on disk. Writes bench.json and
bench.md; the README shows the latest table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evaluation.metrics import percentile
from evaluation.questions import load_questions
from evaluation.run import default_files
from indexer.settings import Settings

ROWS = [("index_build_s", "index build (s)", "lower"), ("chunks_per_s", "chunks/s", "higher"),
        ("chunks", "chunks", ""), ("model_load_s", "model load (s)", "lower"),
        ("retrieval_p50_ms", "retrieval p50 (ms)", "lower"), ("retrieval_p95_ms", "retrieval p95 (ms)", "lower"),
        ("answer_p50_ms", "full answer p50 (ms)", "lower"), ("answer_p95_ms", "full answer p95 (ms)", "lower"),
        ("peak_rss_mb", "peak memory (MB)", "lower"), ("index_mb", "index on disk (MB)", "lower")]


def questions(n: int) -> list[str]:
    texts = [q.question for f in default_files("all") for q in load_questions(f)]
    return [texts[i % len(texts)] for i in range(max(n, len(texts)))]


def _latencies(fn: Any, items: list[str]) -> tuple[float, float]:
    times = []
    for text in items:
        started = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95)


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _loaded_embedder(settings: Settings, out: dict[str, Any]) -> Any:
    """The embedder, its load time (first encode loads the model) recorded in `out`."""
    from bot.factory import build_embedder

    embedder = build_embedder(settings)
    started = time.perf_counter()
    embedder.encode_queries(["warm up"])
    out["model_load_s"] = time.perf_counter() - started
    return embedder


def measure_pipeline(settings: Settings, items: list[str]) -> dict[str, Any]:
    from bot.factory import build_bot, build_index
    from bot.question import detect_language

    out: dict[str, Any] = {}
    embedder = _loaded_embedder(settings, out)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = settings.with_overrides(index_dir=Path(tmp) / "index")
        started = time.perf_counter()
        report = build_index(fresh, embedder, show_progress=False).build(fresh.corpus_dir, fresh.index_dir)
        out["index_build_s"] = time.perf_counter() - started
        out["chunks"] = report.chunks
        out["index_mb"] = _dir_mb(fresh.index_dir)
        bot = build_bot(fresh, embedder=embedder, build_missing=False)
        out["retrieval_p50_ms"], out["retrieval_p95_ms"] = _latencies(
            lambda q: bot.retriever.search(q, detect_language(q)[0], k=bot.k), items)
        out["answer_p50_ms"], out["answer_p95_ms"] = _latencies(bot.answer, items)
    return out


def measure_recipe(settings: Settings, items: list[str]) -> dict[str, Any]:
    from evaluation.systems import LangChainRecipe

    out: dict[str, Any] = {}
    embedder = _loaded_embedder(settings, out)
    started = time.perf_counter()
    recipe = LangChainRecipe(settings.corpus_dir, embedder)
    out["index_build_s"] = time.perf_counter() - started
    out["chunks"] = len(recipe.splits)
    with tempfile.TemporaryDirectory() as tmp:
        recipe.store.save_local(tmp)  # written only to measure its size; never loaded (it pickles)
        out["index_mb"] = _dir_mb(Path(tmp))
    out["retrieval_p50_ms"], out["retrieval_p95_ms"] = _latencies(
        lambda q: recipe.store.similarity_search(q, k=recipe.k), items)
    out["answer_p50_ms"], out["answer_p95_ms"] = _latencies(
        lambda q: recipe.store.similarity_search(q, k=recipe.k)[0].page_content, items)
    return out


def child(system: str, n: int) -> None:
    settings = Settings.from_env()
    items = questions(n)
    result = (measure_pipeline if system == "pipeline" else measure_recipe)(settings, items)
    result["chunks_per_s"] = result["chunks"] / result["index_build_s"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["questions"] = len(items)
    print(json.dumps(result))


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    results = {}
    for system in ("pipeline", "langchain"):
        print(f"benchmarking {system} ...", file=sys.stderr)
        proc = subprocess.run([sys.executable, "-m", "evaluation.bench", system, str(args.questions)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        results[system] = json.loads(proc.stdout.strip().splitlines()[-1])
    table = render(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / "bench.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


def render(results: dict[str, dict[str, Any]]) -> str:
    p, r = results["pipeline"], results["langchain"]
    lines = [f"Questions timed: {p['questions']} (one process per system, same machine, same embedder).", "",
             "| figure | pipeline | plain LangChain recipe | ratio pipeline/recipe |", "|---|---|---|---|"]
    for key, label, _ in ROWS:
        ratio = p[key] / r[key] if r.get(key) else float("nan")
        lines.append(f"| {label} | {p[key]:.2f} | {r[key]:.2f} | {ratio:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
