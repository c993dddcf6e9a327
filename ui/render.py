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
from indexer.chunk import Chunk
from ui.ranking import RankedSentence
from ui.texts import number, t

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
    """Escaped `text` on one line, every word of `query` (3+ letters, any case) wrapped in <mark>."""
    return _highlight(" ".join((text or "").split()), query)


def _highlight(flat: str, query: str) -> str:
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


def mark_sentences(text: str, query: str, best: Sequence[str]) -> str:
    """The passage, escaped, query words highlighted and its best sentences wrapped in <strong>."""
    flat = " ".join((text or "").split())
    pieces, last = [], 0
    for sentence in sorted({s for s in best if s in flat}, key=flat.index):
        at = flat.find(sentence, last)
        if at < 0:
            continue
        pieces += [_highlight(flat[last:at], query),
                   f'<strong class="faq-best">{_highlight(sentence, query)}</strong>']
        last = at + len(sentence)
    pieces.append(_highlight(flat[last:], query))
    return "".join(pieces)


def _source(c: Chunk, lang: str) -> str:
    meta = " · ".join(esc(p) for p in (where(c.page, c.section, lang), c.date_label or c.date) if p)
    return f"{_flat(c.title)}<br><small>{meta}</small>"


def _table(caption: str, head: Sequence[str], rows: Sequence[str], css: str) -> str:
    cells = "".join(f"<th>{esc(h)}</th>" for h in head)
    return (f'<div class="faq-scroll"><table class="{css}"><caption>{esc(caption)}</caption>'
            f'<thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _meter(share: float, label: str) -> str:
    return (f'<meter class="faq-relevance" min="0" max="1" value="{max(0.05, min(1.0, share)):.2f}" '
            f'title="{esc(label)}">{esc(label)}</meter>')


def render_sentences(ranked: Sequence[RankedSentence], query: str, lang: str) -> str:
    """The best answer sentences: rank, the sentence with its whole passage to unfold, relevance, source."""
    if not ranked:
        return f"<p>{esc(t(lang, 'hot.no_sentence'))}</p>"
    rows = []
    for n, r in enumerate(ranked, start=1):
        label = t(lang, "hot.relevance", rank=n, n=len(ranked))
        rows.append(f"<tr><td>{n}</td><td>{highlight(r.text, query)}"
                    f'<details class="faq-passage"><summary>{esc(t(lang, "hot.passage"))}</summary>'
                    f"{mark_sentences(r.hit.chunk.text, query, [r.text])}</details></td>"
                    f"<td>{_meter(r.match, label)}</td><td>{_source(r.hit.chunk, lang)}</td></tr>")
    head = [t(lang, k) for k in ("col.rank", "col.sentence", "col.relevance", "col.source")]
    return _table(t(lang, "hot.sentences"), head, rows, "faq-hits faq-sentences")


def render_hits(hits: Sequence[Hit], query: str, lang: str, best: Sequence[str] = ()) -> str:
    """A ranked table of passages, the query's words highlighted and the best sentences in bold."""
    if not hits:
        return f"<p>{esc(t(lang, 'hot.no_hits'))}</p>"
    top = max(h.score for h in hits)

    def label(h: Hit) -> str:
        return t(lang, "hot.relevance", rank=int(h.rank), n=len(hits))

    rows = []
    for h in hits:
        c = h.chunk
        rows.append(f"<tr><td>{int(h.rank)}</td><td>{mark_sentences(c.text, query, best)}</td><td>{_flat(c.title)}"
                    f"<br><small>{_flat(c.source)}</small></td><td>{esc(where(c.page, c.section, lang))}</td>"
                    f"<td>{_flat(c.date_label or c.date)}</td><td>{esc(c.language.upper())}</td>"
                    f"<td>{_meter(h.score / top if top > 0 else 1.0, label(h))}</td></tr>")
    head = [t(lang, k) for k in ("col.rank", "col.passage", "col.document", "col.where", "col.date",
                                 "col.language", "col.relevance")]
    caption = t(lang, "hot.hits", n=number(len(hits), lang), query=" ".join(query.split()))
    return _table(caption, head, rows, "faq-hits")


def draft_from_sentences(ranked: Sequence[RankedSentence], lang: str, limit: int = 3) -> str:
    """A plain-text draft from the best sentences, each with its source number (so it obeys the filters)."""
    chosen = list(ranked)[:limit]
    if not chosen:
        return t(lang, "hot.no_draft")
    numbers: dict[str, int] = {}
    chunks: dict[int, Chunk] = {}
    lines = []
    for r in chosen:
        n = numbers.setdefault(r.hit.chunk.id, len(numbers) + 1)
        chunks[n] = r.hit.chunk
        lines.append(f"{r.text} [{n}]")
    out = [" ".join(lines), "", f"{t(lang, 'sources')}:"]
    for n, c in chunks.items():
        meta = ", ".join(p for p in (where(c.page, c.section, lang), c.date_label or c.date) if p)
        out.append(f"[{n}] {c.title}" + (f" ({meta})" if meta else ""))
    return "\n".join(out)


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
