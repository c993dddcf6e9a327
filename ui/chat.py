"""The chat tab: streamed, cited answers; thumbs up/down and an optional comment go to the FeedbackStore.

`ChatHandlers` holds the callbacks as plain methods (testable without a browser); `build_chat_tab`
lays out the components and wires them.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr
from gradio.components.chatbot import TextMessage

from bot.feedback import FeedbackStore
from bot.results import Answer
from indexer.errors import FaqError
from ui import render
from ui.api import answer_from_dict
from ui.texts import DEFAULT_LANGUAGE, EXAMPLES, t

log = logging.getLogger(__name__)
MAX_REMEMBERED_ANSWERS = 50
Relabels = list[tuple[Any, Any]]


def show_user_html_as_text(chatbot: gr.Chatbot) -> gr.Chatbot:
    """Make `chatbot` show a user's message as typed: its HTML is escaped instead of sanitised away.

    Escaping is idempotent (unescape, then escape) because the page sends earlier messages back
    already escaped; answers are escaped by ui.render before their markup is added. This wraps the
    instance's postprocess: a Chatbot subclass would make gradio write a .pyi stub beside this module.
    """
    original = chatbot.postprocess

    def postprocess(value: Any) -> Any:
        data = original(value)
        for message in data.root:
            if message.role == "user":
                for part in message.content:
                    if isinstance(part, TextMessage):
                        part.text = render.esc(html.unescape(part.text))
        return data

    chatbot.postprocess = postprocess  # type: ignore[method-assign]
    return chatbot


def message_text(message: Any) -> str:
    """The text of a Gradio message, whose content may be a string or a list of parts."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    texts = [p if isinstance(p, str) else p.get("text", "") for p in parts if isinstance(p, (str, dict))]
    return "\n".join(x for x in texts if x)


def previous_question(history: Any, before: int | None = None) -> str:
    """The last question the user asked before message `before` (default: before the end), or ""."""
    turns = history[:before] if isinstance(history, list) else []
    return next((html.unescape(message_text(m)) for m in reversed(turns)
                 if isinstance(m, dict) and m.get("role") == "user"), "")


def plain_history(history: list[dict] | None, answers: dict | None = None) -> list[dict]:
    """History for the bot: [{"role", "content": str}], answers without their sources block. An
    assistant turn whose answer is remembered in `answers` (by render.message_key) carries that answer's
    `citations` too: bot/conversation.py reads the passages a follow-up refers to from them."""
    answers = answers if isinstance(answers, dict) else {}
    plain = []
    for m in history if isinstance(history, list) else []:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        text = message_text(m)
        if m["role"] == "user":
            plain.append({"role": "user", "content": html.unescape(text)})
            continue
        turn: dict[str, Any] = {"role": "assistant", "content": render.strip_sources(text)}
        known = answers.get(render.message_key(text))
        if isinstance(known, dict) and isinstance(known.get("citations"), list):
            turn["citations"] = known["citations"]
        plain.append(turn)
    return plain


class ChatHandlers:
    """Callbacks of the chat tab. `stream_delay_s` paces the word-by-word display (0 in tests)."""

    def __init__(self, bot: Any, store: FeedbackStore, *, stream_delay_s: float = 0.02) -> None:
        self.bot = bot
        self.store = store
        self.stream_delay_s = stream_delay_s

    def respond(self, message: str, history: list[dict], lang: str,
                answers: dict | None) -> Iterator[tuple[str, dict]]:
        """Yield (growing message, remembered answers); the last message carries the sources."""
        answers = dict(answers) if isinstance(answers, dict) else {}
        lang = lang if lang in ("de", "en") else DEFAULT_LANGUAGE
        try:
            answer = self.bot.answer(message, plain_history(history, answers))
        except FaqError as exc:
            yield f"⚠️ {render.esc(exc)}", answers
            return
        except Exception:
            log.exception("answer failed")
            yield f"⚠️ {render.esc(t(lang, 'error.generic'))}", answers
            return
        if answer.abstained:
            self._log_gap(message, answer, previous_question(history))
        *steps, final = render.stream_steps(answer, lang)
        for step in steps:
            yield step, answers
            time.sleep(self.stream_delay_s)
        answers[render.message_key(final)] = answer.to_dict()
        yield final, dict(list(answers.items())[-MAX_REMEMBERED_ANSWERS:])

    def rate(self, history: list[dict], index: int, liked: bool | str, answers: dict | None,
             rated: dict | None, lang: str) -> tuple[str, int | None, dict]:
        """Store, change or withdraw the thumb on message `index`.

        The page sends liked=True/False for a thumb and "" when a thumb is clicked again (withdrawn);
        `rated` maps each rated message to its row, so a changed mind updates that row.
        Returns (status line, row id for a comment or None, new `rated`)."""
        rated = dict(rated) if isinstance(rated, dict) else {}
        answers = answers if isinstance(answers, dict) else {}
        answer, key = self._answer_at(history, index, answers, lang)
        rating = 1 if liked in (True, "Like") else -1 if liked in (False, "Dislike") else 0
        row_id = rated.get(key)
        try:
            if rating == 0:
                if row_id is not None:
                    self.store.withdraw(rated.pop(key))
                return t(lang, "chat.withdrawn"), None, rated
            if row_id is None:
                # The question before this one: staff cannot read "Und was kostet das?" without it (the
                # bot reads every question also with the conversation, so there is no follow-up flag).
                asked = max((i for i, m in enumerate(history[:index])
                             if isinstance(m, dict) and m.get("role") == "user"), default=0)
                row_id = self.store.record(answer.question, answer, rating,
                                           index_version=answer.index_version or self.bot.index_version,
                                           follows=previous_question(history, asked))
                rated[key] = row_id
            else:
                self.store.rerate(row_id, rating)
        except FaqError as exc:  # FeedbackUnavailable, or a FeedbackError for a value out of bounds
            log.warning("feedback not stored error=%s", exc)
            return t(lang, "chat.feedback_down"), None, rated
        log.info("feedback stored id=%s rating=%s", row_id, rating)
        return f"{t(lang, 'chat.thanks')} {t(lang, 'chat.rate_hint')}", row_id, rated

    def on_like(self, history: list[dict], answers: dict, rated: dict, lang: str,
                evt: gr.LikeData) -> tuple[str, int | None, dict]:
        index = evt.index[0] if isinstance(evt.index, list | tuple) and evt.index else evt.index
        if isinstance(index, bool) or not isinstance(index, int) or not isinstance(history, list):
            return t(lang, "chat.rate_hint"), None, rated if isinstance(rated, dict) else {}
        return self.rate(history, index, evt.liked, answers, rated, lang)

    def send_comment(self, comment: str, row_id: int | None, lang: str) -> tuple[str, str]:
        """Attach the comment to the last thumb; return (status line, new comment box value)."""
        comment = comment if isinstance(comment, str) else ""
        if isinstance(row_id, bool) or not isinstance(row_id, int):
            return t(lang, "chat.rate_first"), comment
        if not comment.strip():
            return t(lang, "chat.thanks"), ""
        try:
            self.store.add_comment(row_id, comment)
        except FaqError as exc:
            log.warning("comment not stored error=%s", exc)
            return t(lang, "chat.feedback_down"), comment
        return t(lang, "chat.comment_saved"), ""

    def _answer_at(self, history: list[dict], index: int, answers: dict, lang: str) -> tuple[Answer, str]:
        """The Answer behind message `index` and a key for that message."""
        content = message_text(history[index]) if 0 <= index < len(history) else ""
        key = render.message_key(content)
        if known := answers.get(key):
            return answer_from_dict(known, lang), f"{index}:{key}"
        # Not remembered (e.g. an error message): keep what the page shows.
        question = previous_question(history, max(index, 0))
        answer = Answer(question=question, text=render.strip_sources(content), language=lang, abstained=False)
        return answer, f"{index}:{key}"

    def _log_gap(self, question: str, answer: Answer, follows: str) -> None:
        try:
            self.store.record_unanswered(question, answer, index_version=answer.index_version or self.bot.index_version,
                                         follows=follows)
        except FaqError as exc:  # FeedbackError (a value out of bounds) or FeedbackUnavailable
            log.warning("content gap not logged error=%s", exc)


def build_chat_tab(handlers: ChatHandlers, lang_radio: gr.Radio, max_question_chars: int) -> Relabels:
    """Lay out the chat inside the current gr.Tab; return (component, lang -> update) pairs."""
    lang = DEFAULT_LANGUAGE
    answers = gr.State({})
    last_row = gr.State(None)
    rated = gr.State({})
    chatbot = show_user_html_as_text(gr.Chatbot(label=t(lang, "chat.label"), height=480, buttons=["copy"],
                                                feedback_options=("Like", "Dislike"), elem_id="faq-chatbot"))
    textbox = gr.Textbox(placeholder=t(lang, "chat.placeholder"), max_length=max_question_chars,
                         submit_btn=True, stop_btn=True, autofocus=True, elem_id="faq-question")
    gr.ChatInterface(fn=handlers.respond, chatbot=chatbot, textbox=textbox,
                     additional_inputs=[lang_radio, answers], additional_outputs=[answers],
                     examples=[[q] for q in EXAMPLES], fill_height=False, api_name="ui_chat",
                     api_visibility="private")
    with gr.Row(equal_height=True):
        comment = gr.Textbox(show_label=False, placeholder=t(lang, "chat.comment_placeholder"),
                             label=t(lang, "chat.comment"), max_length=2_000, lines=1, scale=4,
                             container=False, elem_id="faq-comment")
        send = gr.Button(t(lang, "chat.send"), scale=1, size="md", elem_id="faq-send-feedback")
    status = gr.Markdown(t(lang, "chat.rate_hint"), elem_id="faq-feedback-status")
    chatbot.like(handlers.on_like, [chatbot, answers, rated, lang_radio], [status, last_row, rated],
                api_name="ui_rate", api_visibility="private")
    send.click(handlers.send_comment, [comment, last_row, lang_radio], [status, comment],
               api_name="ui_comment", api_visibility="private")
    return [
        (chatbot, lambda lg: gr.update(label=t(lg, "chat.label"))),
        (textbox, lambda lg: gr.update(placeholder=t(lg, "chat.placeholder"))),
        (comment, lambda lg: gr.update(label=t(lg, "chat.comment"),
                                       placeholder=t(lg, "chat.comment_placeholder"))),
        (send, lambda lg: gr.update(value=t(lg, "chat.send"))),
        (status, lambda lg: gr.update(value=t(lg, "chat.rate_hint"))),
    ]
