"""The conversation loader and the project's own multi-turn conversation sets."""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from pathlib import Path

import pytest

from evaluation.conversations import Conversation, Turn, load_conversations
from evaluation.questions import QuestionFileError, facts_match

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "evaluation" / "data"
CORPUS = ROOT / "corpus"
CONVERSATION_FILES = (DATA / "conversations-dev.jsonl", DATA / "conversations-dev-2.jsonl",
                      DATA / "conversations-dev-3.jsonl", DATA / "conversations-dev-4.jsonl",
                      DATA / "conversations-dev-5.jsonl", DATA / "conversations-dev-6.jsonl",
                      DATA / "conversations-test.jsonl")
CATEGORIES = {
    "eligibility", "criteria", "process", "benefits", "costs", "labels", "contact", "facts", "history",
    "changing-figures", "unanswerable",
}
PASSAGE = 1400  # characters: every fact of a turn must stand within one stretch this long of one source

FIRST = {
    "question": "Wann war die erste Programmphase?", "lang": "de", "kind": "first", "category": "history",
    "facts": [["2012"], ["2015"]], "answerable": True, "sources": ["go-cluster-jahrzehnt-publikation-2023-de.txt"],
}
FOLLOW = {
    "question": "and the second one?", "lang": "en", "kind": "follow-up", "category": "history",
    "facts": [["2015"], ["2020"]], "answerable": True,
}
UNANSWERABLE = {
    "question": "Und was hat das gekostet?", "lang": "de", "kind": "follow-up", "category": "unanswerable",
    "facts": [], "answerable": False, "sources": [],
}


def conv_line(conv_id: str = "conv-mix-01", turns: object = None, **changes) -> str:
    obj = {"id": conv_id, "turns": [FIRST, FOLLOW] if turns is None else turns, **changes}
    return json.dumps({k: v for k, v in obj.items() if v is not ...}, ensure_ascii=False)


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_error(path: Path, lineno: int, fragment: str) -> None:
    with pytest.raises(QuestionFileError) as info:
        load_conversations(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{lineno}:"), message
    assert fragment in message, message
    assert info.value.line == lineno


# --------------------------------------------------------------------------- loader


def test_load_valid_file_builds_frozen_conversations(tmp_path):
    path = write_lines(tmp_path, conv_line(), "", conv_line("c2", [FIRST, FOLLOW, UNANSWERABLE], note="extra"))
    convs = load_conversations(path)
    assert [c.id for c in convs] == ["conv-mix-01", "c2"]
    assert convs[0] == Conversation(
        id="conv-mix-01",
        turns=(
            Turn(question="Wann war die erste Programmphase?", lang="de", kind="first", category="history",
                 facts=(("2012",), ("2015",)), answerable=True,
                 sources=("go-cluster-jahrzehnt-publikation-2023-de.txt",)),
            Turn(question="and the second one?", lang="en", kind="follow-up", category="history",
                 facts=(("2015",), ("2020",)), answerable=True, sources=()),
        ),
    )
    last = convs[1].turns[2]
    assert not last.answerable and last.facts == () and last.kind == "follow-up"
    with pytest.raises(AttributeError):
        convs[0].id = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        last.kind = "switch"  # type: ignore[misc]


def test_malformed_json_names_file_and_line(tmp_path):
    path = write_lines(tmp_path, conv_line(), "", '{"id": "broken", ')
    assert_error(path, 3, "malformed JSON")


def test_duplicate_ids_are_rejected(tmp_path):
    path = write_lines(tmp_path, conv_line(), conv_line())
    assert_error(path, 2, "duplicate id 'conv-mix-01' (first on line 1)")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("[1, 2]", "expected a JSON object"),
        (conv_line(turns=...), "missing field(s): turns"),
        (conv_line(conv_id=""), "'id' must be a non-empty string"),
        (conv_line(turns="first"), "'turns' must be a list of 2 to 4 turns"),
        (conv_line(turns=[FIRST]), "'turns' must be a list of 2 to 4 turns"),
        (conv_line(turns=[FIRST, FOLLOW, FOLLOW, FOLLOW, FOLLOW]), "'turns' must be a list of 2 to 4 turns"),
        (conv_line(turns=[FIRST, "and then?"]), "turn 2: expected a JSON object"),
        (conv_line(turns=[FOLLOW, FOLLOW]), "turn 1: the first turn must have kind 'first'"),
        (conv_line(turns=[FIRST, FIRST]), "turn 2: only the first turn may have kind 'first'"),
        (conv_line(turns=[FIRST, {**FOLLOW, "kind": "followup"}]), "turn 2: 'kind' must be one of"),
        (conv_line(turns=[FIRST, {k: v for k, v in FOLLOW.items() if k != "lang"}]), "turn 2: missing field(s): lang"),
        (conv_line(turns=[FIRST, {**FOLLOW, "question": " "}]), "turn 2: 'question' must be a non-empty string"),
        (conv_line(turns=[FIRST, {**FOLLOW, "answerable": "yes"}]), "turn 2: 'answerable' must be true or false"),
        (conv_line(turns=[FIRST, {**FOLLOW, "facts": [["(unclosed"]]}]), "turn 2: fact group 1: invalid regular"),
        (conv_line(turns=[FIRST, {**FOLLOW, "facts": []}]), "turn 2: an answerable question needs at least one"),
        (conv_line(turns=[FIRST, {**UNANSWERABLE, "facts": [["x"]]}]), "turn 2: an unanswerable question must have"),
        (conv_line(turns=[{**FIRST, "sources": "a.txt"}, FOLLOW]), "turn 1: 'sources' must be a list of strings"),
    ],
)
def test_malformed_conversations_are_rejected(tmp_path, line, fragment):
    path = write_lines(tmp_path, conv_line("fine"), line)
    assert_error(path, 2, fragment)


# --------------------------------------------------------------------------- the shipped sets


def source_text(name: str) -> str:
    """A corpus file with line-break hyphenation joined and whitespace collapsed."""
    text = unicodedata.normalize("NFC", (CORPUS / name).read_text(encoding="utf-8"))
    text = re.sub(r"(\w)-\s*\n\s*(?=[a-zäöüß])", r"\1", text)  # "Sil-\nber-Label" -> "Silber-Label"
    return re.sub(r"\s+", " ", text)


def in_one_passage(facts, text: str) -> bool:
    """True when some stretch of PASSAGE characters holds a match of every fact group."""
    hits = [sorted(m.start() for p in group for m in re.finditer(p, text, re.IGNORECASE)) for group in facts]
    anchors = sorted(set().union(*hits)) if all(hits) else []
    return any(all(bisect_left(h, a) < bisect_right(h, a + PASSAGE) for h in hits) for a in anchors)


@pytest.fixture(scope="module")
def sets() -> dict[str, list[Conversation]]:
    return {path.stem: load_conversations(path) for path in CONVERSATION_FILES}


@pytest.fixture(scope="module")
def all_convs(sets) -> list[Conversation]:
    return [c for convs in sets.values() for c in convs]


def conv_language(conv: Conversation) -> str:
    langs = {t.lang for t in conv.turns}
    return "mix" if len(langs) > 1 else langs.pop()


def test_sizes_and_turn_counts(sets, all_convs):
    assert len(all_convs) >= 130
    assert 30 <= len(sets["conversations-dev"]) <= 40  # the first development set
    assert len(sets["conversations-dev-2"]) >= 50  # written later, for training the selector on readings
    assert len(sets["conversations-dev-3"]) >= 50
    assert len(sets["conversations-dev-4"]) >= 50
    assert len(sets["conversations-dev-5"]) >= 50
    assert len(sets["conversations-dev-6"]) >= 50
    assert len(sets["conversations-test"]) >= 40
    assert {len(c.turns) for c in all_convs} <= {2, 3, 4}


def test_ids_unique_across_files_and_name_the_language(sets, all_convs):
    ids = [c.id for c in all_convs]
    assert len(ids) == len(set(ids))
    for conv in all_convs:
        assert re.fullmatch(rf"conv-{conv_language(conv)}-\d{{2,3}}", conv.id), conv.id


def test_languages_balanced_with_mixed_conversations(sets, all_convs):
    turns = Counter(t.lang for c in all_convs for t in c.turns)
    assert set(turns) == {"de", "en"}
    assert 0.45 <= turns["de"] / sum(turns.values()) <= 0.55, turns
    kinds = Counter(conv_language(c) for c in all_convs)
    assert kinds["mix"] >= 8, kinds
    assert abs(kinds["de"] - kinds["en"]) <= 0.1 * len(all_convs), kinds
    for name, convs in sets.items():
        assert {conv_language(c) for c in convs} == {"de", "en", "mix"}, name


@pytest.mark.parametrize("name", ["conversations-dev", "conversations-dev-2", "conversations-dev-3",
                                  "conversations-dev-4", "conversations-dev-5", "conversations-dev-6",
                                  "conversations-test"])
def test_follow_ups_and_switches_mix(sets, name):
    later = [t for c in sets[name] for t in c.turns[1:]]
    kinds = Counter(t.kind for t in later)
    assert kinds["follow-up"] / len(later) >= 0.60, kinds
    assert kinds["switch"] / len(later) >= 0.25, kinds
    unanswerable_follow_ups = [t for t in later if t.kind == "follow-up" and not t.answerable]
    assert len(unanswerable_follow_ups) >= 2, name
    for lang in ("de", "en"):
        assert {t.kind for t in later if t.lang == lang} == {"follow-up", "switch"}, (name, lang)


def test_categories_and_unanswerable_turns(all_convs):
    for conv in all_convs:
        for turn in conv.turns:
            assert turn.category in CATEGORIES, (conv.id, turn.category)
            assert (turn.category == "unanswerable") == (not turn.answerable), (conv.id, turn.question)


def test_every_fact_stands_in_one_passage_of_each_source(all_convs):
    corpus = {p.name for p in CORPUS.glob("*.txt")}
    texts = {name: source_text(name) for name in corpus}
    failures = []
    for conv in all_convs:
        for turn in conv.turns:
            if not turn.answerable:
                assert not turn.sources, (conv.id, turn.question)
                continue
            assert turn.sources and set(turn.sources) <= corpus, (conv.id, turn.sources)
            failures += [f"{conv.id} {turn.question!r}: not in {s}" for s in turn.sources
                         if not in_one_passage(turn.facts, texts[s])]
    assert not failures, "\n".join(failures)


def test_the_conversation_alone_does_not_satisfy_the_facts(all_convs):
    """Echoing the user's own questions back must not count as a correct answer."""
    for conv in all_convs:
        for i, turn in enumerate(conv.turns):
            if turn.answerable:
                asked = " ".join(t.question for t in conv.turns[: i + 1])
                assert not facts_match(turn.facts, asked), (conv.id, turn.question)
