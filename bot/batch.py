"""Batch answering (`ask --jsonl`) and the readable CLI rendering of an answer."""

from __future__ import annotations

import json
from typing import IO, BinaryIO

from bot.faq_bot import FaqBot
from bot.results import Answer
from indexer.errors import FaqError


def answer_jsonl(bot: FaqBot, stdin: BinaryIO, out: IO[str], err: IO[str] | None = None) -> int:
    """One answer line per input line; a bad line is reported in its own output line, the batch goes on."""
    failures = 0
    for number, raw in enumerate(stdin, start=1):
        if not raw.strip():
            continue
        record: dict = {"line": number}
        try:
            item = json.loads(raw.decode("utf-8"))
            if not isinstance(item, dict) or "question" not in item:
                raise ValueError('expected an object with a "question" field')
            record["id"] = item.get("id")
            record.update(bot.answer(str(item["question"]), item.get("history")).to_dict())
        except UnicodeDecodeError:
            record["error"] = "invalid UTF-8 on this line"
        except ValueError as exc:
            record["error"] = f"malformed JSON line: {exc}"
        except FaqError as exc:
            record["error"] = str(exc)
        failures += "error" in record
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    if failures and err is not None:
        err.write(f"{failures} line(s) could not be answered; see their \"error\" field\n")
    return 0


def print_answer(answer: Answer, out: IO[str]) -> None:
    out.write(answer.text + "\n")
    for note in answer.notes:
        out.write(f"\nNote: {note}\n")
    if answer.citations:
        out.write("\nSources:\n")
    for c in answer.citations:
        where = f"p. {c.page}" if c.page else (c.section or "")
        out.write(f"[{c.n}] {c.title} ({c.date_label or c.date or 'undated'}, {c.language})"
                  f"{' - ' + where if where else ''}\n")
        for line in c.quote.splitlines():
            out.write(f"    > {line}\n")
    out.write(f"\n({answer.timings_ms.get('total', 0):.0f} ms)\n")
