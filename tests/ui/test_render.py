"""The pure rendering functions: escaping, sources block, highlighting, footer, labels."""

from __future__ import annotations

import itertools

from bot.results import Answer, Citation, Hit
from indexer.chunk import Chunk
from ui import render
from ui.texts import TEXTS, t

SCRIPT = "<script>alert(1)</script>"


def citation(n: int = 1, **changes: object) -> Citation:
    values = {"n": n, "chunk_id": f"c{n}", "source": "flyer-en.txt", "title": "Excellent networking (flyer)",
              "page": 2, "section": "Who can join?", "date": "2019-03",
              "date_label": "last revised March 2019",
              "language": "en", "quote": "Membership in the programme is open to all innovation clusters.",
              "score": 0.8}
    values.update(changes)
    return Citation(**values)  # type: ignore[arg-type]


def answer(text: str = "Alle Innovationscluster in Deutschland können sich bewerben [1].",
           citations: list[Citation] | None = None, abstained: bool = False) -> Answer:
    return Answer(question="Wer?", text=text, language="de", abstained=abstained,
                  citations=[citation()] if citations is None else citations)


def test_every_label_exists_in_both_languages() -> None:
    assert set(TEXTS["de"]) == set(TEXTS["en"])
    assert t("fr", "sources") == "Quellen"  # unknown language falls back to German
    assert t("en", "hot.hits", n=2, query="x") == "2 results for “x”"


def test_answer_text_and_sources_are_escaped() -> None:
    cited = [citation(title=SCRIPT, quote=f"a {SCRIPT} b")]
    msg = render.render_answer(answer(f"Antwort {SCRIPT} [1]", cited), "de")
    assert "<script>" not in msg
    assert msg.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3


def test_sources_block_lists_number_title_page_section_date_language_quote() -> None:
    block = render.sources_block([citation(1), citation(2, page=None, section="Aufnahme", language="de",
                                                        date_label="Stand 2023", title="Webseite")], "de")
    assert block.startswith(render.SOURCES_MARK)
    assert "<summary>Quellen (2)</summary>" in block
    assert "[1] Excellent networking (flyer)" in block
    assert "S. 2 · Who can join? · last revised March 2019 · EN" in block
    assert "[2] Webseite" in block and "Aufnahme · Stand 2023 · DE" in block
    assert '<q lang="en">Membership in the programme is open to all innovation clusters.</q>' in block
    assert "\n\n" not in block  # one HTML block: Markdown must not resume inside it
    assert "p. 2" in render.sources_block([citation()], "en")


def test_quote_with_blank_lines_stays_inside_the_block() -> None:
    block = render.sources_block([citation(quote="erste Zeile\n\nzweite Zeile")], "de")
    assert "erste Zeile zweite Zeile" in block and "\n" not in block


def test_abstained_answer_without_citations_has_no_sources_block() -> None:
    msg = render.render_answer(answer("Dazu steht nichts in den Dokumenten.", [], abstained=True), "de")
    assert msg == "Dazu steht nichts in den Dokumenten."


def test_stream_steps_grow_and_end_with_the_sources() -> None:
    a = answer(" ".join(f"Wort{i}" for i in range(100)) + " [1].")
    steps = list(render.stream_steps(a, "de", max_steps=10))
    assert 5 <= len(steps) <= 12
    assert all(len(x) < len(y) for x, y in itertools.pairwise(steps))
    assert steps[-1] == render.render_answer(a, "de")
    assert all(render.SOURCES_MARK not in s for s in steps[:-1])


def test_stream_steps_of_a_one_word_answer() -> None:
    assert list(render.stream_steps(answer("Ja.", []), "de")) == ["Ja."]


def test_strip_sources_and_message_key_round_trip() -> None:
    msg = render.render_answer(answer("A &amp; B <x> [1]"), "de")
    assert render.strip_sources(msg) == "A &amp; B <x> [1]"
    assert render.message_key(msg) == render.message_key(msg + "\n")
    assert render.message_key(msg) != render.message_key("other")


def test_highlight_marks_terms_case_insensitively_and_escapes() -> None:
    out = render.highlight("Die AUFNAHME <b>ins</b> Programm & mehr", "aufnahme programm")
    assert out == "Die <mark>AUFNAHME</mark> &lt;b&gt;ins&lt;/b&gt; <mark>Programm</mark> &amp; mehr"


def test_highlight_never_marks_inside_an_entity() -> None:
    out = render.highlight('a "quoted" & <tag>', "quot amp")
    assert out == "a &quot;<mark>quot</mark>ed&quot; &amp; &lt;tag&gt;"
    assert render.highlight("x", SCRIPT) == "x"
    assert render.highlight("<script>", "") == "&lt;script&gt;"


def test_hits_table() -> None:
    chunk = Chunk.create(text="Jedes Innovationscluster kann sich <i>bewerben</i>.", source="de.txt",
                         title="Webseite <BMWi>", language="de", ordinal=0, page=3, section="Aufnahme",
                         date_label="undatiert")
    table = render.render_hits([Hit(chunk=chunk, score=0.8766, rank=1)], f"bewerben {SCRIPT}", "de")
    assert "<caption>1 Treffer für „bewerben &lt;script&gt;alert(1)&lt;/script&gt;“</caption>" in table
    assert "&lt;i&gt;<mark>bewerben</mark>&lt;/i&gt;" in table
    assert "Webseite &lt;BMWi&gt;" in table and "<small>de.txt</small>" in table
    assert "<td>S. 3 · Aufnahme</td>" in table and "<td>undatiert</td>" in table
    assert "<td>DE</td>" in table and "0.877" not in table  # relevance is a bar with the rank, not the score
    assert 'value="1.00" title="Relevanz: Rang 1 von 1"' in table
    assert "<script>" not in table and "\n" not in table
    assert render.render_hits([], "x", "en") == "<p>No results.</p>"


def hit(text: str, rank: int, score: float, **changes: object) -> Hit:
    values = {"source": "de.txt", "title": "Webseite", "language": "de", "ordinal": rank, "page": 3,
              "section": "", "date_label": "Stand 2023"}
    values.update(changes)
    return Hit(chunk=Chunk.create(text=text, **values), score=score, rank=rank)  # type: ignore[arg-type]


def test_relevance_bars_are_relative_to_the_best_hit() -> None:
    table = render.render_hits([hit("Erste Stelle hier.", 1, 0.8), hit("Zweite Stelle dort.", 2, 0.2)], "x", "en")
    assert 'value="1.00" title="Relevance: rank 1 of 2"' in table
    assert 'value="0.25" title="Relevance: rank 2 of 2"' in table


def test_best_sentences_are_bold_in_their_passage_and_spaces_survive() -> None:
    text = "Erster Satz ohne Bezug. Die Aufnahme ist an Kriterien gebunden. Dritter Satz."
    out = render.mark_sentences(text, "Aufnahme", ["Die Aufnahme ist an Kriterien gebunden."])
    assert out == ('Erster Satz ohne Bezug. <strong class="faq-best">Die <mark>Aufnahme</mark> ist an Kriterien'
                   " gebunden.</strong> Dritter Satz.")


def test_answer_sentences_table_and_draft() -> None:
    from ui.ranking import rank_sentences

    hits = [hit("Allgemeines zum Programm steht hier. Jedes Cluster kann sich um die Aufnahme bewerben.", 1, 0.9),
            hit("Membership is open to all clusters.", 2, 0.5, source="en.txt", title="Flyer <x>", language="en",
                page=None, section="Who can join?", date_label="March 2019")]
    ranked = rank_sentences(hits, "Wer kann sich um die Aufnahme bewerben?")
    assert [r.text for r in ranked] == ["Jedes Cluster kann sich um die Aufnahme bewerben."]
    table = render.render_sentences(ranked, "Aufnahme bewerben", "de")
    assert "<caption>Antwortsätze, die am besten passen</caption>" in table
    assert "<th>Antwortsatz</th><th>Relevanz</th><th>Quelle</th>" in table
    assert "Webseite<br><small>S. 3 · Stand 2023</small>" in table and "<summary>Ganze Textstelle</summary>" in table
    assert render.draft_from_sentences(ranked, "de").splitlines() == [
        "Jedes Cluster kann sich um die Aufnahme bewerben. [1]", "", "Quellen:", "[1] Webseite (S. 3, Stand 2023)"]
    assert render.draft_from_sentences([], "en") == "Under these filters no passage answers the question."
    assert render.render_sentences([], "x", "en").startswith("<p>No sentence contains the search terms")


def test_numbers_are_written_the_german_way_in_german() -> None:
    from ui.texts import number

    assert (number(2000, "de"), number(2000, "en"), number(12, "de")) == ("2.000", "2,000", "12")
    many = [hit(f"Stelle {i}.", i, 1.0 / i) for i in range(1, 3)]
    assert "<caption>2 Treffer" in render.render_hits(many, "x", "de")


def test_copy_text_is_plain_with_numbered_sources() -> None:
    text = render.copy_text(answer(citations=[citation(1), citation(2, page=None, section="")]), "de")
    assert text.splitlines() == [
        "Alle Innovationscluster in Deutschland können sich bewerben [1].", "", "Quellen:",
        "[1] Excellent networking (flyer) (S. 2 · Who can join?, last revised March 2019)",
        "[2] Excellent networking (flyer) (last revised March 2019)"]


def test_footer_has_contact_and_documents() -> None:
    docs = [{"file": "a.txt", "title": "Flyer <2019>", "date_label": "March 2019"}, {"file": "b.txt"}]
    out = render.footer(docs, "+49 30 310078-387", "info@go-cluster.de", "en")
    assert "+49 30 310078-387" in out and "mailto:info@go-cluster.de" in out
    assert "Flyer &lt;2019&gt; (March 2019); b.txt (-)" in out
    assert "ausschließlich" in render.footer(docs, "x", "y", "de")
