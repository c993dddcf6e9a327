"""The staff tab: recent thumbs-down and content gaps as tables, and CSV exports."""

from __future__ import annotations

import functools
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from bot.feedback import FeedbackStore, FeedbackUnavailable
from ui.texts import DEFAULT_LANGUAGE, t

log = logging.getLogger(__name__)
NEGATIVE_COLUMNS = ("created_at", "question", "answer", "comment", "language", "index_version")
GAP_COLUMNS = ("question", "times", "thumbs_down", "last_asked", "language")
SNIPPET_CHARS = 300


def _cell(row: dict, column: str) -> str:
    value = "" if row.get(column) is None else str(row[column])
    if column in ("created_at", "last_asked"):
        return value[:16].replace("T", " ")  # UTC, to the minute
    return value[:SNIPPET_CHARS]


def _table(rows: list[dict], columns: tuple[str, ...]) -> dict[str, Any]:
    data = [[_cell(r, c) for c in columns] for r in rows]
    return {"headers": list(columns), "data": data or [["" for _ in columns]]}


class StaffHandlers:
    """Callbacks of the staff tab (plain methods). Exports go to a private temporary folder."""

    def __init__(self, store: FeedbackStore, export_dir: Path | None = None) -> None:
        self.store = store
        self.export_dir = export_dir

    def tables(self, lang: str) -> tuple[dict, dict, str]:
        """(thumbs-down table, content-gap table, status line)."""
        try:
            negative, gaps, n = self.store.recent_negative(), self.store.content_gaps(), self.store.count()
        except FeedbackUnavailable as exc:
            log.warning("staff view cannot read feedback error=%s", exc)
            return _table([], NEGATIVE_COLUMNS), _table([], GAP_COLUMNS), f"⚠️ {exc}"
        return _table(negative, NEGATIVE_COLUMNS), _table(gaps, GAP_COLUMNS), t(lang, "staff.count", n=n)

    def export(self, kind: str) -> str | None:
        if self.export_dir is None:  # one private folder per app run
            self.export_dir = Path(tempfile.mkdtemp(prefix="gocluster-feedback-"))
        folder = self.export_dir
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        try:
            return str(self.store.export_csv(folder / f"feedback-{kind}-{stamp}.csv", kind=kind))  # type: ignore[arg-type]
        except FeedbackUnavailable as exc:
            log.warning("export failed error=%s", exc)
            raise gr.Error(str(exc)) from exc

    def export_file(self, kind: str) -> Any:
        """The export as an update that also shows the (initially hidden) file box."""
        return gr.update(value=self.export(kind), visible=True)


def build_staff_tab(handlers: StaffHandlers, lang_radio: gr.Radio, tab: gr.Tab) -> list[tuple[Any, Any]]:
    """Lay out the staff view inside `tab`; tables load when the tab is opened or refreshed."""
    lang = DEFAULT_LANGUAGE
    with gr.Row():
        refresh = gr.Button(t(lang, "staff.refresh"), scale=0, size="md", elem_id="staff-refresh")
        status = gr.Markdown()
    negative_title = gr.Markdown(f"### {t(lang, 'staff.negative')}")
    negative = gr.Dataframe(interactive=False, wrap=True, elem_id="staff-negative",
                            column_widths=["11%", "24%", "32%", "18%", "5%", "10%"])
    gaps_title = gr.Markdown(f"### {t(lang, 'staff.gaps')}")
    gaps = gr.Dataframe(interactive=False, wrap=True, elem_id="staff-gaps",
                        column_widths=["52%", "10%", "10%", "18%", "10%"])
    with gr.Row():
        buttons = {kind: gr.Button(t(lang, f"staff.export_{kind}"), size="sm")
                   for kind in ("negative", "gaps", "all")}
    file = gr.File(label=t(lang, "staff.file"), interactive=False, visible=False)
    gr.on([refresh.click, tab.select], handlers.tables, [lang_radio], [negative, gaps, status],
          api_name="ui_staff_tables", api_visibility="private")
    for kind, button in buttons.items():
        button.click(functools.partial(handlers.export_file, kind), None, file, api_name=f"ui_export_{kind}",
                     api_visibility="private")
    return [
        (refresh, lambda lg: gr.update(value=t(lg, "staff.refresh"))),
        (negative_title, lambda lg: gr.update(value=f"### {t(lg, 'staff.negative')}")),
        (gaps_title, lambda lg: gr.update(value=f"### {t(lg, 'staff.gaps')}")),
        (file, lambda lg: gr.update(label=t(lg, "staff.file"))),
        *[(button, lambda lg, kind=kind: gr.update(value=t(lg, f"staff.export_{kind}")))
          for kind, button in buttons.items()],
    ]
