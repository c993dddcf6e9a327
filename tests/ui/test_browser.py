"""The page in headless Debian chromium: ask, see sources, thumb down, search the hotline.

Serves the app with the bot of the `app_bot` fixture (the fake by default; see conftest.py).
Screenshots go to tests/artifacts/ (not versioned).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningApp

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Gradio translates its own button labels by the browser's locale.
DISLIKE = '#faq-chatbot button[aria-label="Gefällt mir nicht"], #faq-chatbot button[aria-label="Dislike"]'
QUESTION = "Wer kann sich um die Aufnahme in das Programm bewerben? <script>alert(1)</script>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
                                                     " (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, running_app: RunningApp) -> Iterator[Any]:
    """A fresh tab on the app; afterwards, no request may have left the machine and no dialog opened
    (an `alert` from injected markup would)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="de-DE")
    outside: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((running_app.url, "data:", "blob:"))
            else outside.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(running_app.url)
    page.wait_for_selector("#faq-question textarea", timeout=60_000)
    yield page
    page.close()
    assert outside == [], f"requests left the machine: {outside}"
    assert dialogs == [], f"a dialog opened: {dialogs}"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT rating, question, cited_chunk_ids, index_version FROM feedback").fetchall()


def wait_for(condition: Any, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    return condition()


def test_chat_answer_with_sources_and_thumbs_down(page: Any, running_app: RunningApp) -> None:
    before = len(rows(running_app.settings.feedback_db))
    page.fill("#faq-question textarea", QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector("#faq-chatbot details.faq-sources", timeout=120_000)
    page.click("#faq-chatbot details.faq-sources summary")
    chat_text = page.inner_text("#faq-chatbot")
    assert "<script>alert(1)</script>" in chat_text  # the user's markup is shown as text, not run
    assert page.locator("#faq-chatbot script").count() == 0
    sources = page.locator("#faq-chatbot details.faq-sources li")
    assert sources.count() >= 1 and "[1]" in sources.first.inner_text()

    page.locator(DISLIKE).last.click()
    new = wait_for(lambda: rows(running_app.settings.feedback_db)[before:])
    assert new, "no feedback row was written"
    rating, question, cited, index_version = new[-1]
    assert (rating, question) == (-1, QUESTION)
    assert cited != "[]" and index_version == running_app.bot.index_version
    page.fill("#faq-comment textarea, #faq-comment input", "Die Frist fehlt.")
    page.click("#faq-send-feedback")
    page.wait_for_selector("#faq-feedback-status:has-text('Kommentar wurde gespeichert')", timeout=15_000)
    shot(page, "chat.png")


def test_language_switch_hotline_search_and_staff_view(page: Any) -> None:
    page.click("#faq-language label:has-text('English')")
    page.get_by_role("tab", name="Hotline search").click()
    page.fill("#hot-query textarea, #hot-query input", "Aufnahme Programm")
    page.click("#hot-search")
    page.wait_for_selector("#hot-hits table.faq-hits tbody tr", timeout=120_000)
    table = page.inner_text("#hot-hits")
    assert "results for" in table
    assert page.locator("#hot-hits mark").count() >= 1
    draft = page.input_value("#hot-draft textarea")
    assert "[1]" in draft and "Sources:" in draft
    shot(page, "hotline.png")

    page.get_by_role("tab", name="Review (internal)").click()
    page.wait_for_selector("#staff-negative table", timeout=30_000)
    page.wait_for_selector("text=Stored feedback rows", timeout=30_000)
    page.get_by_role("button", name="CSV: negative ratings").click()
    page.wait_for_selector("text=/feedback-negative-.*\\.csv/", timeout=30_000)
    shot(page, "staff.png")
