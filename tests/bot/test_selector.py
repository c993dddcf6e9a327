"""The answer selector: its linear models and trees, the plain-JSON round trip, scoring, and refusing bad files."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.features import FEATURES
from bot.selector import (
    DEFAULT_SELECTOR,
    FORMAT,
    RANKING_FEATURES,
    TOP_UNIT_FEATURES,
    Linear,
    Selector,
    SelectorError,
    Trees,
    question_features,
)

UNIT_NAMES = ("dense", "keyword_coverage", "is_question")
TOP_NAMES = ("top_score", "margin", "top_share", "keyword_coverage")


def selector(threshold: float = 0.4) -> Selector:
    ranker = Linear(UNIT_NAMES, np.array([0.5, 0.0, 0.0]), np.array([0.25, 1.0, 1.0]), np.array([1.0, 2.0, -3.0]))
    answerability = Linear(TOP_NAMES, np.zeros(4), np.ones(4), np.array([0.5, 1.0, 0.0, 2.0]), bias=-1.0)
    return Selector(ranker, answerability, threshold, {"questions": 3})


FEATURES_3 = np.array([[0.75, 0.5, 0.0],   # score (0.75-0.5)/0.25 + 1.0 = 2.0
                       [0.5, 1.0, 1.0],    # 0 + 2 - 3 = -1.0
                       [1.0, 0.0, 0.0]])   # 2.0 + 0 = 2.0 (a tie: the first stays on top)


def test_linear_standardises_then_weighs():
    ranker = selector().ranker
    assert ranker(FEATURES_3).tolist() == pytest.approx([2.0, -1.0, 2.0])


def test_question_features_describe_the_ranking_and_its_top_unit():
    scores = np.array([2.0, -1.0, 1.0])
    top = question_features(scores, FEATURES_3, UNIT_NAMES, TOP_NAMES)
    share = 1.0 / (1.0 + math.exp(-3.0) + math.exp(-1.0))
    assert top.tolist() == pytest.approx([2.0, 1.0, share, 0.5])  # keyword_coverage of the top unit (row 0)
    single = question_features(np.array([0.7]), FEATURES_3[:1], UNIT_NAMES, TOP_NAMES)
    assert single.tolist() == pytest.approx([0.7, 5.0, 1.0, 0.5])  # alone: a fixed wide margin


def test_entropy_is_low_when_one_candidate_stands_out_and_high_when_all_are_alike():
    names = ("entropy",)
    clear = question_features(np.array([9.0, 0.0, 0.0]), FEATURES_3, UNIT_NAMES, names)[0]
    alike = question_features(np.array([1.0, 1.0, 1.0]), FEATURES_3, UNIT_NAMES, names)[0]
    assert clear < 0.01
    assert alike == pytest.approx(math.log(3))
    assert question_features(np.array([0.7]), FEATURES_3[:1], UNIT_NAMES, names)[0] == pytest.approx(0.0, abs=1e-9)


def test_score_gives_the_ranker_scores_and_the_probability_of_the_top_unit():
    scores, p = selector().score(FEATURES_3)
    assert scores.tolist() == pytest.approx([2.0, -1.0, 2.0])
    z = 0.5 * 2.0 + 1.0 * 0.0 + 2.0 * 0.5 - 1.0  # top score, margin to the tied runner-up, coverage, bias
    assert p == pytest.approx(1.0 / (1.0 + math.exp(-z)))


def test_score_of_no_candidates_is_empty_and_zero():
    scores, p = selector().score(np.zeros((0, 3)))
    assert scores.shape == (0,) and p == 0.0


def test_a_selector_round_trips_through_its_json_file(tmp_path):
    path = tmp_path / "selector.json"
    original = selector()
    original.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["ranker"]["features"] == list(UNIT_NAMES)
    loaded = Selector.load(path)
    assert loaded.names == UNIT_NAMES and loaded.threshold == 0.4 and loaded.meta == {"questions": 3}
    for a, b in ((loaded.ranker, original.ranker), (loaded.answerability, original.answerability)):
        assert a.names == b.names and a.bias == b.bias
        for field in ("mean", "scale", "weights"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert loaded.score(FEATURES_3)[1] == original.score(FEATURES_3)[1]


# Two trees over UNIT_NAMES. Tree 0: dense <= 0.6 -> leaf 0 (-1.0); else keyword_coverage <= 0.5 -> leaf 1
# (0.5), else leaf 2 (2.0). Tree 1 has no split: its leaf, 0.25, for everyone.
TREES = [{"feature": [0, 1], "threshold": [0.6, 0.5], "left": [-1, -2], "right": [1, -3], "leaf": [-1.0, 0.5, 2.0]},
         {"feature": [], "threshold": [], "left": [], "right": [], "leaf": [0.25]}]


def test_trees_send_a_candidate_down_each_tree_and_add_the_leaves():
    trees = Trees.of(UNIT_NAMES, TREES)
    x = np.array([[0.5, 0.9, 0.0],    # tree 0 leaf 0
                  [0.6, 0.9, 0.0],    # equal to the threshold: left, as LightGBM decides
                  [0.7, 0.5, 1.0],    # right, then left: leaf 1
                  [0.7, 0.51, 1.0]])  # right, right: leaf 2
    assert trees(x).tolist() == pytest.approx([-0.75, -0.75, 0.75, 2.25])
    assert trees(np.zeros((0, 3))).shape == (0,)


def test_a_selector_with_trees_round_trips_exactly(tmp_path):
    path = tmp_path / "selector.json"
    trees = Trees.of(UNIT_NAMES, [{**TREES[0], "threshold": [0.1 + 0.2, 1 / 3]}, TREES[1]])
    replace(selector(), ranker=trees).save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["ranker"]["kind"] == "trees" and data["ranker"]["trees"][0]["threshold"] == [0.1 + 0.2, 1 / 3]
    loaded = Selector.load(path).ranker
    for field in ("feature", "threshold", "left", "right", "splits", "leaf"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(trees, field))


def test_the_conversation_margin_round_trips_and_defaults_to_none(tmp_path):
    path = tmp_path / "selector.json"
    replace(selector(), conversation_margin=0.2).save(path)
    assert Selector.load(path).conversation_margin == 0.2
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["conversation_margin"]  # a file from before the margin
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Selector.load(path).conversation_margin == 0.0


def test_a_later_turn_is_ranked_by_the_conversation_ranker_and_a_single_question_by_the_ranker():
    # the conversation ranker prefers the unit the ranker puts last (keyword_coverage > 0.5: +2)
    conversation = Trees.of(UNIT_NAMES, [{"feature": [1], "threshold": [0.5], "left": [-1], "right": [-2],
                                          "leaf": [0.0, 2.0]}])
    judge = Linear(TOP_NAMES, np.zeros(4), np.ones(4), np.array([0.0, 0.0, 0.0, -1.0]), bias=0.5)
    both = replace(selector(), conversation_ranker=conversation, conversation_answerability=judge)
    alone, p_alone = both.score(FEATURES_3)
    later, p_later = both.score(FEATURES_3, later_turn=True)
    assert alone.tolist() == pytest.approx([2.0, -1.0, 2.0]) and int(np.argmax(alone)) == 0
    plain, p_plain = selector().score(FEATURES_3)
    assert alone.tolist() == plain.tolist() and p_alone == p_plain, "a single question: as without them"
    assert later.tolist() == [0.0, 2.0, 0.0] and int(np.argmax(later)) == 1
    assert p_later == pytest.approx(1.0 / (1.0 + math.exp(-(0.5 - 1.0))))  # the top unit's keyword_coverage, 1.0
    assert selector().score(FEATURES_3, later_turn=True)[0].tolist() == alone.tolist(), "none: the ranker"


def test_the_conversation_ranker_round_trips_and_a_file_without_it_has_none(tmp_path):
    path = tmp_path / "selector.json"
    trees = Trees.of(UNIT_NAMES, TREES)
    judge = replace(selector().answerability, bias=0.25)
    replace(selector(), conversation_ranker=trees, conversation_answerability=judge).save(path)
    loaded = Selector.load(path)
    for field in ("feature", "threshold", "left", "right", "splits", "leaf"):
        np.testing.assert_array_equal(getattr(loaded.conversation_ranker, field), getattr(trees, field))
    assert loaded.conversation_answerability.bias == 0.25
    np.testing.assert_array_equal(loaded.conversation_answerability.weights, judge.weights)
    selector().save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert not {"conversation_ranker", "conversation_answerability"} & set(data)
    assert Selector.load(path).conversation_ranker is None


def test_a_zero_scale_is_read_as_one():
    data = selector().ranker.to_dict()
    data["scale"] = [0.0, 2.0, 0.0]
    assert Linear.from_dict(data).scale.tolist() == [1.0, 2.0, 1.0]


def bad_file(tmp_path: Path, mutate) -> Path:
    data = selector().to_dict()
    mutate(data)
    path = tmp_path / "selector.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def trees_dict(**tree0) -> dict:
    return Trees.of(UNIT_NAMES, TREES).to_dict() | {"trees": [{**TREES[0], **tree0}, TREES[1]]}


def drop(key):
    return lambda d: d.pop(key)


BAD = [
    pytest.param(lambda d: d.update(format=1), "does not fit this version", id="old-format"),
    pytest.param(lambda d: d["ranker"]["features"].__setitem__(0, "shoe_size"), "shoe_size", id="unknown-feature"),
    pytest.param(lambda d: d["answerability"]["features"].__setitem__(3, "colour"), "colour",
                 id="unknown-question-feature"),
    pytest.param(drop("threshold"), "cannot be read", id="no-threshold"),
    pytest.param(drop("ranker"), "cannot be read", id="no-ranker"),
    pytest.param(lambda d: d["ranker"]["weights"].pop(), "cannot be read", id="weight-count"),
    pytest.param(lambda d: d["ranker"].update(mean="x"), "cannot be read", id="not-numbers"),
    pytest.param(lambda d: d.update(conversation_margin=-0.1), "cannot be read", id="negative-margin"),
    pytest.param(lambda d: d["ranker"].update(kind="forest"), "cannot be read", id="unknown-ranker-kind"),
    pytest.param(lambda d: d.update(ranker=trees_dict(left=[-1, 5])), "cannot be read", id="node-outside-tree"),
    pytest.param(lambda d: d.update(ranker=trees_dict(feature=[0, 7])), "cannot be read", id="feature-outside"),
    pytest.param(lambda d: d.update(ranker=trees_dict(leaf=[1.0])), "cannot be read", id="leaf-count"),
    pytest.param(lambda d: d.update(conversation_margin="high"), "cannot be read", id="margin-not-a-number"),
    pytest.param(lambda d: d.update(conversation_ranker=trees_dict(left=[-1, 5]),
                                    conversation_answerability=d["answerability"]), "cannot be read",
                 id="conversation-ranker-node-outside"),
    pytest.param(lambda d: d.update(conversation_ranker={**trees_dict(), "features": ["dense"]},
                                    conversation_answerability=d["answerability"]),
                 "cannot be read", id="conversation-ranker-other-features"),
    pytest.param(lambda d: d.update(conversation_ranker=trees_dict(),
                                    conversation_answerability={**d["answerability"], "features": list("abcd")}),
                 "cannot be read", id="conversation-answerability-other-features"),
    pytest.param(lambda d: d.update(conversation_ranker=trees_dict()), "cannot be read",
                 id="conversation-ranker-without-its-answerability"),
    pytest.param(lambda d: d.update(conversation_ranker=[], conversation_answerability=d["answerability"]),
                 "cannot be read", id="conversation-ranker-not-trees"),
]


@pytest.mark.parametrize(("mutate", "message"), BAD)
def test_a_damaged_or_foreign_selector_file_is_refused_with_one_line(tmp_path, mutate, message):
    path = bad_file(tmp_path, mutate)
    with pytest.raises(SelectorError, match=message) as err:
        Selector.load(path)
    text = str(err.value)
    assert "\n" not in text and "gocluster-faq train" in text
    assert str(tmp_path) not in text, "no server paths in the message"
    assert err.value.exit_code == 7


@pytest.mark.parametrize("content", [None, "", "{not json", "[1, 2]", "\x00\x01"])
def test_a_missing_or_unreadable_file_is_refused_with_one_line(tmp_path, content):
    path = tmp_path / "selector.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SelectorError, match="cannot be read") as err:
        Selector.load(path)
    assert "\n" not in str(err.value) and str(tmp_path) not in str(err.value)


def test_the_shipped_selector_loads_and_names_only_existing_features():
    shipped = Selector.load(DEFAULT_SELECTOR)
    assert set(shipped.ranker.names) <= set(FEATURES)
    assert set(shipped.answerability.names) <= set(FEATURES) | set(RANKING_FEATURES)
    # the answerability model reads the top unit's features from the ranker's columns
    assert set(shipped.answerability.names) - set(RANKING_FEATURES) <= set(shipped.ranker.names)
    assert 0.0 < shipped.threshold < 1.0
    assert not shipped.meta.get("initial"), "the shipped file is a trained one"
    features = np.random.default_rng(0).random((5, len(shipped.names)))
    scores, p = shipped.score(features)
    assert scores.shape == (5,) and 0.0 <= p <= 1.0


def test_the_question_level_features_exist():
    assert set(TOP_UNIT_FEATURES) <= set(FEATURES)
    assert not set(RANKING_FEATURES) & set(FEATURES)
