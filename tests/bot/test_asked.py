"""What a question asks for, and whether a text holds such a thing (features, not answers)."""

from __future__ import annotations

import pytest

from bot.asked import Kind, asked_kinds, counted_noun, has_kind, number_windows

K = Kind


@pytest.mark.parametrize(("question", "expected"), [
    # German
    ("Wer darf sich bewerben?", {K.PERSON}),
    ("Wann wurde go-cluster gegründet?", {K.DATE}),
    ("Seit wann gibt es den Newsletter?", {K.DATE}),
    ("Wo findet die Clusterwoche statt?", {K.PLACE}),
    ("Wie viele Mitglieder hat go-cluster?", {K.NUMBER}),
    ("Wieviele Cluster gibt es?", {K.NUMBER}),
    ("Wie lautet die Telefonnummer?", {K.PHONE}),
    ("Wie lautet die Adresse?", {K.ADDRESS}),
    ("Wer ist Ansprechpartner?", {K.PERSON, K.CONTACT}),
    ("Welche Vorteile hat die Mitgliedschaft?", set()),
    ("Wie kann ich mich bewerben?", set()),  # German "wie" is "how", not Dutch "who"
    ("Wie ist das Verfahren?", set()),
    ("Was ist das Silber-Label?", set()),  # German "was" is "what": not a yes/no question
    ("was kostet das bronzelabel in euro", set()),
    # English
    ("Who may apply?", {K.PERSON}),
    ("Since when does the programme exist?", {K.DATE}),
    ("Where is the office?", {K.PLACE}),
    ("How many members are there?", {K.NUMBER}),
    ("What is the e-mail address?", {K.EMAIL, K.ADDRESS}),
    ("How can I get in touch?", {K.CONTACT}),
    ("What is the silver label?", set()),
    # other languages
    ("¿Quién puede solicitar la admisión en go-cluster?", {K.PERSON}),
    ("¿Cuándo empezó el programa?", {K.DATE}),
    ("Qui peut poser sa candidature ?", {K.PERSON}),
    ("Où se trouve le bureau ?", {K.PLACE}),
    ("Combien de membres ?", {K.NUMBER}),
    ("Chi può partecipare?", {K.PERSON}),
    ("Quanti membri ci sono?", {K.NUMBER}),
    ("Kto może złożyć wniosek?", {K.PERSON}),
    ("Ne zaman başladı?", {K.DATE}),
    ("Wie is de contactpersoon voor vragen?", {K.PERSON, K.CONTACT}),  # Dutch "wie": who
])
def test_asked_kinds(question, expected):
    assert asked_kinds(question) == expected


@pytest.mark.parametrize("question", [
    "Kann sich jedes Cluster bewerben?", "Gibt es eine Frist?", "Ist die Teilnahme kostenlos?",
    "Muss man Mitglied sein?", "Is membership free?", "Do I have to pay?", "Can foreign clusters apply?",
    "Was the format taken up by the EU?", "Were the costs covered?", "¿Es gratuito?", "Est-ce gratuit ?",
    "Czy mogę się zgłosić?", "„Kann man sich jederzeit bewerben?“",
])
def test_a_question_that_starts_with_its_verb_asks_yes_or_no(question):
    assert K.YESNO in asked_kinds(question)


@pytest.mark.parametrize("question", [
    "Was ist go-cluster?", "Was passiert nach der Antragseinreichung?", "Wer darf sich bewerben?",
    "What is the silver label?", "Welche Kriterien gelten?", "Warum gibt es go-cluster?",
])
def test_questions_with_a_question_word_do_not_ask_yes_or_no(question):
    assert K.YESNO not in asked_kinds(question)


@pytest.mark.parametrize(("text", "kind"), [
    ("Ansprechpartnerin ist Sabine Maass.", K.PERSON),
    ("Dr. Müller leitet das Team.", K.PERSON),
    ("Die VDI/VDE Innovation + Technik GmbH betreut das Programm.", K.PERSON),
    ("Die Kosten übernimmt das Bundesministerium für Wirtschaft.", K.PERSON),
    ("The Federal Ministry covers the costs.", K.PERSON),
    ("Seit 2012 gibt es das Programm.", K.DATE),
    ("Im Oktober wurde gewählt.", K.DATE),
    ("The cluster week takes place in spring.", K.DATE),
    ("Die Geschäftsstelle sitzt in Berlin.", K.PLACE),
    ("Steinplatz 1, 10623 Berlin", K.PLACE),
    ("Clusters from Bavaria and Saxony take part.", K.PLACE),
    ("Es gibt 81 Mitglieder.", K.NUMBER),
    ("13.000 Unternehmen sind beteiligt.", K.NUMBER),
    ("Zwei Drittel der Kriterien müssen erfüllt sein.", K.NUMBER),
    ("Telefon: +49 30 310078-387", K.CONTACT),
    ("Mehr unter www.go-cluster.de", K.CONTACT),
    ("Telefon: +49 30 310078-387", K.PHONE),
    ("Tel. 030 310078387", K.PHONE),
    ("Schreiben Sie an info@go-cluster.de.", K.EMAIL),
    ("Steinplatz 1, 10623 Berlin", K.ADDRESS),
    ("Hauptstraße 5", K.ADDRESS),
    ("Nur Cluster aus Deutschland können sich bewerben.", K.YESNO),
    ("Applications are not bound to a deadline.", K.YESNO),
])
def test_has_kind(text, kind):
    assert has_kind(text, kind)


@pytest.mark.parametrize(("text", "kind"), [
    # German nouns are capitalised: that makes no person and no place
    ("Die Clusterorganisation berät ihre Mitglieder.", K.PERSON),
    ("Die Förderung stärkt Innovationen und Wachstum.", K.PERSON),
    ("Die Förderung stärkt Innovationen und Wachstum.", K.PLACE),
    ("Das Programm unterstützt Wirtschaft und Bildung.", K.PLACE),
    ("Es gibt 81 Mitglieder.", K.DATE),
    ("Seit 2012 gibt es das Programm.", K.NUMBER),  # a year alone is no count
    ("Kontaktieren Sie uns.", K.CONTACT),
    ("Seit 2012 gibt es 81 Mitglieder.", K.PHONE),
    ("Schreiben Sie eine E-Mail.", K.EMAIL),
    ("Berlin ist die Hauptstadt.", K.ADDRESS),
    ("Die Clusterwoche findet statt.", K.YESNO),
])
def test_has_kind_is_false_without_such_a_thing(text, kind):
    assert not has_kind(text, kind)


@pytest.mark.parametrize(("question", "noun"), [
    ("Wie viele Mitglieder hat go-cluster?", "Mitglieder"),
    ("How many members does it have?", "members"),
    ("wie viele davon haben ein Gold-Label", "Gold-Label"),
    ("How many of them hold the gold label?", "gold"),
    ("Anzahl der Clusterreportagen", "Clusterreportagen"),
    ("Wie viele go-cluster-Mitglieder gibt es?", "Mitglieder"),
    ("Wie viele gibt es?", None),
    ("Wer darf sich bewerben?", None),
])
def test_counted_noun(question, noun):
    assert counted_noun(question) == noun


def test_number_windows_are_the_words_after_each_count_but_not_after_years_or_ordinals():
    text = "Im Oktober 2022 sind 81 Clusterorganisationen Mitglied im Programm go-cluster."
    assert number_windows(text) == ["Clusterorganisationen Mitglied im Programm go-cluster."]
    assert number_windows("Seit 2012 am 3rd place: 13.000 Unternehmen und 70 % KMU", width=2) == [
        "Unternehmen und", "% KMU"]
    assert number_windows("Keine Zahl hier.") == []
