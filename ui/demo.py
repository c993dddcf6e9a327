"""Assemble the web app: language switch, chat, hotline and staff tabs, footer, API endpoints, queue.

>>> demo = create_demo(bot, FeedbackStore(settings.feedback_db), settings)   # doctest: +SKIP
>>> demo.launch(**launch_kwargs(settings))                                   # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
from typing import Any

import gradio as gr

from bot.feedback import FeedbackStore
from indexer.settings import Settings
from ui import render
from ui.api import Api
from ui.chat import ChatHandlers, build_chat_tab
from ui.hotline import HotlineHandlers, build_hotline_tab
from ui.staff import StaffHandlers, build_staff_tab
from ui.texts import DEFAULT_LANGUAGE, LANGUAGE_CHOICES, t

CSS = """
.faq-sources summary { cursor: pointer; font-weight: 600; }
ul.faq-source-list { list-style: none; padding-left: .2em; margin-top: .3em; }
ul.faq-source-list li { margin-bottom: .5em; }
.faq-source-list q { font-style: italic; }
table.faq-hits { width: 100%; font-size: .92em; }
table.faq-hits caption { text-align: left; font-weight: 600; padding: .3em 0; }
table.faq-hits td { vertical-align: top; }
table.faq-hits :is(th, td):is(:first-child, :nth-child(n+6)) { white-space: nowrap; }
table.faq-hits th:nth-child(2) { width: 48%; }
table.faq-hits mark { background: #fde68a; color: inherit; padding: 0 .1em; }
#faq-footer { font-size: .9em; opacity: .85; }
"""


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def relabel(bindings: list[tuple[Any, Any]], lang: str) -> list[Any]:
    """One update per bound component, in the bindings' order."""
    return [make_update(lang) for _, make_update in bindings]


def create_demo(bot: Any, feedback_store: FeedbackStore, settings: Settings, *,
                staff_view: bool | None = None, stream_delay_s: float = 0.02) -> gr.Blocks:
    """Build the app. The staff tab (other people's questions and comments) is shown only when the
    server binds a loopback address, unless `staff_view` says otherwise."""
    show_staff = is_loopback(settings.host) if staff_view is None else staff_view
    documents = bot.documents()
    lang = DEFAULT_LANGUAGE

    def footer_text(lg: str) -> str:
        return render.footer(documents, settings.hotline_contact_phone, settings.hotline_contact_email, lg)

    with gr.Blocks(title="go-cluster FAQ", analytics_enabled=False) as demo:
        Api(bot, feedback_store).register()  # first, so the public names are taken before any UI event's
        with gr.Row(equal_height=True):
            title = gr.Markdown(t(lang, "title"), elem_id="faq-title")
            lang_radio = gr.Radio(LANGUAGE_CHOICES, value=lang, label=t(lang, "language"), scale=0,
                                  min_width=300, elem_id="faq-language")
        with gr.Tabs():
            with gr.Tab(t(lang, "tab.chat"), id="chat") as chat_tab:
                bindings = build_chat_tab(ChatHandlers(bot, feedback_store, stream_delay_s=stream_delay_s),
                                          lang_radio, settings.max_question_chars)
            with gr.Tab(t(lang, "tab.hotline"), id="hotline", elem_id="tab-hotline") as hotline_tab:
                bindings += build_hotline_tab(HotlineHandlers(bot), lang_radio, documents)
            tabs = [(chat_tab, "tab.chat"), (hotline_tab, "tab.hotline")]
            if show_staff:
                with gr.Tab(t(lang, "tab.staff"), id="staff", elem_id="tab-staff") as staff_tab:
                    bindings += build_staff_tab(StaffHandlers(feedback_store), lang_radio, staff_tab)
                tabs.append((staff_tab, "tab.staff"))
        footer = gr.Markdown(footer_text(lang), elem_id="faq-footer")
        bindings += [(tab, lambda lg, key=key: gr.update(label=t(lg, key))) for tab, key in tabs]
        bindings += [(title, lambda lg: gr.update(value=t(lg, "title"))),
                     (footer, lambda lg: gr.update(value=footer_text(lg)))]
        lang_radio.change(lambda lg: relabel(bindings, lg), [lang_radio], [c for c, _ in bindings],
                          api_name="ui_relabel", api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=settings.max_concurrency,
               max_size=settings.max_queue)
    return demo


def theme() -> gr.themes.Base:
    """The default theme with the visitor's own fonts: no font request leaves for a third party."""
    return gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "Arial", "sans-serif"],
                             font_mono=["ui-monospace", "Consolas", "monospace"])


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """How app.py (and the browser tests) launch: loopback unless configured, nothing shared or
    recorded, no uploads, no file served beyond what the app itself creates."""
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": False,
        "allowed_paths": [],
        "max_file_size": "1mb",
        "footer_links": ["api"],
        "run_history": False,
        "enable_monitoring": False,
        "mcp_server": False,
        "ssr_mode": False,
        "show_error": False,
        "css": CSS,
        "theme": theme(),
    }
