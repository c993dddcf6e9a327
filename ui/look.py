"""What both apps look like: the theme (the visitor's own fonts), the CSS (phones included) and the
script that keeps `<html lang>` on the language the page is shown in."""

from __future__ import annotations

import gradio as gr

from ui.texts import DEFAULT_LANGUAGE

CSS = """
.faq-sources summary, .faq-passage summary { cursor: pointer; font-weight: 600; }
ul.faq-source-list { list-style: none; padding-left: .2em; margin-top: .3em; }
ul.faq-source-list li { margin-bottom: .5em; }
.faq-source-list q { font-style: italic; }
.faq-scroll { max-width: 100%; overflow-x: auto; }
table.faq-hits { width: 100%; font-size: .92em; }
table.faq-hits caption { text-align: left; font-weight: 600; padding: .3em 0; }
table.faq-hits td { vertical-align: top; }
table.faq-hits th { white-space: nowrap; }
table.faq-hits th:nth-child(2) { width: 48%; }
table.faq-hits mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.faq-best { background: #dcfce7; }
meter.faq-relevance { width: 5em; }
.faq-wrap { flex-wrap: wrap; }
#faq-header { flex-wrap: wrap; align-items: flex-start; }
#faq-title h1 { margin-bottom: .2em; }
#faq-footer { font-size: .9em; opacity: .85; }
@media (max-width: 640px) {
  #faq-header > *, #faq-language { flex: 1 1 100% !important; min-width: 0 !important; }
  #faq-language { padding-top: 4px !important; padding-bottom: 4px !important; }
  #faq-title h1 { font-size: 1.5em; }
  #faq-title p { font-size: .95em; margin: 0; }
  #faq-chatbot { height: min(46vh, 420px) !important; min-height: 220px; }
  table.faq-hits { font-size: .85em; }
  table.faq-hits th:nth-child(2) { width: auto; }
}
"""

# Runs once when the page has loaded (Gradio's `js`): the page starts in the default language.
ON_LOAD_JS = f"() => {{ document.documentElement.lang = '{DEFAULT_LANGUAGE}'; }}"
# Runs in the browser before the relabel event: `lg` is the chosen language.
SET_LANG_JS = "(lg) => { document.documentElement.lang = (lg === 'en' ? 'en' : 'de'); return lg; }"
# Gradio scopes the CSS above to the page's content; the page margin sits outside it, so it goes here.
HEAD = ("<style>@media (max-width: 640px) { .gradio-container .main.app { padding-left: 10px !important;"
        " padding-right: 10px !important; } }</style>")


def theme() -> gr.themes.Base:
    """The default theme with the visitor's own fonts: no font request leaves for a third party."""
    return gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "Arial", "sans-serif"],
                             font_mono=["ui-monospace", "Consolas", "monospace"])
