"""The hotline tab: ranked passages with highlighted terms, filters, and a copy-ready cited answer."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from indexer.errors import FaqError
from ui import render
from ui.texts import DEFAULT_LANGUAGE, t

log = logging.getLogger(__name__)
ALL = "all"


def document_choices(documents: list[dict], lang: str) -> list[tuple[str, str]]:
    """Dropdown choices: "all documents" first, then "title (date label)" -> file name."""
    docs = [(f"{d.get('title') or d['file']} ({d.get('date_label') or '-'})", d["file"]) for d in documents]
    return [(t(lang, "hot.all_documents"), ALL), *docs]


def language_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, "hot.all_languages"), ALL), ("Deutsch", "de"), ("English", "en")]


def _or_none(choice: str | None) -> str | None:
    return None if choice in (ALL, "", None) else choice


class HotlineHandlers:
    """Callbacks of the hotline tab (plain methods)."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    def search(self, query: str, language: str, source: str, k: float, lang: str) -> tuple[str, str]:
        """Return (hits table HTML, copy-ready answer text) for `query` under the filters."""
        query = (query or "").strip()
        if not query:
            return "", ""
        try:
            hits = self.bot.search(query, k=int(k), language=_or_none(language), source=_or_none(source))
        except FaqError as exc:
            return f"<p>⚠️ {render.esc(exc)}</p>", ""
        except Exception:
            log.exception("hotline search failed")
            return f"<p>⚠️ {render.esc(t(lang, 'error.generic'))}</p>", ""
        return render.render_hits(hits, query, lang), self.draft(query, lang)

    def draft(self, query: str, lang: str) -> str:
        try:
            return render.copy_text(self.bot.answer(query), lang)
        except FaqError as exc:
            return str(exc)
        except Exception:
            log.exception("hotline draft failed")
            return t(lang, "error.generic")


def build_hotline_tab(handlers: HotlineHandlers, lang_radio: gr.Radio,
                      documents: list[dict]) -> list[tuple[Any, Any]]:
    """Lay out the hotline inside the current gr.Tab; return (component, lang -> update) pairs."""
    lang = DEFAULT_LANGUAGE
    with gr.Row():
        query = gr.Textbox(label=t(lang, "hot.query"), scale=4, elem_id="hot-query", max_length=2_000)
        search = gr.Button(t(lang, "hot.search"), variant="primary", scale=1, elem_id="hot-search")
    with gr.Row():
        language = gr.Radio(language_choices(lang), value=ALL, label=t(lang, "hot.language"), scale=2,
                            min_width=300)
        document = gr.Dropdown(document_choices(documents, lang), value=ALL, label=t(lang, "hot.document"),
                               scale=2)
        k = gr.Slider(1, 20, value=10, step=1, label=t(lang, "hot.k"), scale=1)
    draft = gr.Textbox(label=t(lang, "hot.draft"), lines=6, max_lines=16, interactive=False, buttons=["copy"],
                       elem_id="hot-draft")
    hits = gr.Markdown(elem_id="hot-hits")
    gr.on([search.click, query.submit], handlers.search, [query, language, document, k, lang_radio],
          [hits, draft], api_name="ui_hotline_search", api_visibility="private")
    return [
        (query, lambda lg: gr.update(label=t(lg, "hot.query"))),
        (search, lambda lg: gr.update(value=t(lg, "hot.search"))),
        (language, lambda lg: gr.update(label=t(lg, "hot.language"), choices=language_choices(lg))),
        (document, lambda lg: gr.update(label=t(lg, "hot.document"),
                                        choices=document_choices(documents, lg))),
        (k, lambda lg: gr.update(label=t(lg, "hot.k"))),
        (draft, lambda lg: gr.update(label=t(lg, "hot.draft"))),
    ]
