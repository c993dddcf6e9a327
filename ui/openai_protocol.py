"""The OpenAI chat-completions protocol as plain functions: read a request, write a completion or chunks.

The answer text carries the markers [n] and, below it, the sources list, so any chat front-end shows
both; the structured citations travel in the extra field `citations` (plus `abstained`,
`index_version`), which the official client exposes as `completion.citations` (a pydantic extra).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from bot.langchain_surfaces import text_pieces
from bot.results import Answer

MODEL_ID = "gocluster-faq"
MAX_MESSAGES = 100
MAX_MESSAGE_CHARS = 20_000  # any one message (the question itself is held to max_question_chars by the bot)
HISTORY_MESSAGES = 10  # the bot reads only the last user turns of the history
_ROLES = {"system", "developer", "user", "assistant"}
_SOURCES = {"de": "Quellen", "en": "Sources"}
_PAGE = {"de": "S.", "en": "p."}


class ApiError(Exception):
    """A request the API refuses: HTTP status, one-line message, OpenAI error type and code."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.code, self.param = status, type_, code, param

    def body(self) -> dict[str, Any]:
        return {"error": {"message": str(self), "type": self.type, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class ChatRequest:
    question: str
    history: list[dict[str, str]]
    stream: bool


def parse_chat_request(body: Any) -> ChatRequest:
    """Check a decoded request body; the last message must be the user's question."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    model = body.get("model")
    if model != MODEL_ID:
        raise ApiError(404, f"the model {str(model)[:80]!r} does not exist; GET /v1/models lists {MODEL_ID!r}",
                       code="model_not_found", param="model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, '"stream" must be true or false', param="stream")
    if body.get("n", 1) != 1:
        raise ApiError(400, '"n" must be 1: the assistant gives one answer', param="n")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, '"messages" must be a non-empty list', param="messages")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"too many messages (at most {MAX_MESSAGES})", param="messages")
    turns = [_message(m, i) for i, m in enumerate(messages)]
    if turns[-1]["role"] != "user":
        raise ApiError(400, "the last message must be the user's question", param="messages")
    history = [t for t in turns[:-1] if t["role"] in ("user", "assistant")][-HISTORY_MESSAGES:]
    return ChatRequest(question=turns[-1]["content"], history=history, stream=stream)


def _message(message: Any, i: int) -> dict[str, str]:
    param = f"messages[{i}]"
    if not isinstance(message, dict) or message.get("role") not in _ROLES:
        raise ApiError(400, f"{param} must be an object with role system, user or assistant", param=param)
    content = message.get("content")
    if isinstance(content, list):  # content parts: only text is understood
        if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                   for p in content):
            raise ApiError(400, f"{param}: only text content is supported", param=param)
        content = "\n".join(p["text"] for p in content)
    if content is None and message["role"] == "assistant":
        content = ""
    if not isinstance(content, str):
        raise ApiError(400, f"{param}: content must be text", param=param)
    if len(content) > MAX_MESSAGE_CHARS:
        raise ApiError(400, f"{param} is too long (at most {MAX_MESSAGE_CHARS:,} characters)", param=param)
    return {"role": message["role"], "content": content}


def answer_content(answer: Answer) -> str:
    """The answer text, its notes, and a sources list numbered like the markers [n]."""
    lang = answer.language if answer.language in _SOURCES else "en"
    parts = [answer.text, *answer.notes]
    if answer.citations:
        lines = [f"{_SOURCES[lang]}:"]
        for c in answer.citations:
            where = ", ".join(x for x in (f"{_PAGE[lang]} {c.page}" if c.page else "", c.section) if x)
            dated = c.date_label or c.date
            lines.append(f"[{c.n}] {c.title}" + (f", {where}" if where else "") + (f" ({dated})" if dated else "")
                         + f": \u201c{c.quote}\u201d")
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def _extras(answer: Answer) -> dict[str, Any]:
    return {"citations": [asdict(c) for c in answer.citations], "abstained": answer.abstained,
            "index_version": answer.index_version}


def _envelope(obj: str, completion_id: str, created: int, answer: Answer) -> dict[str, Any]:
    return {"id": completion_id, "object": obj, "created": created, "model": MODEL_ID,
            "system_fingerprint": answer.index_version or None}


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(answer: Answer, completion_id: str | None = None) -> dict[str, Any]:
    body = _envelope("chat.completion", completion_id or new_completion_id(), int(time.time()), answer)
    body["choices"] = [{"index": 0, "message": {"role": "assistant", "content": answer_content(answer)},
                        "finish_reason": "stop", "logprobs": None}]
    return body | _extras(answer)


def stream_events(answer: Answer, completion_id: str | None = None) -> list[str]:
    """The server-sent events of a streamed answer: role, text pieces, the final chunk with the
    citations, then [DONE]."""
    completion_id, created = completion_id or new_completion_id(), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = _envelope("chat.completion.chunk", completion_id, created, answer)
        body["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        return f"data: {json.dumps(body | extra, ensure_ascii=False)}\n\n"

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in text_pieces(answer_content(answer))]
    events.append(chunk({}, "stop", **_extras(answer)))
    events.append("data: [DONE]\n\n")
    return events
