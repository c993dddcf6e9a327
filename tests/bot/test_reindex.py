"""Background index builds for the staff app (real model, tiny corpus): progress, only the new document
embedded, the other documents keep their "last indexed" time, the live bot swaps, a failure is one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.live import LiveBot
from bot.reindex import Reindexer
from indexer.catalog_edit import CorpusEditor
from indexer.settings import Settings
from indexer.store import read_manifest

pytestmark = pytest.mark.slow

FIRST = "Jedes Innovationscluster aus Deutschland kann sich um die Aufnahme in das Programm bewerben.\n"
SECOND = "Der Zukunftsfonds Cluster-Wasserstoff fördert Machbarkeitsstudien der Mitgliedscluster.\n"


def test_a_build_runs_in_the_background_and_the_live_bot_takes_it_up(tmp_path: Path, embedder, model_cache_dir):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "aufnahme-de.txt").write_text(FIRST, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=model_cache_dir,
                        feedback_db=tmp_path / "f.sqlite3")
    jobs = Reindexer(settings, embedder)
    jobs.request()
    assert jobs.wait(300).state == "done"
    first = read_manifest(settings.index_dir)
    live = LiveBot.from_settings(settings, embedder)
    jobs.on_new_version = live.check
    upload = tmp_path / "fonds.txt"
    upload.write_text(SECOND, encoding="utf-8")
    time.sleep(1.1)  # a new second, so a new "indexed at" time differs from the first build's
    CorpusEditor(corpus, settings.max_file_bytes).add(upload, upload.name, "Zukunftsfonds", "de", "2026-11")
    seen = set()
    jobs.request()
    jobs.request()  # a second request during the build runs once more afterwards, nothing is lost
    while jobs.running():
        status = jobs.status()
        seen.add(status.stage)
        assert 0.0 <= status.fraction <= 1.0
        time.sleep(0.01)
    status = jobs.status()
    assert status.state == "done" and status.fraction == 1.0
    assert "files" in seen
    files = read_manifest(settings.index_dir)["files"]
    assert files["aufnahme-de.txt"]["indexed_at"] == first["files"]["aufnahme-de.txt"]["indexed_at"]
    assert files["fonds.txt"]["indexed_at"] > files["aufnahme-de.txt"]["indexed_at"]
    assert live.reloads == 1 and any(d["file"] == "fonds.txt" for d in live.documents())
    # the new document is searched (whether its sentence clears the threshold is the selector's business)
    assert live.answer("Was fördert der Zukunftsfonds Cluster-Wasserstoff?").retrieved[0]["source"] == "fonds.txt"


def test_a_failed_build_reports_one_line(tmp_path: Path, embedder, model_cache_dir) -> None:
    settings = Settings(corpus_dir=tmp_path / "missing", index_dir=tmp_path / "index", cache_dir=model_cache_dir)
    jobs = Reindexer(settings, embedder)
    jobs.request()
    status = jobs.wait(60)
    assert status.state == "failed" and "\n" not in status.message and "does not exist" in status.message
