"""Hand-computed cases for every metric."""

from __future__ import annotations

import pytest

from evaluation.metrics import (
    RATES,
    answer_correct,
    citation_precision,
    citation_support,
    hit_at_k,
    language_match,
    percentile,
    reciprocal_rank,
    summarize,
)
from evaluation.questions import Question

MEMBERS = Question(
    id="changing-figures-de-1", lang="de", category="changing-figures",
    question="Wie viele Mitglieder hat go-cluster?",
    facts=(("81",), ("2022", "Oktober")), answerable=True,
)
FEE = Question(
    id="unanswerable-de-1", lang="de", category="unanswerable",
    question="Wie hoch ist der Mitgliedsbeitrag?", facts=(), answerable=False,
)


# --------------------------------------------------------------------------- answer_correct


def test_answer_correct_answerable():
    assert answer_correct(MEMBERS, "Im Oktober 2022 hatte go-cluster 81 Mitglieder.", abstained=False)
    # one group missing
    assert not answer_correct(MEMBERS, "go-cluster hat 81 Mitglieder.", abstained=False)
    # wrong figure
    assert not answer_correct(MEMBERS, "Laut BMWi-Seite 99 Mitglieder (Stand 2022).", abstained=False)
    # the facts are there but the bot abstained
    assert not answer_correct(MEMBERS, "Oktober 2022: 81 - aber ich bin unsicher.", abstained=True)


def test_answer_correct_unanswerable_is_about_abstaining():
    assert answer_correct(FEE, "Dazu enthalten die Dokumente keine Angabe.", abstained=True)
    assert not answer_correct(FEE, "Der Beitrag beträgt 500 Euro.", abstained=False)


# --------------------------------------------------------------------------- citations


def test_citation_support_uses_the_union_of_quotes():
    a = "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied."
    b_figure = "81"
    b_date = "Stand: Oktober 2022"
    assert citation_support(MEMBERS, [a])
    assert citation_support(MEMBERS, [b_figure, b_date])  # neither alone, together yes
    assert not citation_support(MEMBERS, [b_figure])
    assert not citation_support(MEMBERS, [])
    assert not citation_support(FEE, ["irgendwas"])


def test_citation_precision_counts_quotes_matching_any_group():
    quotes = ["81 Mitglieder", "Stand Oktober 2022", "Das Programm wurde 2012 gestartet.", "Logo"]
    # "81 Mitglieder" -> group 1, "Oktober 2022" -> group 2, the other two match nothing: 2/4
    assert citation_precision(MEMBERS, quotes) == pytest.approx(0.5)
    assert citation_precision(MEMBERS, ["81", "81 / Oktober 2022", "x"]) == pytest.approx(2 / 3)
    assert citation_precision(MEMBERS, []) == 0.0
    assert citation_precision(FEE, ["a"]) == 0.0


# --------------------------------------------------------------------------- abstention


def abstention_rates(records):
    recs = [{"id": str(i), "lang": "de", "category": "c", "correct": None, **r} for i, r in enumerate(records)]
    return summarize(recs, by=(), intervals=False)["overall"]


def test_abstention_rates():
    records = [
        {"answerable": False, "abstained": True},
        {"answerable": False, "abstained": True},
        {"answerable": False, "abstained": False},
        {"answerable": True, "abstained": True},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
        {"answerable": True, "abstained": False},
    ]
    rates = abstention_rates(records)
    assert rates["correct_abstention_rate"] == pytest.approx(2 / 3)
    assert rates["wrong_abstention_rate"] == pytest.approx(1 / 4)
    assert rates["n_unanswerable"] == 3
    assert rates["n_answerable"] == 4


def test_abstention_rates_without_a_kind_is_none():
    rates = abstention_rates([{"answerable": True, "abstained": False}])
    assert rates["correct_abstention_rate"] is None
    assert rates["wrong_abstention_rate"] == 0.0


# --------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("de", "de", True),
        ("de", "DE", True),
        ("de", "de-DE", True),
        ("de", "de_AT", True),
        ("en", "English", True),
        ("de", "Deutsch", True),
        ("de", "en", False),
        ("en", "en-GB", True),
        ("de", "", False),
        ("de", None, False),
    ],
)
def test_language_match(expected, actual, ok):
    assert language_match(expected, actual) is ok


# --------------------------------------------------------------------------- retrieval

FACTS = (("81",), ("Oktober",))
HIT = "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied."
PARTIAL = "81"
MISS = "Das Programm startete Mitte 2012."


def test_hit_at_k():
    ranked = [MISS, PARTIAL, HIT, MISS]
    assert not hit_at_k(ranked, FACTS, 1)
    assert not hit_at_k(ranked, FACTS, 2)  # a partial match is no hit
    assert hit_at_k(ranked, FACTS, 3)
    assert hit_at_k(ranked, FACTS, 5)  # k beyond the list is fine
    assert not hit_at_k([], FACTS, 5)
    assert not hit_at_k([HIT], (), 1)  # no facts, no hit
    with pytest.raises(ValueError):
        hit_at_k(ranked, FACTS, 0)


def test_reciprocal_rank_and_mrr():
    rr_first = reciprocal_rank([HIT, MISS], FACTS)
    rr_third = reciprocal_rank([MISS, PARTIAL, HIT], FACTS)
    rr_none = reciprocal_rank([MISS, PARTIAL], FACTS)
    assert rr_first == 1.0
    assert rr_third == pytest.approx(1 / 3)
    assert rr_none == 0.0
    # MRR of ranks 1, 3, none = (1 + 1/3 + 0) / 3 = 4/9
    assert (rr_first + rr_third + rr_none) / 3 == pytest.approx(4 / 9)


# --------------------------------------------------------------------------- percentile


def test_percentile_linear_interpolation():
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)  # unsorted input
    # pos = 0.95 * 3 = 2.85 -> 3 + 0.85 * (4 - 3)
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    # pos = 0.25 * 4 = 1 -> exactly the second value
    assert percentile([10, 20, 30, 40, 50], 25) == pytest.approx(20)
    assert percentile([10, 20, 30, 40, 50], 0) == 10
    assert percentile([10, 20, 30, 40, 50], 100) == 50
    assert percentile([7], 95) == 7
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


# --------------------------------------------------------------------------- summarize


def rec(id, lang, category, answerable, correct, abstained, **rest):
    return {"id": id, "lang": lang, "category": category, "answerable": answerable,
            "correct": correct, "abstained": abstained, **rest}


RECORDS = [
    rec("a", "de", "facts", True, True, False, cited_support=True, cited_precision=1.0,
        language_ok=True, hit1=True, hit5=True, rr=1.0, latency_ms=100),
    rec("b", "de", "facts", True, False, False, cited_support=False, cited_precision=0.5,
        language_ok=True, hit1=False, hit5=True, rr=1 / 3, latency_ms=200),
    rec("c", "en", "facts", True, False, True, cited_support=None, cited_precision=None,
        language_ok=False, hit1=False, hit5=False, rr=0.0, latency_ms=300),
    rec("d", "en", "unanswerable", False, True, True, cited_support=False, cited_precision=0.0,
        language_ok=True, hit1=None, hit5=None, rr=None, latency_ms=400),
]


def test_summarize_overall():
    s = summarize(RECORDS)
    o = s["overall"]
    assert o["n"] == 4 and o["n_answerable"] == 3 and o["n_unanswerable"] == 1
    assert o["accuracy"] == pytest.approx(2 / 4)
    assert o["answerable_accuracy"] == pytest.approx(1 / 3)
    assert o["unanswerable_accuracy"] == 1.0
    assert o["correct_abstention_rate"] == 1.0
    assert o["wrong_abstention_rate"] == pytest.approx(1 / 3)
    # answerable only, None skipped: support (1 + 0) / 2, precision (1 + .5) / 2
    assert o["citation_support"] == pytest.approx(0.5)
    assert o["citation_precision"] == pytest.approx(0.75)
    assert o["language_match"] == pytest.approx(3 / 4)
    assert o["hit@1"] == pytest.approx(1 / 3)
    assert o["hit@5"] == pytest.approx(2 / 3)
    assert o["mrr"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert o["latency_ms_mean"] == pytest.approx(250)
    assert o["latency_ms_p50"] == pytest.approx(250)
    # pos = 0.95 * 3 = 2.85 -> 300 + 0.85 * 100
    assert o["latency_ms_p95"] == pytest.approx(385)


def test_summarize_groups():
    s = summarize(RECORDS, by=("lang", "category"))
    assert sorted(s["by"]) == ["category", "lang"]
    assert list(s["by"]["lang"]) == ["de", "en"]
    de, en = s["by"]["lang"]["de"], s["by"]["lang"]["en"]
    assert de["n"] == 2 and de["accuracy"] == 0.5 and de["mrr"] == pytest.approx(2 / 3)
    assert de["correct_abstention_rate"] is None  # no unanswerable German question here
    assert en["n"] == 2 and en["accuracy"] == 0.5
    assert en["citation_support"] is None  # the only answerable English record has None
    assert en["hit@5"] == 0.0
    unans = s["by"]["category"]["unanswerable"]
    assert unans["n"] == 1 and unans["mrr"] is None and unans["correct_abstention_rate"] == 1.0


def test_summarize_optional_keys_and_empty_input():
    s = summarize([rec("x", "de", "facts", True, True, False)], by=("lang",))
    o = s["overall"]
    assert o["accuracy"] == 1.0
    assert o["latency_ms_p95"] is None and o["mrr"] is None and o["language_match"] is None
    empty = summarize([], by=("lang",))
    assert empty["overall"]["n"] == 0 and empty["overall"]["accuracy"] is None
    assert empty["by"] == {"lang": {}}


def test_summarize_requires_core_keys():
    with pytest.raises(KeyError):
        summarize([{"id": "x", "lang": "de"}])


def test_every_rate_has_its_bootstrap_interval():
    o = summarize(RECORDS)["overall"]
    assert set(o["ci"]) == set(RATES)
    for metric, interval in o["ci"].items():
        if o[metric] is None:
            assert interval is None, metric
        else:
            lo, hi = interval
            assert 0.0 <= lo <= o[metric] <= hi <= 1.0, metric
    assert o["ci"]["correct_abstention_rate"] == [1.0, 1.0]  # the one unanswerable record abstained
    assert o["ci"]["hit@5"] == [0.0, 1.0]  # two of three: a resample of three can hold none or all
    assert o["ci"]["ref_hit@5"] is None  # no reference retrieval in these records
    assert "ci" in summarize(RECORDS)["by"]["lang"]["de"]
    assert "ci" not in summarize(RECORDS, intervals=False)["overall"]


def test_reference_and_cited_passage_rates_are_separate_from_the_bots_retrieval():
    recs = [rec("a", "de", "facts", True, True, False, hit5=True, ref_hit5=False, cited_hit=True, rr=1.0,
                ref_rr=0.25),
            rec("b", "de", "facts", True, False, False, hit5=False, ref_hit5=True, cited_hit=False, rr=0.0,
                ref_rr=0.5)]
    o = summarize(recs)["overall"]
    assert o["hit@5"] == 0.5 and o["ref_hit@5"] == 0.5 and o["cited_passage_hit"] == 0.5
    assert o["mrr"] == 0.5 and o["ref_mrr"] == pytest.approx(0.375)


def test_style_groups_only_when_questions_carry_a_style():
    assert "style" not in summarize(RECORDS, by=("lang", "style"))["by"]
    styled = [dict(RECORDS[0], style="typo"), dict(RECORDS[1], style="plain"), RECORDS[2]]
    groups = summarize(styled, by=("style",))["by"]["style"]
    assert list(groups) == ["-", "plain", "typo"]  # "-": a question without a style
    assert groups["typo"]["accuracy"] == 1.0 and groups["plain"]["accuracy"] == 0.0
