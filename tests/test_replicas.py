"""Two app processes (`gocluster-faq serve`) on one read-only index folder and one PostgreSQL database.

For 30 s, workers ask questions through both APIs of both replicas and rate each Gradio answer on the
*other* replica. Every acknowledged feedback row must be stored exactly once; the index folder must be
unchanged. The figures go to tests/artifacts/replicas.json (reported, not asserted as targets).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.feedback_schema import database_url
from evaluation.api_latency import chat_completion
from evaluation.loadtest import call

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[1]
QUESTIONS = ["Wer darf sich bewerben?", "Who may apply?", "Wie hoch ist der Mitgliedsbeitrag?",
             "Was passiert nach der Antragseinreichung?", "Who pays for the silver label?",
             "Wie wird das Wetter morgen?"]
LOAD_SECONDS, WORKERS, MAX_ROUNDS = 30, 6, 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(f"{path.relative_to(folder)}|{path.stat().st_mode}".encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def shared_index(real_index: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the real index with every write bit removed (as root only the digest check binds)."""
    folder = tmp_path / "shared-index"
    shutil.copytree(real_index, folder)
    paths = [folder, *folder.rglob("*")]
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    yield folder
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


def start_replica(port: int, index: Path, feedback_url: str, cache_dir: Path, workdir: Path) -> subprocess.Popen:
    script = Path(sys.executable).with_name("gocluster-faq")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOCLUSTER_")} | {
        "PYTHONPATH": str(PROJECT), "HF_HUB_OFFLINE": "1", "GOCLUSTER_INDEX_DIR": str(index),
        "GOCLUSTER_CACHE_DIR": str(cache_dir), "GOCLUSTER_FEEDBACK_URL": feedback_url,
        "GOCLUSTER_FEEDBACK_DB": str(workdir / "must-not-be-created.sqlite3")}
    log = (workdir / f"replica-{port}.log").open("w")
    return subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=workdir,
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"replica {url} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"{url}v1/models", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"replica {url} not ready within {seconds:.0f} s")


def run_load(urls: list[str]) -> dict:
    """WORKERS threads for LOAD_SECONDS (at most MAX_ROUNDS rounds each)."""
    lock = threading.Lock()
    counts = collections.Counter()
    acknowledged: dict[str, int] = {}
    errors: list[str] = []
    deadline = time.monotonic() + LOAD_SECONDS

    def worker(w: int) -> None:
        for k in range(MAX_ROUNDS):
            if time.monotonic() >= deadline:
                return
            here, there = urls[(w + k) % 2], urls[(w + k + 1) % 2]
            question = QUESTIONS[(w + k) % len(QUESTIONS)]
            comment = f"replica w{w} k{k}"
            try:
                chat_completion(there, question)
                answer = call(here, "ask", [question])
                row = call(there, "feedback", [question, answer, 1 if k % 2 else -1, comment])
                with lock:
                    counts.update(v1=1, ask=1, feedback=1)
                    acknowledged[comment] = row["id"]
            except Exception as exc:  # every failure is counted; none may stop the test
                with lock:
                    errors.append(f"{exc.__class__.__name__}: {exc}"[:200])

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LOAD_SECONDS + 120)
    return {"seconds": round(time.monotonic() - started, 1), "requests": dict(counts),
            "acknowledged": acknowledged, "errors": errors}


def test_two_replicas_share_feedback_and_a_read_only_index(shared_index: Path, postgres_url: str,
                                                           real_settings, tmp_path: Path) -> None:
    before = tree_digest(shared_index)
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}/" for p in ports]
    replicas = [start_replica(p, shared_index, postgres_url, real_settings.cache_dir, tmp_path) for p in ports]
    try:
        for url, process in zip(urls, replicas, strict=True):
            wait_ready(url, process)
        load = run_load(urls)
        scraped = [urllib.request.urlopen(f"{url}metrics", timeout=30).read().decode() for url in urls]
    finally:
        for process in replicas:
            process.terminate()
        for process in replicas:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
    engine = create_engine(database_url(postgres_url))
    with engine.connect() as con:
        rows = con.execute(text("SELECT id, comment FROM feedback WHERE comment LIKE 'replica %'")).fetchall()
    engine.dispose()
    stored = collections.Counter(comment for _, comment in rows)
    figures = {"replicas": 2, "seconds": load["seconds"], "requests": load["requests"],
               "errors": len(load["errors"]), "feedback_acknowledged": len(load["acknowledged"]),
               "feedback_stored": len(rows), "feedback_stored_twice": sum(n > 1 for n in stored.values())}
    (PROJECT / "tests" / "artifacts").mkdir(exist_ok=True)
    (PROJECT / "tests" / "artifacts" / "replicas.json").write_text(json.dumps(figures, indent=2))
    print(figures)
    logs = "".join(p.read_text() for p in tmp_path.glob("replica-*.log"))
    assert load["errors"] == [], load["errors"][:5]
    assert load["requests"].get("feedback", 0) >= 10
    assert {comment: row_id for row_id, comment in rows} == load["acknowledged"], "lost or duplicated feedback"
    assert all(n == 1 for n in stored.values())
    assert all("gocluster_answers_total" in s and 'surface="v1"' in s for s in scraped), "both replicas served"
    assert tree_digest(shared_index) == before, "a replica wrote into the shared index folder"
    assert not (tmp_path / "must-not-be-created.sqlite3").exists()
    assert "Traceback" not in logs, logs[-2000:]
