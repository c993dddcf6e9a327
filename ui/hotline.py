"""The hotline tab: the best answer sentences with their passage, page and date; the ranked passages;
and a copy-ready draft that obeys the language and document filters."""

from __future__ import annotations

import logging
import math
from typing import Any

import gradio as gr

from indexer.errors import FaqError
from ui import render
from ui.ranking import rank_sentences
from ui.texts import DEFAULT_LANGUAGE, t

log = logging.getLogger(__name__)
ALL = "all"
MAX_K = 20
MAX_QUERY_CHARS = 2_000


def document_choices(documents: list[dict], lang: str) -> list[tuple[str, str]]:
    """Dropdown choices: "all documents" first, then "title (date label)" -> file name."""
    docs = [(f"{d.get('title') or d['file']} ({d.get('date_label') or '-'})", d["file"]) for d in documents]
    return [(t(lang, "hot.all_documents"), ALL), *docs]


def language_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, "hot.all_languages"), ALL), ("Deutsch", "de"), ("English", "en")]


def _or_none(choice: Any) -> str | None:
    return choice if isinstance(choice, str) and choice not in (ALL, "") else None


def _k(value: Any) -> int:
    """The slider's value as a hit count; anything else a crafted request sends becomes the default."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return max(1, min(MAX_K, int(value)))
    return 10


class HotlineHandlers:
    """Callbacks of the hotline tab (plain methods)."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    def search(self, query: Any, language: Any, source: Any, k: Any, lang: Any) -> tuple[str, str]:
        """Return (sentences and passages HTML, copy-ready draft) for `query` under the filters."""
        lang = lang if lang in ("de", "en") else DEFAULT_LANGUAGE
        query = query.strip() if isinstance(query, str) else ""
        if not query:
            return "", ""
        language, source = _or_none(language), _or_none(source)
        try:
            hits = self.bot.search(query[:MAX_QUERY_CHARS + 1], k=_k(k), language=language, source=source)
        except FaqError as exc:
            return f"<p>⚠️ {render.esc(exc)}</p>", ""
        except Exception:
            log.exception("hotline search failed")
            return f"<p>⚠️ {render.esc(t(lang, 'error.generic'))}</p>", ""
        ranked = rank_sentences(hits, query)
        html = (render.render_sentences(ranked, query, lang)
                + render.render_hits(hits, query, lang, best=[r.text for r in ranked]))
        return html, self.draft(query, lang, language, source, ranked)

    def draft(self, query: str, lang: str, language: str | None, source: str | None, ranked: list) -> str:
        """The bot's cited answer when its sources fit the filters, else one made of the ranked sentences."""
        try:
            answer = self.bot.answer(query)
        except FaqError as exc:
            return str(exc)
        except Exception:
            log.exception("hotline draft failed")
            return t(lang, "error.generic")
        fits = all((language is None or c.language == language) and (source is None or c.source == source)
                   for c in answer.citations)
        if not answer.abstained and answer.citations and fits:
            return render.copy_text(answer, lang)
        return render.draft_from_sentences(ranked, lang)


def build_hotline_tab(handlers: HotlineHandlers, lang_radio: gr.Radio,
                      documents: Any) -> list[tuple[Any, Any]]:
    """Lay out the hotline inside the current gr.Tab; `documents()` gives the current documents.
    Returns (component, lang -> update) pairs."""
    lang = DEFAULT_LANGUAGE
    with gr.Row(elem_classes="faq-wrap"):
        query = gr.Textbox(label=t(lang, "hot.query"), scale=4, min_width=240, elem_id="hot-query",
                           max_length=MAX_QUERY_CHARS)
        search = gr.Button(t(lang, "hot.search"), variant="primary", scale=1, min_width=120, elem_id="hot-search")
    with gr.Row(elem_classes="faq-wrap"):
        language = gr.Radio(language_choices(lang), value=ALL, label=t(lang, "hot.language"), scale=2,
                            min_width=240, elem_id="hot-language")
        document = gr.Dropdown(document_choices(documents(), lang), value=ALL, label=t(lang, "hot.document"),
                               scale=2, min_width=240, elem_id="hot-document")
        k = gr.Slider(1, MAX_K, value=10, step=1, label=t(lang, "hot.k"), scale=1, min_width=200)
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
                                        choices=document_choices(documents(), lg))),
        (k, lambda lg: gr.update(label=t(lg, "hot.k"))),
        (draft, lambda lg: gr.update(label=t(lg, "hot.draft"))),
    ]
