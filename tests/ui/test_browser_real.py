"""The page in headless chromium with the REAL bot (real model, real index): a German question gets a
cited answer, a thumbs-down lands in SQLite, the hotline tab finds a passage."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import RunningApp
from test_browser import CHROMIUM, DISLIKE, browser, page, rows, shot, wait_for  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]


@pytest.fixture(scope="module")
def app_bot(real_bot: Any) -> Any:
    return real_bot


def test_real_bot_german_question_sources_thumbs_down_and_hotline(page: Any, running_app: RunningApp) -> None:  # noqa: F811
    page.fill("#faq-question textarea", "Wer trägt die Kosten für das Benchmarking und die Zertifizierung?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#faq-chatbot details.faq-sources", timeout=120_000)
    page.click("#faq-chatbot details.faq-sources summary")
    text = page.inner_text("#faq-chatbot")
    assert "[1]" in text and "Bundesministerium" in text  # a cited answer (its facts: tests/bot/test_answers.py)
    before = len(rows(running_app.settings.feedback_db))
    page.locator(DISLIKE).last.click()
    new = wait_for(lambda: rows(running_app.settings.feedback_db)[before:])
    assert new and new[-1][0] == -1
    shot(page, "chat_real_bot.png")

    page.get_by_role("tab", name="Hotline-Recherche").click()
    page.fill("#hot-query textarea, #hot-query input", "Aufnahmekriterien zwei Drittel")
    page.click("#hot-search")
    page.wait_for_selector("#hot-hits table.faq-hits tbody tr", timeout=120_000)
    assert "zwei Dritteln" in page.inner_text("#hot-hits")
    shot(page, "hotline_real_bot.png")
