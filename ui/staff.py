"""The staff app's page (served only behind the login): feedback and content gaps with CSV exports,
document management, the hotline look-up and the latest evaluation comparison.

>>> blocks = create_staff_blocks(bot, store, settings, documents)    # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from bot.feedback import FeedbackStore, FeedbackUnavailable
from indexer.settings import Settings
from ui import render
from ui.documents import DocumentHandlers, build_documents_tab
from ui.evaluation_tab import EvaluationHandlers, build_evaluation_tab
from ui.exports import KINDS
from ui.hotline import HotlineHandlers, build_hotline_tab
from ui.public import header, wire_language
from ui.texts import DEFAULT_LANGUAGE, number, t

log = logging.getLogger(__name__)
NEGATIVE_COLUMNS = ("created_at", "question", "follows", "answer", "comment", "language", "index_version")
GAP_COLUMNS = ("question", "times", "thumbs_down", "last_asked", "language")
SNIPPET_CHARS = 300
ROWS = 50  # the newest rows only: a refresh never loads the whole table


def _cell(row: dict, column: str, lang: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if column in ("created_at", "last_asked"):
        return str(value)[:16].replace("T", " ")  # UTC, to the minute
    if isinstance(value, int) and not isinstance(value, bool):
        return number(value, lang)
    return str(value)[:SNIPPET_CHARS]


def _table(rows: list[dict], columns: tuple[str, ...], lang: str) -> dict[str, Any]:
    data = [[_cell(r, c, lang) for c in columns] for r in rows]
    return {"headers": [t(lang, f"staff.col.{c}") for c in columns], "data": data or [["" for _ in columns]]}


def export_links(lang: str) -> str:
    links = " · ".join(f'<a href="/exports/{kind}.csv" download id="export-{kind}">'
                       f'{render.esc(t(lang, f"staff.export_{kind}"))}</a>' for kind in KINDS)
    return f"<p>{render.esc(t(lang, 'staff.exports'))} {links}</p>"


class FeedbackHandlers:
    """Callbacks of the feedback tab (plain methods)."""

    def __init__(self, store: FeedbackStore) -> None:
        self.store = store

    def tables(self, lang: str) -> tuple[dict, dict, str]:
        """(thumbs-down table, content-gap table, status line)."""
        lang = lang if lang in ("de", "en") else DEFAULT_LANGUAGE
        try:
            negative = self.store.recent_negative(ROWS)
            gaps, n = self.store.content_gaps(ROWS), self.store.count()
        except FeedbackUnavailable as exc:  # its text names the file: for the log only
            log.warning("staff view cannot read feedback error=%s", exc)
            return (_table([], NEGATIVE_COLUMNS, lang), _table([], GAP_COLUMNS, lang),
                    f"⚠️ {t(lang, 'staff.unavailable')}")
        return (_table(negative, NEGATIVE_COLUMNS, lang), _table(gaps, GAP_COLUMNS, lang),
                t(lang, "staff.count", n=number(n, lang)))


def build_feedback_tab(handlers: FeedbackHandlers, lang_radio: gr.Radio, tab: gr.Tab) -> list[tuple[Any, Any]]:
    lang = DEFAULT_LANGUAGE
    with gr.Row():
        refresh = gr.Button(t(lang, "staff.refresh"), scale=0, size="md", elem_id="staff-refresh")
        status = gr.Markdown(elem_id="staff-status")
    negative_title = gr.Markdown(f"### {t(lang, 'staff.negative')}")
    negative = gr.Dataframe(interactive=False, wrap=True, elem_id="staff-negative",
                            column_widths=["10%", "18%", "14%", "26%", "16%", "6%", "10%"])
    gaps_title = gr.Markdown(f"### {t(lang, 'staff.gaps')}")
    gaps = gr.Dataframe(interactive=False, wrap=True, elem_id="staff-gaps",
                        column_widths=["52%", "10%", "10%", "18%", "10%"])
    links = gr.HTML(export_links(lang), elem_id="staff-exports")
    gr.on([refresh.click, tab.select], handlers.tables, [lang_radio], [negative, gaps, status],
          api_name="ui_staff_tables", api_visibility="private")
    return [
        (refresh, lambda lg: gr.update(value=t(lg, "staff.refresh"))),
        (negative_title, lambda lg: gr.update(value=f"### {t(lg, 'staff.negative')}")),
        (gaps_title, lambda lg: gr.update(value=f"### {t(lg, 'staff.gaps')}")),
        (links, lambda lg: gr.update(value=export_links(lg))),
    ]


def create_staff_blocks(bot: Any, store: FeedbackStore, settings: Settings, documents: DocumentHandlers) -> gr.Blocks:
    lang = DEFAULT_LANGUAGE
    with gr.Blocks(title="go-cluster FAQ – intern", analytics_enabled=False) as blocks:
        title, lang_radio = header(lang, "staff.title")
        logout = gr.HTML(f'<a href="/logout" id="staff-logout">{render.esc(t(lang, "staff.logout"))}</a>')
        with gr.Tabs():
            with gr.Tab(t(lang, "tab.feedback"), id="feedback", elem_id="tab-feedback") as feedback_tab:
                bindings = build_feedback_tab(FeedbackHandlers(store), lang_radio, feedback_tab)
            with gr.Tab(t(lang, "tab.documents"), id="documents", elem_id="tab-documents") as documents_tab:
                bindings += build_documents_tab(documents, lang_radio)
            with gr.Tab(t(lang, "tab.hotline"), id="hotline", elem_id="tab-hotline") as hotline_tab:
                bindings += build_hotline_tab(HotlineHandlers(bot), lang_radio, bot.documents)
            with gr.Tab(t(lang, "tab.evaluation"), id="evaluation", elem_id="tab-evaluation") as evaluation_tab:
                bindings += build_evaluation_tab(EvaluationHandlers(settings.eval_dir), lang_radio, evaluation_tab)
        tabs = [(feedback_tab, "tab.feedback"), (documents_tab, "tab.documents"), (hotline_tab, "tab.hotline"),
                (evaluation_tab, "tab.evaluation")]
        bindings += [(tab, lambda lg, key=key: gr.update(label=t(lg, key))) for tab, key in tabs]
        bindings += [(title, lambda lg: gr.update(value=t(lg, "staff.title"))),
                     (logout, lambda lg: gr.update(
                         value=f'<a href="/logout" id="staff-logout">{render.esc(t(lg, "staff.logout"))}</a>'))]
        wire_language(blocks, lang_radio, bindings)
    blocks.queue(default_concurrency_limit=2, max_size=64)
    return blocks
