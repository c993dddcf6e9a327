"""Do citations name the page where the quoted sentence stands? Measured on an index built from the
fixture PDFs of tests/fixtures/make_pdfs.py, whose sidecar knows the page each sentence starts on.

- `chunk_pages`: every sentence of the sidecar, looked up in the index's chunks; `Chunk.page_at` at
  the sentence's offset against the sidecar's page. This is what a citation shows once it takes its
  page from `page_at` (quote offset); the share the chunk's first page (`Chunk.page`) would get right
  is reported beside it.
- `citation_pages`: answers as `gocluster-faq ask --jsonl` writes them (citations with source,
  quote and page): each quoted sentence found in the sidecar, its cited page against the sidecar's.
  With the index given, also the page `page_at` gives at the quote's offset in the cited chunk.

    python -m evaluation.pdf_pages --index DIR --sidecar FILE [--answers answers.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from indexer.chunk import Chunk
from indexer.sentences import split_sentences


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def sentence_pages(sidecar: dict[str, Any]) -> dict[str, dict[str, int]]:
    """source -> normalised sentence -> page (a sentence that stands twice keeps its first page)."""
    table: dict[str, dict[str, int]] = {}
    for source, doc in sidecar.items():
        pages = table.setdefault(source, {})
        for sentence in doc["sentences"]:
            pages.setdefault(_norm(sentence["text"]), int(sentence["page"]))
        for figure in doc.get("figures", []):
            pages.setdefault(_norm(figure["line"]), int(figure["page"]))
    return table


def chunk_pages(chunks: Iterable[Chunk], sidecar: dict[str, Any]) -> dict[str, Any]:
    by_source: dict[str, list[tuple[Chunk, str]]] = {}
    for chunk in sorted(chunks, key=lambda c: (c.source, c.ordinal)):
        by_source.setdefault(chunk.source, []).append((chunk, _norm(chunk.text)))
    total = found = right = first_page_right = 0
    wrong: list[dict[str, Any]] = []
    for source, doc in sidecar.items():
        located = by_source.get(source, [])
        cursor = (0, 0)  # sentences come in reading order: look from where the last one stood
        for sentence in doc["sentences"]:
            total += 1
            text = _norm(sentence["text"])
            hit = _find(located, text, cursor) or _find(located, text, (0, 0))
            if hit is None:
                continue
            found += 1
            index, offset = hit
            cursor = (index, offset + 1)
            chunk = located[index][0]
            page = chunk.page_at(_raw_offset(chunk.text, offset))
            right += page == sentence["page"]
            first_page_right += chunk.page == sentence["page"]
            if page != sentence["page"] and len(wrong) < 20:
                wrong.append({"source": source, "sentence": sentence["text"][:120], "expected": sentence["page"],
                              "page_at": page, "chunk_pages": list(chunk.pages)})
    return {"sentences": total, "found": found, "page_at_right": right, "first_page_right": first_page_right,
            "share_page_at": right / total if total else None,
            "share_first_page": first_page_right / total if total else None,
            "share_found": found / total if total else None, "wrong": wrong}


def _find(located: list[tuple[Chunk, str]], text: str, cursor: tuple[int, int]) -> tuple[int, int] | None:
    for index in range(cursor[0], len(located)):
        offset = located[index][1].find(text, cursor[1] if index == cursor[0] else 0)
        if offset >= 0:
            return index, offset
    return None


def _raw_offset(text: str, normalised_offset: int) -> int:
    """The offset in `text` of the character at `normalised_offset` of its whitespace-collapsed form."""
    count = 0
    previous_space = True
    for index, char in enumerate(text):
        if char == "\u00ad":
            continue
        if char.isspace():
            if previous_space:
                continue
            previous_space = True
        else:
            previous_space = False
        if count == normalised_offset:
            return index
        count += 1
    return len(text)


def citation_pages(answers: Iterable[dict[str, Any]], sidecar: dict[str, Any],
                   chunks: dict[str, Chunk] | None = None) -> dict[str, Any]:
    table = sentence_pages(sidecar)
    quoted = cited_right = located_right = 0
    for answer in answers:
        for citation in answer.get("citations", []):
            pages = table.get(citation.get("source", ""))
            if not pages:
                continue
            chunk = chunks.get(citation.get("chunk_id", "")) if chunks else None
            for sentence in split_sentences(citation.get("quote", "")):
                expected = pages.get(_norm(sentence).rstrip(" …"))
                if expected is None:
                    continue
                quoted += 1
                cited_right += citation.get("page") == expected
                if chunk is not None:
                    offset = _norm(chunk.text).find(_norm(sentence))
                    located_right += offset >= 0 and chunk.page_at(_raw_offset(chunk.text, offset)) == expected
    return {"quoted_sentences": quoted, "cited_page_right": cited_right,
            "share_cited": cited_right / quoted if quoted else None,
            "page_at_right": located_right if chunks else None,
            "share_page_at": located_right / quoted if quoted and chunks else None}


def main(argv: list[str] | None = None) -> int:
    from indexer import store

    parser = argparse.ArgumentParser(prog="python -m evaluation.pdf_pages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="index folder built from the fixture PDFs")
    parser.add_argument("--sidecar", type=Path, required=True, help="the fixture script's pages JSON")
    parser.add_argument("--answers", type=Path, help="answers JSON lines (gocluster-faq ask --jsonl)")
    args = parser.parse_args(argv)
    sidecar = json.loads(args.sidecar.read_text(encoding="utf-8"))
    chunks = store.load_index(args.index).chunks
    report: dict[str, Any] = {"chunks": chunk_pages(chunks, sidecar)}
    if args.answers:
        lines = [json.loads(line) for line in args.answers.read_text(encoding="utf-8").splitlines() if line.strip()]
        report["citations"] = citation_pages(lines, sidecar, {c.id: c for c in chunks})
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
