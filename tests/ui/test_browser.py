"""The pages in headless Debian chromium: ask, see sources, thumb down, search the hotline, the phone
layout (390x844), and the staff app's login.

Serves the apps with the bot of the `app_bot` fixture (the fake by default; see conftest.py).
Screenshots go to tests/artifacts/ (not versioned).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF_PASSWORD, STAFF_USER, RunningApp

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


@contextlib.contextmanager
def watched_page(browser: Any, base_url: str, **options: Any) -> Iterator[Any]:
    """A fresh tab; afterwards no request may have left the machine, none may have been refused (the
    page needs nothing the apps block) and no dialog opened (an `alert` from injected markup would)."""
    page = browser.new_page(**({"viewport": {"width": 1280, "height": 1000}, "locale": "de-DE"} | options))
    outside: list[str] = []
    refused: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((base_url, "data:", "blob:")) else outside.append(r.url))
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield page
    page.close()
    assert outside == [], f"requests left the machine: {outside}"
    assert [r for r in refused if "/login" not in r] == [], f"requests refused: {refused}"
    assert dialogs == [], f"a dialog opened: {dialogs}"


@pytest.fixture
def page(browser: Any, running_app: RunningApp) -> Iterator[Any]:
    """A fresh tab on the public app (desktop size)."""
    with watched_page(browser, running_app.url) as page:
        page.goto(running_app.url)
        page.wait_for_selector("#faq-question textarea", timeout=60_000)
        yield page


def shot(page: Any, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


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


def test_language_switch_sets_html_lang_and_the_hotline_shows_answer_sentences(page: Any) -> None:
    assert page.evaluate("document.documentElement.lang") == "de"
    page.click("#faq-language label:has-text('English')")
    page.wait_for_function("document.documentElement.lang === 'en'", timeout=15_000)
    assert page.get_by_role("tab", name="Review (internal)").count() == 0  # no staff tab in the public app
    page.get_by_role("tab", name="Hotline search").click()
    page.fill("#hot-query textarea, #hot-query input", "Aufnahme Programm bewerben")
    page.click("#hot-search")
    page.wait_for_selector("#hot-hits table.faq-sentences tbody tr", timeout=120_000)
    sentences = page.locator("#hot-hits table.faq-sentences")
    assert sentences.locator("th").all_inner_texts() == ["#", "Answer sentence", "Relevance", "Source"]
    first = sentences.locator("tbody tr").first
    assert first.locator("mark").count() >= 1 and first.locator("meter").count() == 1
    first.locator("details summary").click()
    assert "Innovationscluster" in first.locator("details").inner_text()
    passages = page.locator("#hot-hits table.faq-hits:not(.faq-sentences)")
    assert "Score" not in passages.locator("thead").inner_text()
    assert passages.locator("strong.faq-best").count() >= 1
    draft = page.input_value("#hot-draft textarea")
    assert "[1]" in draft and "Sources:" in draft
    page.click("#hot-language label:has-text('English')")  # the draft follows the language filter
    page.click("#hot-search")
    page.wait_for_function("!document.querySelector('#hot-draft textarea').value.includes('Programm go-cluster')",
                           timeout=60_000)
    assert "Excellent networking" in page.input_value("#hot-draft textarea")
    shot(page, "hotline.png")


def box(page: Any, selector: str) -> dict[str, float]:
    return page.evaluate(f"(() => {{ const b = document.querySelector({selector!r}).getBoundingClientRect();"
                         " return {top: b.top, bottom: b.bottom, left: b.left, right: b.right, width: b.width,"
                         " height: b.height}; })()")


def test_phone_layout_390x844(browser: Any, running_app: RunningApp) -> None:
    with watched_page(browser, running_app.url, viewport={"width": 390, "height": 844}, is_mobile=True,
                      has_touch=True) as phone:
        phone.goto(running_app.url)
        phone.wait_for_selector("#faq-question textarea", timeout=60_000)
        phone.wait_for_selector("#faq-chatbot button:has-text('Wer kann sich')", timeout=30_000)  # examples drawn
        shot(phone, "phone.png", full_page=False)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
        assert phone.evaluate("window.scrollY") == 0  # opens at the top
        title, language, question = box(phone, "#faq-title"), box(phone, "#faq-language"), \
            box(phone, "#faq-question textarea")
        assert title["width"] >= 300 and title["height"] < 200  # readable: the title has the full width
        assert language["height"] < 120 and language["width"] >= 300
        assert question["top"] >= 0 and question["bottom"] <= 844  # the question box is in view
        font = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('#faq-title h1')).fontSize)")
        assert font >= 20
        phone.fill("#faq-question textarea", "Wer kann sich um die Aufnahme bewerben?")
        phone.keyboard.press("Enter")
        phone.wait_for_selector("#faq-chatbot details.faq-sources", timeout=60_000)
        phone.click("#faq-chatbot details.faq-sources summary")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        question = box(phone, "#faq-question textarea")
        assert question["top"] >= 0 and question["bottom"] <= 844
        shot(phone, "phone_answer.png", full_page=False)


def test_staff_app_needs_a_login_and_then_works(browser: Any, staff_app: RunningApp) -> None:
    with watched_page(browser, staff_app.url, accept_downloads=True) as staff:
        staff.goto(staff_app.url)
        staff.wait_for_url("**/login", timeout=30_000)  # sent to the login, nothing of the app shown
        assert staff.locator("#faq-title").count() == 0
        staff.fill("#name", STAFF_USER)
        staff.fill("#password", "not the password")
        staff.click("#login-submit")
        staff.wait_for_selector("p.error:has-text('Wrong name or password')", timeout=15_000)
        staff.fill("#name", STAFF_USER)
        staff.fill("#password", STAFF_PASSWORD)
        staff.click("#login-submit")
        staff.wait_for_selector("#staff-negative table", timeout=60_000)
        staff.wait_for_selector("text=Gespeicherte Rückmeldungen", timeout=30_000)
        headers = staff.locator("#staff-negative thead th").all_inner_texts()
        assert "Frage" in " ".join(headers) and "created_at" not in " ".join(headers)
        with staff.expect_download(timeout=30_000) as download:
            staff.click("#export-negative")
        assert download.value.suggested_filename.startswith("feedback-negative-")
        staff.get_by_role("tab", name="Dokumente").click()
        staff.wait_for_selector("#doc-table table", timeout=30_000)
        assert "Zuletzt indiziert (UTC)" in staff.locator("#doc-table thead").inner_text()
        shot(staff, "staff.png")
        latest = staff_app.settings.eval_dir
        latest.mkdir(parents=True, exist_ok=True)
        (latest / "compare.md").write_text("# Comparison\n\ntest split: 3 fixed, 1 broken\n", encoding="utf-8")
        staff.get_by_role("tab", name="Auswertung").click()  # read when the tab opens: no restart needed
        staff.wait_for_selector("#staff-eval:has-text('3 fixed, 1 broken')", timeout=30_000)
        staff.click("#staff-logout")
        staff.wait_for_url("**/login", timeout=15_000)
        staff.goto(staff_app.url)
        staff.wait_for_url("**/login", timeout=15_000)  # the session is gone
