"""How much of the conversation a question needs: the possible readings of a question.

No word lists: every question is read alone, and, when there is a conversation, also with the previous
question(s) and with the passages the previous answer cited as candidates. FaqBot scores every reading
with the answer selector and keeps the most confident one. Each reading tells the selector how it relates
to the conversation (`later_turn`, `previous`): the answerability model has learned, on every reading of
the development conversations, that a later turn read alone is often confidently wrong ("Und wer hat das
unterstützt?" answers another question) and that an old question blurs a new topic. Reading more of the
conversation may also cost a margin (`gocluster-faq train` calibrates it; 0 once the model knew this).

History entries are `{"role": "user" | "assistant", "content": str}`; an assistant entry may carry the
`citations` of that answer (dicts with a `chunk_id`), as the web chat, `ask --jsonl` and the API pass them.

>>> [r.kind for r in readings("Und was kostet das?", [{"role": "user", "content": "Was ist das Silber-Label?"}])]
['alone', 'previous question']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.question import clean_question
from indexer.errors import QuestionError

MAX_TURNS = 20  # only the end of a long conversation matters; bounds the work per question
MAX_CHARS = 2_000


@dataclass(frozen=True)
class Reading:
    kind: str
    question: str  # the question as asked (what kind of thing it asks for comes from here)
    text: str  # what retrieval reads
    history_chunks: tuple[str, ...] = ()
    cost: float = 0.0  # subtracted from the selector's probability when readings compete
    later_turn: bool = False  # the question follows others in a conversation
    previous: int = 0  # how many previous questions `text` includes

    @property
    def focus(self) -> str:
        """What the answer must cover: the retrieval text."""
        return self.text


# What reading more of the conversation costs; `gocluster-faq train` calibrates these margins on the
# development conversations and stores them in bot/selector.json (these are the defaults before that).
DEFAULT_COSTS = {"previous passages": 0.02, "previous question": 0.05, "two previous questions": 0.10}


def readings(question: str, history: Sequence[dict] | None,
             costs: dict[str, float] | None = None) -> list[Reading]:
    cost = {**DEFAULT_COSTS, **(costs or {})}
    turns = _turns(history)
    users = [t["content"] for t in turns if t["role"] == "user"]
    cited = _cited_chunks(turns)
    later = bool(users or cited)
    out = [Reading("alone", question, question, later_turn=later)]
    if cited:
        out.append(Reading("previous passages", question, question, cited, cost["previous passages"], later))
    if users:
        out.append(Reading("previous question", question, f"{users[-1]} {question}", cited,
                           cost["previous question"], later, 1))
    if len(users) >= 2:
        out.append(Reading("two previous questions", question, f"{users[-2]} {users[-1]} {question}", cited,
                           cost["two previous questions"], later, 2))
    return out


def _turns(history: Sequence[dict] | None) -> list[dict]:
    if not history or not isinstance(history, list | tuple):
        return []
    turns = [t for t in list(history)[-MAX_TURNS:] if isinstance(t, dict) and t.get("role") in ("user", "assistant")
             and isinstance(t.get("content"), str)]
    cleaned = [dict(t, content=_clean(t["content"])) for t in turns]
    return [t for t in cleaned if t["content"]]


def _clean(text: str) -> str:
    """History comes from outside like the question: the same cleaning (a lone surrogate crashes the
    tokenizer), cut to MAX_CHARS."""
    try:
        return clean_question(text[:MAX_CHARS], MAX_CHARS)
    except QuestionError:
        return ""


def _cited_chunks(turns: list[dict]) -> tuple[str, ...]:
    """The chunks the last assistant answer cited (its passages hold the next fact as often as not)."""
    for turn in reversed(turns):
        if turn["role"] != "assistant":
            continue
        citations = turn.get("citations")
        if not isinstance(citations, list):
            return ()
        ids = [c.get("chunk_id") for c in citations[:10] if isinstance(c, dict)]
        return tuple(i for i in ids if isinstance(i, str) and len(i) <= 64)
    return ()
