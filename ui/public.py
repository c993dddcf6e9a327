"""The public page: language switch, chat, hotline look-up (when the office wants it public), footer, and
the read-only API. Nothing of the staff app is in these Blocks, so neither /config nor any fn_index
can reach it.

>>> blocks = create_public_blocks(bot, FeedbackStore(settings.feedback_db), settings)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from bot.feedback import FeedbackStore
from indexer.settings import Settings
from ui import render
from ui.api import Api
from ui.chat import ChatHandlers, build_chat_tab
from ui.hotline import HotlineHandlers, build_hotline_tab
from ui.look import SET_LANG_JS
from ui.texts import DEFAULT_LANGUAGE, LANGUAGE_CHOICES, t

Bindings = list[tuple[Any, Any]]


def relabel(bindings: Bindings, lang: str) -> list[Any]:
    """One update per bound component, in the bindings' order."""
    lang = lang if lang in ("de", "en") else DEFAULT_LANGUAGE
    return [make_update(lang) for _, make_update in bindings]


def header(lang: str, title_key: str) -> tuple[gr.Markdown, gr.Radio]:
    """Title and language switch; on a phone they stack (see ui/look.py)."""
    with gr.Row(elem_id="faq-header"):
        title = gr.Markdown(t(lang, title_key), elem_id="faq-title", min_height=0)
        lang_radio = gr.Radio(LANGUAGE_CHOICES, value=lang, label=t(lang, "language"), scale=0, min_width=280,
                              elem_id="faq-language")
    return title, lang_radio


def wire_language(blocks: gr.Blocks, lang_radio: gr.Radio, bindings: Bindings) -> None:
    """Relabel everything when the language changes (and on page load, for documents added since)."""
    outputs = [c for c, _ in bindings]
    lang_radio.change(lambda lg: relabel(bindings, lg), [lang_radio], outputs, js=SET_LANG_JS,
                      api_name="ui_relabel", api_visibility="private", queue=False)
    blocks.load(lambda lg: relabel(bindings, lg), [lang_radio], outputs, api_name="ui_load",
                api_visibility="private", queue=False)


def create_public_blocks(bot: Any, feedback_store: FeedbackStore, settings: Settings, *,
                         stream_delay_s: float = 0.02) -> gr.Blocks:
    lang = DEFAULT_LANGUAGE

    def footer_text(lg: str) -> str:
        return render.footer(bot.documents(), settings.hotline_contact_phone, settings.hotline_contact_email, lg)

    with gr.Blocks(title="go-cluster FAQ", analytics_enabled=False) as blocks:
        Api(bot, feedback_store).register()  # first, so the public names are taken before any UI event's
        title, lang_radio = header(lang, "title")
        with gr.Tabs():
            with gr.Tab(t(lang, "tab.chat"), id="chat") as chat_tab:
                bindings = build_chat_tab(ChatHandlers(bot, feedback_store, stream_delay_s=stream_delay_s),
                                          lang_radio, settings.max_question_chars)
            tabs = [(chat_tab, "tab.chat")]
            if settings.public_hotline:
                with gr.Tab(t(lang, "tab.hotline"), id="hotline", elem_id="tab-hotline") as hotline_tab:
                    bindings += build_hotline_tab(HotlineHandlers(bot), lang_radio, bot.documents)
                tabs.append((hotline_tab, "tab.hotline"))
        footer = gr.Markdown(footer_text(lang), elem_id="faq-footer")
        bindings += [(tab, lambda lg, key=key: gr.update(label=t(lg, key))) for tab, key in tabs]
        bindings += [(title, lambda lg: gr.update(value=t(lg, "title"))),
                     (footer, lambda lg: gr.update(value=footer_text(lg)))]
        wire_language(blocks, lang_radio, bindings)
    blocks.queue(default_concurrency_limit=settings.max_concurrency, max_size=settings.max_queue)
    return blocks
