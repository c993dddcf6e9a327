"""The UI callbacks as plain functions, with the fake bot and a real feedback file (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from conftest import CHUNKS, GAP_WORD, FakeBot

from bot.feedback import FeedbackStore, FeedbackUnavailable
from indexer.settings import Settings
from ui import render
from ui.api import Api, BadRequest, answer_from_dict
from ui.chat import ChatHandlers, plain_history, show_user_html_as_text
from ui.hotline import ALL, HotlineHandlers, document_choices
from ui.public import create_public_blocks
from ui.staff import FeedbackHandlers

SCRIPT = "<script>alert(1)</script>"


class BrokenStore(FeedbackStore):
    """A store whose database is locked for good."""

    def _write(self, action):  # type: ignore[no-untyped-def]
        raise FeedbackUnavailable("feedback database is locked")


def chat(bot: FakeBot, store: FeedbackStore) -> ChatHandlers:
    return ChatHandlers(bot, store, stream_delay_s=0)


def run_chat(handlers: ChatHandlers, question: str, history: list[dict] | None = None,
             lang: str = "de") -> tuple[list[str], dict, list[dict]]:
    """Run one turn; return (streamed messages, remembered answers, history as the page would send it)."""
    steps = list(handlers.respond(question, history or [], lang, {}))
    messages = [m for m, _ in steps]
    history = [*(history or []),
               {"role": "user", "content": [{"type": "text", "text": render.esc(question)}]},
               {"role": "assistant", "content": [{"type": "text", "text": messages[-1]}]}]
    return messages, steps[-1][1], history


# -- chat ----------------------------------------------------------------------------------------------
def test_answer_streams_and_ends_with_escaped_text_and_sources(fake_bot: FakeBot,
                                                               store: FeedbackStore) -> None:
    messages, answers, _ = run_chat(chat(fake_bot, store), f"Wer kann sich bewerben {SCRIPT}?")
    assert len(messages) > 2
    assert all(render.SOURCES_MARK not in m for m in messages[:-1])
    final = messages[-1]
    assert "<script>" not in final and "&lt;script&gt;alert(1)&lt;/script&gt;" in final
    assert "<summary>Quellen (2)</summary>" in final
    assert CHUNKS[0].title in final
    assert list(answers) == [render.message_key(final)]


def test_history_reaches_the_bot_as_plain_strings(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, _, history = run_chat(handlers, "Wer kann sich bewerben <b>?")
    run_chat(handlers, "Und wie?", history)
    _, sent = fake_bot.answer_calls[-1]
    assert [m["role"] for m in sent] == ["user", "assistant"]
    assert sent[0]["content"] == "Wer kann sich bewerben <b>?"
    assert sent[1]["content"].startswith("Zu „Wer kann sich bewerben <b>?“")
    assert "Quellen" not in sent[1]["content"]
    assert plain_history([{"role": "system", "content": "x"}]) == []
    assert "citations" not in sent[1]  # run_chat remembers no answer across turns


def test_history_carries_the_citations_of_remembered_answers(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, answers, history = run_chat(handlers, "Wer kann sich bewerben?")
    list(handlers.respond("Und was kostet das?", history, "de", answers))  # as the page sends its state
    _, sent = fake_bot.answer_calls[-1]
    remembered = answers[render.message_key(history[1]["content"][0]["text"])]
    assert [c["chunk_id"] for c in sent[1]["citations"]] == [c["chunk_id"] for c in remembered["citations"]]
    assert sent[1]["citations"] and all(c["chunk_id"] for c in sent[1]["citations"])
    assert "citations" not in sent[0]
    forgotten = [{"role": "assistant", "content": "⚠️ Fehler"}]  # not remembered: text only
    assert plain_history(forgotten, answers) == [{"role": "assistant", "content": "⚠️ Fehler"}]


@pytest.mark.parametrize("question", ["", "   ", "x" * 2_001])
def test_question_error_is_shown_as_a_message(fake_bot: FakeBot, store: FeedbackStore, question: str) -> None:
    messages, answers, _ = run_chat(chat(fake_bot, store), question)
    assert len(messages) == 1 and messages[0].startswith("⚠️ ")
    assert "Frage" in messages[0] and "Traceback" not in messages[0]
    assert answers == {}


def test_unexpected_error_is_a_friendly_line(fake_bot: FakeBot, store: FeedbackStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_bot, "answer", lambda *a, **k: 1 / 0)
    messages, _, _ = run_chat(chat(fake_bot, store), "Wer?", lang="en")
    assert messages == ["⚠️ Something went wrong. Please try again or contact the hotline."]


def test_abstained_answer_is_logged_as_content_gap(fake_bot: FakeBot, store: FeedbackStore) -> None:
    messages, _, _ = run_chat(chat(fake_bot, store), f"Wie wird das {GAP_WORD}?")
    assert "keine Angaben" in messages[-1]
    [gap] = store.content_gaps()
    assert gap["question"] == f"Wie wird das {GAP_WORD}?" and gap["times"] == 1
    assert store.recent_negative() == []


def test_abstained_answer_still_shown_when_feedback_is_down(fake_bot: FakeBot, tmp_path: Path) -> None:
    messages, _, _ = run_chat(chat(fake_bot, BrokenStore(tmp_path / "f.sqlite3")), f"{GAP_WORD}?")
    assert "keine Angaben" in messages[-1]


def test_thumbs_down_writes_question_answer_citations_and_index_version(fake_bot: FakeBot,
                                                                       store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, answers, history = run_chat(handlers, f"Wer kann sich bewerben {SCRIPT}?")
    evt = gr.LikeData(None, {"index": 1, "value": None, "liked": False})
    status, row_id, rated = handlers.on_like(history, answers, {}, "de", evt)
    assert row_id is not None and status.startswith("Danke")
    [row] = store.recent_negative()
    assert row["question"] == f"Wer kann sich bewerben {SCRIPT}?"
    assert row["answer"].startswith("Zu „Wer kann sich bewerben <script>")
    assert json.loads(row["cited_chunk_ids"]) == [CHUNKS[0].id, CHUNKS[1].id]
    assert row["index_version"] == fake_bot.index_version and row["rating"] == -1
    assert list(rated.values()) == [row_id]


def test_changing_and_withdrawing_a_thumb_keeps_one_row(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, answers, history = run_chat(handlers, "Wer kann sich bewerben?")
    _, first, rated = handlers.rate(history, 1, False, answers, {}, "de")
    _, second, rated = handlers.rate(history, 1, True, answers, rated, "de")  # changed mind
    assert first == second and store.count() == 1 and store.recent_negative() == []
    status, row_id, rated = handlers.rate(history, 1, "", answers, rated, "de")  # clicked again: withdrawn
    assert (status, row_id, rated, store.count()) == ("Bewertung zurückgenommen.", None, {}, 0)
    _, third, _ = handlers.rate(history, 1, False, answers, rated, "de")
    assert third is not None and store.count() == 1 and store.recent_negative()[0]["rating"] == -1


def test_comment_is_attached_to_the_last_thumb(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, answers, history = run_chat(handlers, "Wer kann sich bewerben?")
    _, row_id, _ = handlers.rate(history, 1, True, answers, {}, "en")
    status, box = handlers.send_comment(f"{SCRIPT}\x07 hilfreich", row_id, "en")
    assert (status, box) == ("Thank you, your comment was saved.", "")
    [row] = store.rows()
    assert (row["rating"], row["comment"]) == (1, f"{SCRIPT} hilfreich")


def test_a_rated_follow_up_keeps_the_question_it_follows(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, _, history = run_chat(handlers, "Wer kann sich <b>bewerben</b>?")
    _, answers, history = run_chat(handlers, "Und was kostet das?", history)
    handlers.rate(history, 1, True, answers, {}, "de")  # the first answer: no follow-up
    handlers.rate(history, 3, False, answers, {}, "de")
    assert [(r["question"], r["follows"]) for r in store.rows()] == [
        ("Wer kann sich <b>bewerben</b>?", None), ("Und was kostet das?", "Wer kann sich <b>bewerben</b>?")]


def test_comment_without_thumb_asks_for_one(fake_bot: FakeBot, store: FeedbackStore) -> None:
    assert chat(fake_bot, store).send_comment("gut", None, "de") == (
        "Bitte bewerten Sie zuerst eine Antwort mit Daumen hoch oder runter.", "gut")
    assert store.count() == 0


def test_thumb_on_an_unknown_message_keeps_what_the_page_shows(fake_bot: FakeBot,
                                                               store: FeedbackStore) -> None:
    history = [{"role": "user", "content": "Frage &lt;b&gt;"}, {"role": "assistant", "content": "⚠️ Fehler"}]
    _, row_id, _ = chat(fake_bot, store).rate(history, 1, False, {}, {}, "de")
    [row] = store.recent_negative()
    assert (row["id"], row["question"], row["answer"], row["cited_chunk_ids"]) == (row_id, "Frage <b>",
                                                                                   "⚠️ Fehler", "[]")


def test_feedback_store_down_keeps_the_chat_going(fake_bot: FakeBot, tmp_path: Path) -> None:
    handlers = chat(fake_bot, BrokenStore(tmp_path / "f.sqlite3"))
    _, answers, history = run_chat(handlers, "Wer kann sich bewerben?")
    status, row_id, _ = handlers.rate(history, 1, False, answers, {}, "de")
    assert row_id is None and "nicht gespeichert" in status
    assert handlers.send_comment("x", 7, "en")[0].startswith("Your feedback could not be saved")
    messages, _, _ = run_chat(handlers, "Und noch eine Frage?")
    assert render.SOURCES_MARK in messages[-1]


def test_chatbot_shows_user_html_as_text_and_escapes_once() -> None:
    bot_view = show_user_html_as_text(gr.Chatbot(render=False))
    data = bot_view.postprocess([{"role": "user", "content": SCRIPT},
                                 {"role": "user", "content": render.esc(SCRIPT)},
                                 {"role": "assistant", "content": "<b>kept</b>"}])
    texts = [m.content[0].text for m in data.root]
    assert texts == [render.esc(SCRIPT), render.esc(SCRIPT), "<b>kept</b>"]


# -- follow-ups ----------------------------------------------------------------------------------------
def test_feedback_on_a_follow_up_keeps_the_question_it_follows(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, _, history = run_chat(handlers, "Wer kann sich bewerben?")
    _, answers, history = run_chat(handlers, "Und was kostet das?", history)
    handlers.rate(history, 3, False, answers, {}, "de")
    [row] = store.recent_negative()
    assert (row["question"], row["follows"]) == ("Und was kostet das?", "Wer kann sich bewerben?")
    run_chat(handlers, f"Und das {GAP_WORD}?", history)  # an unanswered follow-up: logged as a gap with it
    assert store.rows("gaps")[0]["follows"] == "Und was kostet das?"
    _, answers, first = run_chat(handlers, "Eine erste Frage?")
    handlers.rate(first, 1, False, answers, {}, "de")
    assert store.recent_negative(1)[0]["follows"] is None  # no follow-up: nothing it follows


@pytest.mark.parametrize("history", [None, "text", [1, None, "x"], [{"role": "user", "content": 5}]])
def test_malformed_history_from_a_crafted_request_still_answers(fake_bot: FakeBot, store: FeedbackStore,
                                                               history: object) -> None:
    steps = list(chat(fake_bot, store).respond("Wer kann sich bewerben?", history, "xx", "no dict"))  # type: ignore[arg-type]
    assert render.SOURCES_MARK in steps[-1][0]


def test_like_event_with_nonsense_index_is_ignored(fake_bot: FakeBot, store: FeedbackStore) -> None:
    evt = gr.LikeData(None, {"index": "abc", "value": None, "liked": False})
    status, row_id, rated = chat(fake_bot, store).on_like([], {}, {}, "de", evt)
    assert status.startswith("Bewerten Sie") and row_id is None and rated == {} and store.count() == 0


# -- hotline -------------------------------------------------------------------------------------------
def test_hotline_filters_reach_bot_search(fake_bot: FakeBot) -> None:
    handlers = HotlineHandlers(fake_bot)
    table, draft = handlers.search("Aufnahme Programm", "de", "webseite-de.txt", 5.0, "de")
    assert fake_bot.search_calls[0] == {"query": "Aufnahme Programm", "k": 5, "language": "de",
                                        "source": "webseite-de.txt"}
    assert "<mark>Aufnahme</mark>" in table and "flyer-en.txt" not in table
    assert draft.startswith("Jedes Innovationscluster") and "Quellen:" in draft
    _, draft = handlers.search("membership", ALL, ALL, 10, "en")
    assert draft.startswith("Zu „membership“") and "Sources:" in draft  # no filter: the bot's own answer
    assert fake_bot.search_calls[-2] == {"query": "membership", "k": 10, "language": None, "source": None}


def test_hotline_shows_ranked_sentences_with_passage_page_and_date(fake_bot: FakeBot) -> None:
    table, _ = HotlineHandlers(fake_bot).search("Membership Germany", ALL, ALL, 5, "en")
    sentences = table.split("Best-matching answer sentences", 1)[1].split("</table>", 1)[0]
    assert "<mark>Membership</mark>" in sentences and "p. 2 · Who can join? · last revised March 2019" in sentences
    assert '<details class="faq-passage">' in sentences and "<th>Relevance</th>" in sentences
    assert "Score" not in table and "0.5" not in table.replace('value="0.5', "")  # a bar, not a number


def test_hotline_draft_follows_the_filters(fake_bot: FakeBot) -> None:
    handlers = HotlineHandlers(fake_bot)
    # The bot's own answer cites a German and an English passage: with "English only" it cannot be used.
    _, draft = handlers.search("Membership programme clusters", "en", ALL, 5, "en")
    assert draft.startswith("Membership in the programme is open to all innovation clusters based in Germany. [1]")
    assert "Excellent networking <flyer>" in draft and "Programm go-cluster" not in draft
    _, draft = handlers.search("Aufnahme Programm", ALL, "webseite-de.txt", 5, "de")
    assert "Excellent networking" not in draft and "[1] Programm go-cluster (Webseite)" in draft
    _, draft = handlers.search("Beratung Coaching", "en", ALL, 5, "en")  # no English sentence has the words
    assert draft == "Under these filters no passage answers the question."


@pytest.mark.parametrize("k", ["abc", None, float("nan"), float("inf"), True, [3]])
def test_hotline_k_from_a_crafted_request_falls_back_to_the_default(fake_bot: FakeBot, k: object) -> None:
    HotlineHandlers(fake_bot).search("Aufnahme", ALL, ALL, k, "de")
    assert fake_bot.search_calls[0]["k"] == 10


def test_hotline_escapes_the_query_and_handles_empty_and_errors(fake_bot: FakeBot,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    handlers = HotlineHandlers(fake_bot)
    table, _ = handlers.search(f"Aufnahme {SCRIPT}", ALL, ALL, 3, "de")
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert handlers.search("   ", ALL, ALL, 3, "de") == ("", "")
    assert handlers.search(None, ALL, ALL, 3, "de") == ("", "")
    from indexer.errors import QuestionError

    def refuse(*args: object, **kwargs: object) -> None:
        raise QuestionError("Die Suchanfrage ist zu lang.")

    monkeypatch.setattr(fake_bot, "search", refuse)
    assert handlers.search("x", ALL, ALL, 3, "de") == ("<p>⚠️ Die Suchanfrage ist zu lang.</p>", "")


def test_document_choices_come_from_the_bot(fake_bot: FakeBot) -> None:
    choices = document_choices(fake_bot.documents(), "en")
    assert choices[0] == ("All documents", ALL)
    assert ("Excellent networking <flyer> (last revised March 2019)", "flyer-en.txt") in choices


# -- staff ---------------------------------------------------------------------------------------------
def test_staff_tables_have_headers_in_the_ui_language(fake_bot: FakeBot, store: FeedbackStore) -> None:
    handlers = chat(fake_bot, store)
    _, answers, history = run_chat(handlers, "Wer kann sich bewerben?")
    handlers.rate(history, 1, False, answers, {}, "de")
    run_chat(handlers, f"{GAP_WORD} morgen?")
    negative, gaps, status = FeedbackHandlers(store).tables("en")
    assert negative["headers"] == ["Time (UTC)", "Question", "Follows", "Answer", "Comment", "Language",
                                   "Index version"]
    assert gaps["headers"] == ["Question", "Times asked", "Thumbs down", "Last asked (UTC)", "Language"]
    assert negative["data"][0][1] == "Wer kann sich bewerben?"
    assert gaps["data"][0][0] == f"{GAP_WORD} morgen?"
    assert status == "Stored feedback rows: 2"
    negative, _, _ = FeedbackHandlers(store).tables("de")
    assert negative["headers"][:3] == ["Zeit (UTC)", "Frage", "Folgt auf"]
    assert not {"created_at", "thumbs_down", "Score"} & set(negative["headers"] + gaps["headers"])


def test_staff_view_survives_an_unreadable_store_without_showing_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    negative, _, status = FeedbackHandlers(FeedbackStore(blocker / "f.sqlite3")).tables("de")
    assert status == "⚠️ Die Rückmeldungen können gerade nicht gelesen werden."
    assert str(tmp_path) not in status and negative["headers"][0] == "Zeit (UTC)"


# -- API -----------------------------------------------------------------------------------------------
def test_api_functions(fake_bot: FakeBot, store: FeedbackStore) -> None:
    api = Api(fake_bot, store)
    answer = api.ask("Wer kann sich bewerben?")
    assert answer["citations"][0]["chunk_id"] == CHUNKS[0].id
    assert json.loads(json.dumps(answer)) == answer
    assert answer_from_dict(answer).citations[0].title == CHUNKS[0].title
    hits = api.search("Membership", k=1, language="en")
    assert [h["source"] for h in hits] == ["flyer-en.txt"] and hits[0]["rank"] == 1
    assert api.feedback("Wer kann sich bewerben?", answer, -1, "fehlt") == {"id": 1}
    with pytest.raises(gr.Error, match="Bitte geben Sie eine Frage ein"):
        api.ask(" ")
    with pytest.raises(gr.Error, match="Bewertung muss 1"):
        api.feedback("q", answer, 3)
    with pytest.raises(gr.Error, match="Bewertung muss 1"):
        api.feedback("q", answer, True)  # type: ignore[arg-type]
    api.ask(f"{GAP_WORD}?")
    assert store.content_gaps()[0]["question"] == f"{GAP_WORD}?"


@pytest.mark.parametrize("k", ["abc", None, float("nan"), float("inf"), 0, 51, 2.5, True, "5"])
def test_api_search_refuses_a_bad_k(fake_bot: FakeBot, store: FeedbackStore, k: object) -> None:
    with pytest.raises(gr.Error) as caught:
        Api(fake_bot, store).search("Aufnahme", k)  # type: ignore[arg-type]
    assert caught.value.message == "k muss eine ganze Zahl von 1 bis 50 sein."
    assert fake_bot.search_calls == []


@pytest.mark.parametrize(("answer", "field"), [
    ("text", None), ([], None), ({"text": 5}, "text"), ({"language": "x" * 60_000_000}, "language"),
    ({"language": "fr"}, "language"), ({"abstained": "yes"}, "abstained"), ({"citations": "x"}, "citations"),
    ({"citations": [{}] * 21}, "citations"), ({"citations": [7]}, "citations"),
    ({"citations": [{"page": "drei"}]}, "citations.page"), ({"citations": [{"score": float("nan")}]},
                                                              "citations.score"),
    ({"citations": [{"quote": ["x"]}]}, "citations.quote"), ({"index_version": "v" * 101}, "index_version"),
])
def test_api_feedback_refuses_malformed_answers_in_one_line(fake_bot: FakeBot, store: FeedbackStore,
                                                            answer: object, field: str | None) -> None:
    with pytest.raises(gr.Error) as caught:
        Api(fake_bot, store).feedback("Wer?", answer, -1)  # type: ignore[arg-type]
    message = caught.value.message
    assert "\n" not in message and len(message) < 200 and "Traceback" not in message
    whole = "Die Antwort muss das Objekt sein, das /ask zurückgegeben hat."
    assert (f"„{field}“" in message) if field else message == whole
    assert store.count() == 0


def test_api_messages_follow_the_ui_language(fake_bot: FakeBot, store: FeedbackStore) -> None:
    with pytest.raises(gr.Error) as caught:
        Api(fake_bot, store, lang="en").search("x", "abc")  # type: ignore[arg-type]
    assert caught.value.message == "k must be a whole number from 1 to 50."
    with pytest.raises(BadRequest, match=r"20,000 characters"):
        answer_from_dict({"text": 5}, "en")
    with pytest.raises(BadRequest, match=r"20\.000 Zeichen"):
        answer_from_dict({"text": 5}, "de")


def test_api_never_shows_a_server_error_or_a_database_path(fake_bot: FakeBot, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    api = Api(fake_bot, BrokenStore(tmp_path / "f.sqlite3"))
    answer = api.ask("Wer kann sich bewerben?")
    with pytest.raises(gr.Error) as caught:
        api.feedback("Wer?", answer, -1)
    assert caught.value.message.startswith("Die Rückmeldung konnte gerade nicht gespeichert werden")
    monkeypatch.setattr(fake_bot, "search", lambda *a, **k: {}["boom"])
    with pytest.raises(gr.Error) as caught:
        api.search("x", 3)
    assert caught.value.message.startswith("Es ist ein Fehler aufgetreten")


# -- the assembled public page -------------------------------------------------------------------------
def endpoints(blocks: gr.Blocks) -> dict[str, object]:
    return {fn.api_name: fn for fn in blocks.fns.values() if fn.api_name}


def test_public_blocks_expose_named_endpoints_and_a_bounded_queue(fake_bot: FakeBot, store: FeedbackStore) -> None:
    settings = Settings(max_concurrency=3)
    blocks = create_public_blocks(fake_bot, store, settings)
    fns = endpoints(blocks)
    public = {name for name, fn in fns.items() if fn.api_visibility == "public"}
    assert public == {"ask", "search", "feedback"}
    assert blocks._queue.max_size == settings.max_queue and blocks._queue.default_concurrency_limit == 3
    updates = fns["ui_relabel"].fn("en")
    labels = {u.get("label") for u in updates} | {u.get("value") for u in updates}
    assert {"Hotline search", "Send feedback", "go-cluster assistant"} <= labels
    assert any("Answers come only from these documents" in str(v) for v in labels)


def test_public_blocks_hold_no_staff_event(fake_bot: FakeBot, store: FeedbackStore) -> None:
    names = set(endpoints(create_public_blocks(fake_bot, store, Settings(host="127.0.0.1"))))
    assert not {n for n in names if n.startswith(("ui_staff", "ui_export", "ui_doc"))}
    without_hotline = create_public_blocks(fake_bot, store, Settings(public_hotline=False))
    assert "ui_hotline_search" not in endpoints(without_hotline)
