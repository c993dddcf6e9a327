"""A document uploaded in the staff app (real bot, real model, chromium) is answered in the public chat
without a restart, while a client loop keeps asking the public API: no request may fail.

The public and the staff app each hold their own LiveBot over the same index folder (as two processes
would); the staff app's background build writes the new version, the public app notices CURRENT.
The counted figures go to tests/artifacts/live_reload.json.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from servers import STAFF_PASSWORD, STAFF_USER, app_settings, serve_app, serve_staff_app
from test_browser import ARTIFACTS, CHROMIUM, browser, shot, watched_page  # noqa: F401 (fixture)

from bot.live import LiveBot
from bot.reindex import Reindexer
from evaluation.loadtest import call
from indexer.settings import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]

NEW_TITLE = "Zukunftsfonds Cluster-Wasserstoff (Merkblatt)"
NEW_TEXT = """Zukunftsfonds Cluster-Wasserstoff

Ab dem Jahr 2027 ergänzt der Zukunftsfonds Cluster-Wasserstoff das Programm go-cluster. Der Zukunftsfonds \
Cluster-Wasserstoff fördert Machbarkeitsstudien der Mitgliedscluster zu Wasserstoffprojekten.

Anträge auf Mittel aus dem Zukunftsfonds Cluster-Wasserstoff stellen Clustermanagements bei der \
Geschäftsstelle von go-cluster. Über die Anträge entscheidet ein Gutachtergremium zweimal im Jahr.
"""
QUESTION = "Was fördert der Zukunftsfonds Cluster-Wasserstoff?"
LOOP_QUESTIONS = [QUESTION, "Wer kann sich um die Aufnahme bewerben?", "Who pays for the silver label?",
                  "Welche Leistungen bietet go-cluster?"]
MAX_LOOP_REQUESTS = 2_000
MAX_LOOP_SECONDS = 600


class QuestionLoop:
    """Asks the public API one question after another until stopped; counts every outcome."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.requests = 0
        self.failures: list[str] = []
        self.versions: Counter[str] = Counter()
        self.new_document_answers = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_LOOP_SECONDS
        while not self.stop.is_set() and self.requests < MAX_LOOP_REQUESTS and time.monotonic() < deadline:
            question = LOOP_QUESTIONS[self.requests % len(LOOP_QUESTIONS)]
            self.requests += 1
            try:
                answer = call(self.url, "ask", [question], timeout=120)
            except Exception as exc:  # every failure counts; none may stop the loop
                self.failures.append(f"{exc.__class__.__name__}: {exc}"[:200])
                continue
            self.versions[answer["index_version"]] += 1
            self.new_document_answers += any(c["title"] == NEW_TITLE for c in answer["citations"])


def test_an_uploaded_document_is_answered_in_the_public_chat_without_a_restart(
        browser: Any, real_index: Path, embedder: Any, model_cache_dir: Path,  # noqa: F811
        tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "corpus", tmp_path / "corpus")
    shutil.copytree(real_index, tmp_path / "index")
    settings = app_settings(tmp_path, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                            cache_dir=model_cache_dir, reload_check_s=0.5)
    public_bot = LiveBot.from_settings(settings, embedder).start()
    staff_bot = LiveBot.from_settings(settings, embedder).start()
    old_version = public_bot.index_version
    assert all(c.title != NEW_TITLE for c in public_bot.answer(QUESTION).citations)
    upload = tmp_path / "uploads" / "Zukunftsfonds Wasserstoff 2027.txt"
    upload.parent.mkdir()
    upload.write_text(NEW_TEXT, encoding="utf-8")
    reindexer = Reindexer(settings, embedder, on_new_version=staff_bot.check)
    started = time.monotonic()
    with serve_app(public_bot, settings.feedback_db, settings) as public, \
            serve_staff_app(staff_bot, settings, reindexer) as staff_app:
        loop = QuestionLoop(public.url)
        loop.thread.start()
        with watched_page(browser, staff_app.url) as staff:
            staff.goto(f"{staff_app.url}login")
            staff.fill("#name", STAFF_USER)
            staff.fill("#password", STAFF_PASSWORD)
            staff.click("#login-submit")
            staff.get_by_role("tab", name="Dokumente").click()
            staff.set_input_files("#doc-file input[type=file]", str(upload))
            staff.wait_for_selector("#doc-file :text('Zukunftsfonds')", timeout=60_000)
            staff.fill("#doc-title textarea, #doc-title input", NEW_TITLE)
            staff.fill("#doc-date textarea, #doc-date input", "2026-11")
            staff.click("#doc-add")
            staff.wait_for_selector("#doc-status-line:has-text('gespeichert')", timeout=60_000)
            staff.wait_for_selector("#doc-done", timeout=600_000)  # the progress line says the build is done
            staff.wait_for_selector(f"#doc-table :text('{NEW_TITLE}')", timeout=60_000)
            shot(staff, "staff_documents.png")
        deadline = time.monotonic() + 120
        while public_bot.index_version == old_version and time.monotonic() < deadline:
            time.sleep(0.2)
        assert public_bot.index_version != old_version, "the public app did not take up the new index"
        with watched_page(browser, public.url) as page:
            page.goto(public.url)
            page.wait_for_selector("#faq-question textarea", timeout=60_000)
            page.fill("#faq-question textarea", QUESTION)
            page.keyboard.press("Enter")
            page.wait_for_selector("#faq-chatbot details.faq-sources", timeout=120_000)
            page.click("#faq-chatbot details.faq-sources summary")
            chat = page.inner_text("#faq-chatbot")
            assert "Machbarkeitsstudien" in chat and NEW_TITLE in chat
            assert NEW_TITLE in page.inner_text("#faq-footer")  # the document list follows the new index
            shot(page, "chat_new_document.png")
        while loop.new_document_answers == 0 and loop.thread.is_alive():
            time.sleep(0.2)  # the loop, too, has been answered from the new document
        loop.stop.set()
        loop.thread.join(180)
    figures = {"requests": loop.requests, "failed": len(loop.failures), "answers_by_index_version": dict(loop.versions),
               "answers_citing_the_new_document": loop.new_document_answers,
               "seconds": round(time.monotonic() - started, 1), "build": reindexer.status().message.splitlines()[0]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "live_reload.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print(figures)
    public_bot.stop()
    staff_bot.stop()
    assert loop.failures == [], loop.failures[:5]
    assert loop.requests > 10 and len(loop.versions) == 2 and loop.versions[old_version] > 0
    assert loop.new_document_answers > 0
