"""Batch answering (`ask --jsonl`) and the readable CLI rendering of an answer."""

from __future__ import annotations

import json
import logging
from typing import IO, BinaryIO

from bot.faq_bot import FaqBot
from bot.results import Answer
from indexer.errors import FaqError

log = logging.getLogger(__name__)


def answer_jsonl(bot: FaqBot, stdin: BinaryIO, out: IO[str], err: IO[str] | None = None) -> int:
    """One answer line per input line; a bad line is reported in its own output line, the batch goes on."""
    failures = 0
    for number, raw in enumerate(stdin, start=1):
        if not raw.strip():
            continue
        record: dict = {"line": number, "id": None}
        try:
            item = json.loads(raw.decode("utf-8-sig"))  # -sig: a BOM (Windows editors) is not an error
            if isinstance(item, dict):
                record["id"] = item.get("id")
            record.update(answer_record(answer_item(bot, item)))
        except UnicodeDecodeError:
            record["id"] = _readable_id(raw)
            record["error"] = "invalid UTF-8 on this line"
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
            record["error"] = f"malformed JSON line: {exc}"
        except FaqError as exc:
            record["error"] = str(exc)
        except Exception as exc:  # one unexpected failure must not end a long batch
            log.warning("batch line=%d failed error=%r", number, exc)
            record["error"] = f"internal error ({exc.__class__.__name__}) on this line"
        failures += "error" in record
        out.write(_json_line(record) + "\n")
        out.flush()
    if failures and err is not None:
        err.write(f"{failures} line(s) could not be answered; see their \"error\" field\n")
    return 0


def answer_item(bot: FaqBot, item: object) -> Answer:
    """Answer one decoded batch line ({"question": ..., "history": [...]}): the path of every `ask --jsonl`
    line, and the one the evaluation calls, so what is measured is what users get."""
    if not isinstance(item, dict) or "question" not in item:
        raise ValueError('expected an object with a "question" field')
    history = item.get("history")
    if history is not None and not isinstance(history, list):
        raise ValueError('"history" must be a list of {"role": ..., "content": ...} objects')
    return bot.answer(item["question"], history)  # a non-text question: QuestionError


def answer_record(answer: Answer) -> dict:
    """The output line of an answer; the retrieved passages without their text, which would double its size."""
    record = answer.to_dict()
    record["retrieved"] = [{k: v for k, v in r.items() if k != "text"} for r in record["retrieved"]]
    return record


def _readable_id(raw: bytes) -> object:
    """The "id" of a line that is not valid UTF-8, when the rest of it still parses."""
    try:
        item = json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return item.get("id") if isinstance(item, dict) else None


def _json_line(record: dict) -> str:
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (e.g. in an "id"): escape it rather than crash the batch
        line = json.dumps(record)
    return line


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
