"""The staff app's document tab: the indexed documents, upload (add or replace) and removal, and the
background index build with its progress bar."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from bot.reindex import BuildStatus, Reindexer
from indexer import store
from indexer.catalog_edit import CorpusEditor, list_documents
from indexer.errors import FaqError
from indexer.settings import Settings
from ui import render
from ui.texts import DEFAULT_LANGUAGE, number, t

log = logging.getLogger(__name__)
COLUMNS = ("title", "file", "language", "date", "pages", "chunks", "indexed_at")
_HEADERS = {"title": "doc.col.title", "file": "doc.col.file", "language": "doc.col.language",
            "date": "doc.col.date", "pages": "doc.col.pages", "chunks": "doc.col.chunks",
            "indexed_at": "doc.col.indexed"}


class DocumentHandlers:
    """Callbacks of the document tab (plain methods). `upload_dir` is where Gradio put uploads."""

    def __init__(self, settings: Settings, editor: CorpusEditor, jobs: Reindexer, upload_dir: Path) -> None:
        self.settings = settings
        self.editor = editor
        self.jobs = jobs
        self.upload_dir = upload_dir

    def rows(self) -> list[dict[str, Any]]:
        try:
            manifest = store.read_manifest(self.settings.index_dir)
        except FaqError:
            manifest = None
        return list_documents(self.settings.corpus_dir, manifest)

    def table(self, lang: str) -> dict[str, Any]:
        data = []
        for row in self.rows():
            indexed = row["indexed_at"]
            data.append([row["title"], row["file"], row["language"].upper(), row["date"],
                         "" if row["pages"] is None else number(row["pages"], lang),
                         "" if row["chunks"] is None else number(row["chunks"], lang),
                         indexed[:16].replace("T", " ") if indexed else t(lang, "doc.not_indexed")])
        return {"headers": [t(lang, _HEADERS[c]) for c in COLUMNS], "data": data or [["" for _ in COLUMNS]]}

    def choices(self) -> list[tuple[str, str]]:
        return [(f"{r['title']} ({r['file']})", r["file"]) for r in self.rows()]

    def prefill(self, file: str | None) -> tuple[Any, Any, Any]:
        """Title, language and date of the chosen document, for a replacement."""
        entry = next((r["entry"] for r in self.rows() if r["file"] == file), None)
        if entry is None:
            return gr.update(), gr.update(), gr.update()
        return entry["title"], entry["language"] or "de", entry["date"]

    def add(self, upload: str | None, title: str, language: str, date: str, lang: str) -> tuple[str, Any]:
        if not upload:
            return self._line(t(lang, "doc.need_file")), gr.update()
        return self._change(lambda: self.editor.add(Path(upload), Path(upload).name, title, language, date),
                            "doc.added", upload, lang)

    def replace(self, file: str | None, upload: str | None, title: str, language: str, date: str,
                lang: str) -> tuple[str, Any]:
        if not file:
            return self._line(t(lang, "doc.need_choice")), gr.update()
        if not upload:
            return self._line(t(lang, "doc.need_file")), gr.update()
        return self._change(lambda: self.editor.replace(file, Path(upload), Path(upload).name, title, language,
                                                        date), "doc.replaced", upload, lang)

    def remove(self, file: str | None, confirmed: bool, lang: str) -> tuple[str, Any]:
        if not file:
            return self._line(t(lang, "doc.need_choice")), gr.update()
        if confirmed is not True:
            return self._line(t(lang, "doc.need_confirm")), gr.update()

        def action() -> str:
            self.editor.remove(file)
            return file

        return self._change(action, "doc.removed", None, lang)

    def progress(self, lang: str) -> str:
        """The build's state as a progress bar and one line."""
        status = self.jobs.status()
        if status.state == "running":
            stage = t(lang, f"doc.stage.{status.stage}") if status.stage else ""
            line = t(lang, "doc.running", stage=stage, done=number(status.done, lang),
                     total=number(status.total, lang))
            return (f'<progress id="doc-progress" max="1" value="{status.fraction:.2f}"></progress> '
                    f"<span>{render.esc(line)}</span>")
        if status.state == "failed":
            return self._line(t(lang, "doc.failed", message=status.message))
        if status.state == "done":
            return self._line(t(lang, "doc.done", summary=status.message.splitlines()[0]), "doc-done")
        return ""

    def poll(self, lang: str, seen: float) -> tuple[str, Any, Any, float]:
        """Timer tick: the progress line; the table and choices only when a build has finished since."""
        status: BuildStatus = self.jobs.status()
        if status.finished_at == seen:
            return self.progress(lang), gr.update(), gr.update(), seen
        return self.progress(lang), self.table(lang), gr.update(choices=self.choices()), status.finished_at

    # -- plumbing ----------------------------------------------------------------------------------
    def _change(self, action: Any, done_key: str, upload: str | None, lang: str) -> tuple[str, Any]:
        try:
            file = action()
        except FaqError as exc:
            return self._line(str(exc)), gr.update()
        except Exception:
            log.exception("document change failed")
            return self._line(t(lang, "error.generic")), gr.update()
        finally:
            self._discard(upload)
        self.jobs.request()
        return self._line(t(lang, done_key, file=file)), gr.update(value=None)

    def _discard(self, upload: str | None) -> None:
        """Delete the uploaded copy Gradio keeps (its folder too), once it is in the corpus."""
        if not upload:
            return
        path = Path(upload).resolve()
        if path.is_relative_to(self.upload_dir.resolve()) and path.parent != self.upload_dir.resolve():
            shutil.rmtree(path.parent, ignore_errors=True)
        elif path.is_relative_to(self.upload_dir.resolve()):
            path.unlink(missing_ok=True)

    @staticmethod
    def _line(text: str, elem: str = "doc-status-line") -> str:
        return f'<p id="{elem}">{render.esc(text)}</p>'


def build_documents_tab(handlers: DocumentHandlers, lang_radio: gr.Radio) -> list[tuple[Any, Any]]:
    lang = DEFAULT_LANGUAGE
    list_title = gr.Markdown(f"### {t(lang, 'doc.list')}")
    progress = gr.HTML(elem_id="doc-progress-box")
    table = gr.Dataframe(value=handlers.table(lang), interactive=False, wrap=True, elem_id="doc-table",
                         column_widths=["26%", "24%", "7%", "14%", "7%", "9%", "13%"])
    upload_title = gr.Markdown(f"### {t(lang, 'doc.upload_title')}")
    with gr.Row(elem_classes="faq-wrap"):
        file = gr.File(label=t(lang, "doc.file"), file_types=[".pdf", ".txt", ".md"], type="filepath",
                       file_count="single", elem_id="doc-file", min_width=240)
        with gr.Column(min_width=240):
            title = gr.Textbox(label=t(lang, "doc.title"), max_length=200, elem_id="doc-title")
            language = gr.Radio([("Deutsch", "de"), ("English", "en")], value="de",
                                label=t(lang, "doc.language"), elem_id="doc-language")
            date = gr.Textbox(label=t(lang, "doc.date"), max_length=10, elem_id="doc-date")
    add = gr.Button(t(lang, "doc.add"), variant="primary", elem_id="doc-add")
    with gr.Row(elem_classes="faq-wrap"):
        choice = gr.Dropdown(handlers.choices(), value=None, label=t(lang, "doc.choose"), elem_id="doc-choice",
                             min_width=240)
        replace = gr.Button(t(lang, "doc.replace"), elem_id="doc-replace", min_width=160)
        confirm = gr.Checkbox(label=t(lang, "doc.confirm"), value=False, elem_id="doc-confirm", min_width=160)
        remove = gr.Button(t(lang, "doc.remove"), variant="stop", elem_id="doc-remove", min_width=120)
    status = gr.HTML(elem_id="doc-status")
    seen = gr.State(0.0)
    private = {"api_visibility": "private"}
    add.click(handlers.add, [file, title, language, date, lang_radio], [status, file], api_name="ui_doc_add",
              **private)
    replace.click(handlers.replace, [choice, file, title, language, date, lang_radio], [status, file],
                  api_name="ui_doc_replace", **private)
    remove.click(handlers.remove, [choice, confirm, lang_radio], [status, file], api_name="ui_doc_remove",
                 **private)
    choice.change(handlers.prefill, [choice], [title, language, date], api_name="ui_doc_prefill", **private)
    gr.Timer(1.0).tick(handlers.poll, [lang_radio, seen], [progress, table, choice, seen],
                       api_name="ui_doc_poll", queue=False, **private)
    return [
        (list_title, lambda lg: gr.update(value=f"### {t(lg, 'doc.list')}")),
        (table, lambda lg: gr.update(value=handlers.table(lg))),
        (upload_title, lambda lg: gr.update(value=f"### {t(lg, 'doc.upload_title')}")),
        (file, lambda lg: gr.update(label=t(lg, "doc.file"))),
        (title, lambda lg: gr.update(label=t(lg, "doc.title"))),
        (language, lambda lg: gr.update(label=t(lg, "doc.language"))),
        (date, lambda lg: gr.update(label=t(lg, "doc.date"))),
        (add, lambda lg: gr.update(value=t(lg, "doc.add"))),
        (choice, lambda lg: gr.update(label=t(lg, "doc.choose"), choices=handlers.choices())),
        (replace, lambda lg: gr.update(value=t(lg, "doc.replace"))),
        (confirm, lambda lg: gr.update(label=t(lg, "doc.confirm"))),
        (remove, lambda lg: gr.update(value=t(lg, "doc.remove"))),
    ]
