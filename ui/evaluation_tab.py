"""The staff app's evaluation tab: the latest `gocluster-faq eval --compare` (compare.md in
Settings.eval_dir), read afresh each time the tab is opened."""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from ui.texts import DEFAULT_LANGUAGE, t

log = logging.getLogger(__name__)
FILE = "compare.md"
MAX_CHARS = 200_000  # a comparison of a few hundred questions is ~60,000; more is cut, not loaded whole


class EvaluationHandlers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def latest(self, lang: str) -> str:
        lang = lang if lang in ("de", "en") else DEFAULT_LANGUAGE
        path = self.folder / FILE
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise OSError("not a regular file")
            with path.open(encoding="utf-8", errors="replace") as fh:
                text = fh.read(MAX_CHARS + 1)
        except FileNotFoundError:
            return t(lang, "staff.eval_none")
        except OSError as exc:  # the path is for the log only
            log.warning("staff view cannot read %s error=%s", path, exc)
            return f"⚠️ {t(lang, 'staff.eval_unreadable')}"
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS] + f"\n\n{t(lang, 'staff.eval_truncated')}"
        when = datetime.fromtimestamp(info.st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
        return f"_{t(lang, 'staff.eval_updated', when=when)}_\n\n{text}"


def build_evaluation_tab(handlers: EvaluationHandlers, lang_radio: gr.Radio, tab: gr.Tab) -> list[tuple[Any, Any]]:
    lang = DEFAULT_LANGUAGE
    title = gr.Markdown(f"### {t(lang, 'staff.eval_title')}")
    refresh = gr.Button(t(lang, "staff.refresh"), scale=0, size="md", elem_id="eval-refresh")
    body = gr.Markdown(elem_id="staff-eval")
    gr.on([refresh.click, tab.select], handlers.latest, [lang_radio], [body],
          api_name="ui_staff_evaluation", api_visibility="private")
    return [(title, lambda lg: gr.update(value=f"### {t(lg, 'staff.eval_title')}")),
            (refresh, lambda lg: gr.update(value=t(lg, "staff.refresh")))]
