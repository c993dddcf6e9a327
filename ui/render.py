"""Pure rendering: answers, sources and search hits to Markdown/HTML, with no gradio import.

Everything that comes from a user or a document passes through `esc` (html.escape) before any
markup is added, so `<script>` typed into a question shows as text. Generated HTML blocks contain no
blank line, so the Markdown renderer never switches back to Markdown inside them.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Sequence

from bot.results import Answer, Citation, Hit
from ui.texts import t

SOURCES_MARK = '<details class="faq-sources"'
_WORD = re.compile(r"\w{3,}", re.UNICODE)


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _flat(value: object) -> str:
    """Escaped and on one line (whitespace runs collapsed)."""
    return esc(" ".join(str(value or "").split()))


def where(page: int | None, section: str, lang: str) -> str:
    """'S. 3 · Aufnahme in das Programm' (unescaped)."""
    parts = [f"{t(lang, 'page')} {page}" if page else "", section or ""]
    return " · ".join(p for p in parts if p)


def answer_body(answer: Answer) -> str:
    """The answer text, escaped; line breaks kept (the chatbot renders them)."""
    return esc(answer.text.strip())


def sources_block(citations: Sequence[Citation], lang: str) -> str:
    """A collapsible HTML block listing each citation: number, title, page/section, date, language, quote."""
    if not citations:
        return ""
    items = []
    for c in citations:
        parts = (where(c.page, c.section, lang), c.date_label, c.language.upper())
        meta = " · ".join(esc(p) for p in parts if p)
        items.append(f'<li><strong>[{int(c.n)}] {_flat(c.title)}</strong><br><small>{meta}</small><br>'
                     f'<q lang="{esc(c.language)}">{_flat(c.quote)}</q></li>')
    return (f'{SOURCES_MARK}><summary>{esc(t(lang, "sources"))} ({len(citations)})</summary>'
            f'<ul class="faq-source-list">{"".join(items)}</ul></details>')


def render_answer(answer: Answer, lang: str) -> str:
    """The chat message: answer text, then the sources block (abstentions may have none)."""
    block = sources_block(answer.citations, lang)
    return f"{answer_body(answer)}\n\n{block}" if block else answer_body(answer)


def stream_steps(answer: Answer, lang: str, max_steps: int = 40) -> Iterator[str]:
    """Growing prefixes of the escaped answer text (about `max_steps` of them), then the full message."""
    body = answer_body(answer)
    cuts = [m.end() for m in re.finditer(r"\S+\s*", body)]
    stride = max(1, len(cuts) // max_steps)
    for i in range(stride - 1, len(cuts) - 1, stride):
        yield body[: cuts[i]].rstrip()
    yield render_answer(answer, lang)


def message_key(content: str) -> str:
    """A short key for a rendered chat message, to find the Answer behind it on a thumb click."""
    return hashlib.blake2b(content.strip().encode(), digest_size=8).hexdigest()


def strip_sources(content: str) -> str:
    """The answer text of a rendered message, without the sources block, unescaped."""
    return html.unescape(content.split(SOURCES_MARK, 1)[0]).strip()


def query_terms(query: str) -> list[str]:
    return sorted({w.lower() for w in _WORD.findall(query or "")}, key=len, reverse=True)


def highlight(text: str, query: str) -> str:
    """Escaped `text` with every word of `query` (3+ letters, any case) wrapped in <mark>."""
    flat = " ".join((text or "").split())
    terms = query_terms(query)
    if not terms:
        return esc(flat)
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(flat):
        out.append(esc(flat[last:m.start()]))
        out.append(f"<mark>{esc(m.group(0))}</mark>")
        last = m.end()
    out.append(esc(flat[last:]))
    return "".join(out)


def render_hits(hits: Sequence[Hit], query: str, lang: str) -> str:
    """A ranked table of passages with the query's words highlighted."""
    if not hits:
        return f"<p>{esc(t(lang, 'hot.no_hits'))}</p>"
    head = "".join(f"<th>{esc(t(lang, k))}</th>" for k in
                   ("col.rank", "col.passage", "col.document", "col.where", "col.date", "col.language",
                    "col.score"))
    rows = []
    for h in hits:
        c = h.chunk
        rows.append(f"<tr><td>{int(h.rank)}</td><td>{highlight(c.text, query)}</td><td>{_flat(c.title)}"
                    f"<br><small>{_flat(c.source)}</small></td><td>{esc(where(c.page, c.section, lang))}</td>"
                    f"<td>{_flat(c.date_label or c.date)}</td><td>{esc(c.language.upper())}</td>"
                    f"<td>{h.score:.3f}</td></tr>")
    caption = esc(t(lang, "hot.hits", n=len(hits), query=" ".join(query.split())))
    return (f'<table class="faq-hits"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def copy_text(answer: Answer, lang: str) -> str:
    """A plain-text answer with its numbered sources, for pasting into an e-mail (not HTML: no escaping)."""
    lines = [answer.text.strip()]
    if answer.citations:
        lines += ["", f"{t(lang, 'sources')}:"]
        for c in answer.citations:
            meta = ", ".join(p for p in (where(c.page, c.section, lang), c.date_label) if p)
            lines.append(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else ""))
    return "\n".join(lines)


def footer(documents: Sequence[dict], phone: str, email: str, lang: str) -> str:
    """Contact line and the list of documents the answers come from (titles and dates)."""
    docs = "; ".join(f"{_flat(d.get('title') or d.get('file'))} ({_flat(d.get('date_label') or '-')})"
                     for d in documents)
    return t(lang, "footer", phone=esc(phone), email=esc(email), documents=docs or "-")
