"""One test per cleaning rule, on lines copied from the corpus, plus checks over the whole corpus."""

import re

import pytest

from indexer.cleaning import PAGE_BREAK, Block, clean_blocks, clean_text
from indexer.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
DE_PUBLICATION = CORPUS / "go-cluster-jahrzehnt-publikation-2023-de.txt"
EN_PUBLICATION = CORPUS / "go-cluster-decade-publication-2023-en.txt"


def corpus_text(path):
    return clean_text(path.read_text(encoding="utf-8"), "de" if path.stem.endswith("-de") else "en")


@pytest.fixture(scope="module")
def cleaned_corpus():
    return {path.name: corpus_text(path) for path in sorted(CORPUS.glob("*.txt"))}


# --- hyphenation ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("in dieser Zeit auch die Clusterplatt-\nform Deutschland als onlinebasier-\ntes, gemeinsames",
     "in dieser Zeit auch die Clusterplattform Deutschland als onlinebasiertes, gemeinsames"),
    ("Bundesministeriums für Wirtschaft und Klima-\nschutz (BMWK) vereint die leistungsfähigsten ",
     "Bundesministeriums für Wirtschaft und Klimaschutz (BMWK) vereint die leistungsfähigsten"),
    ("maschutz implementiert. Wesentliche „go-clus-\nter“-Programmziele waren die Weiterentwick-\nlung der",
     "maschutz implementiert. Wesentliche „go-cluster“-Programmziele waren die Weiterentwicklung der"),
    ("mehr als 500 außeruniversitäre Forschungsein-\nrichtungen und 1.300 weitere Organisationen.",
     "mehr als 500 außeruniversitäre Forschungseinrichtungen und 1.300 weitere Organisationen."),
])
def test_rejoins_words_hyphenated_at_line_end(raw, expected):
    assert clean_text(raw, "de") == expected


def test_rejoins_words_hyphenated_across_blank_lines():
    raw = "from the focus on initiating networks through the “Compe-\n\n\n\ntence Networks Germany”"
    assert clean_text(raw, "en") == (
        "from the focus on initiating networks through the “Competence Networks Germany”")


def test_rejoins_words_hyphenated_across_page_breaks():
    raw = f"through the “Compe-{PAGE_BREAK}tence Networks Germany” initiative"
    assert clean_blocks(raw, "en", [3, 4]) == [
        Block("paragraph", "through the “Competence Networks Germany” initiative", 3)]


@pytest.mark.parametrize(("raw", "expected"), [
    ("intensive Wissenschaft-\nWirtschaft-Kooperationen. Neben privatwirt-\nschaftlichen",
     "intensive Wissenschaft-Wirtschaft-Kooperationen. Neben privatwirtschaftlichen"),
    ("Megatrends wie die Globalisierung, Neo-\nÖkologie, Urbanisierung",
     "Megatrends wie die Globalisierung, Neo-Ökologie, Urbanisierung"),
    ("zur Förderung der Cross-Cluster-Kooperation \nund innovativer Clusterservices",
     "zur Förderung der Cross-Cluster-Kooperation und innovativer Clusterservices"),
    ("Die in das Programm „go-cluster“ aufgenommenen Cluster",
     "Die in das Programm „go-cluster“ aufgenommenen Cluster"),
])
def test_keeps_real_hyphens(raw, expected):
    assert clean_text(raw, "de") == expected


@pytest.mark.parametrize(("language", "raw", "expected"), [
    ("de", "Clusterservice Aus- \nund Weiterbildung", "Clusterservice Aus- und Weiterbildung"),
    ("de", "in verschiedenen clusterspezifischen Förder-\noder Unterstützungsprogrammen",
     "in verschiedenen clusterspezifischen Förder- oder Unterstützungsprogrammen"),
    ("de", "auf regionaler Landes-\nbzw. Bundesebene", "auf regionaler Landes- bzw. Bundesebene"),
    ("de", "der Innovations-\nsowie Technologiecluster", "der Innovations- sowie Technologiecluster"),
    ("en", "private-\nand public-sector efforts", "private- and public-sector efforts"),
    ("en", "cluster-\nor network-based", "cluster- or network-based"),
])
def test_keeps_suspended_hyphens_before_conjunctions(language, raw, expected):
    assert clean_text(raw, language) == expected


def test_rejoins_hyphenation_inside_enumerated_compounds():
    raw = "Instrumente einer Innovati-\nons-, Wirtschafts-, Industrie- und Regionalpolitik"
    assert clean_text(raw, "de") == (
        "Instrumente einer Innovations-, Wirtschafts-, Industrie- und Regionalpolitik")


# --- paragraphs ------------------------------------------------------------------------------------

def test_joins_soft_wrapped_lines_into_a_paragraph():
    raw = ("Mitte 2012 ins Leben gerufen, hat das Programm \n„go-cluster“ seitdem maßgeblich dazu "
           "beigetragen, \ndass sich in Deutschland eine vielfältige und florie-\nrende Clusterlandschaft "
           "mit Clusterverbünden in \nallen Regionen herausgebildet hat: \n\nIn den über 80 "
           "Innovationsclustern des Program-\nmes")
    assert clean_text(raw, "de").split("\n\n") == [
        "Mitte 2012 ins Leben gerufen, hat das Programm „go-cluster“ seitdem maßgeblich dazu beigetragen, "
        "dass sich in Deutschland eine vielfältige und florierende Clusterlandschaft mit Clusterverbünden in "
        "allen Regionen herausgebildet hat:",
        "In den über 80 Innovationsclustern des Programmes"]


def test_leading_space_starts_a_new_block():
    raw = (" Clusterpolitik und Clusterentwicklung \nin Deutschland und Europa\n „Netzwerken bedeutet "
           "nicht \nnur, Menschen miteinander \nzu verbinden.“")
    assert clean_blocks(raw, "de") == [
        Block("heading", "Clusterpolitik und Clusterentwicklung in Deutschland und Europa"),
        Block("paragraph", "„Netzwerken bedeutet nicht nur, Menschen miteinander zu verbinden.“")]


def test_heals_words_broken_without_hyphen_where_wraps_end_in_a_space(cleaned_corpus):
    # "Cluster\ninitiativen", "Cluster\norganisationen", "übernom\n men": the German publication's
    # soft wraps end with a space, so a line ending without one broke a word.
    text = cleaned_corpus[DE_PUBLICATION.name]
    for phrase in ("wettbewerbsfähige Clusterinitiativen mit ihren", "sind 81 Clusterorganisationen Mitglied",
                   "mit den EU Cluster Weeks übernommen."):
        assert phrase in text


def test_heals_a_paragraph_interrupted_by_a_figure(cleaned_corpus):
    text = cleaned_corpus[EN_PUBLICATION.name]
    assert "Cluster initiatives enable the actors involved to participate continuously" in text
    assert "by explicitly including performance-enhancing and qualifying activities" in text


# --- lists -----------------------------------------------------------------------------------------

def test_normalises_bullets_and_rejoins_wrapped_items():
    raw = ("Diese umfassen die clusterspezifischen Aspekte:\n\n  • Struktur und Zusammensetzung des "
           "Innovationsclusters\n  • Clustermanagement und Steuerung\n")
    assert clean_blocks(raw, "de") == [
        Block("paragraph", "Diese umfassen die clusterspezifischen Aspekte:"),
        Block("list", "- Struktur und Zusammensetzung des Innovationsclusters\n"
                      "- Clustermanagement und Steuerung")]


def test_list_items_wrapped_across_blank_lines_stay_one_item(cleaned_corpus):
    text = cleaned_corpus[DE_PUBLICATION.name]
    assert "\n- Nutzung der eingetragenen Wort-/Bildmarke „go-cluster“ als Qualitätssiegel;\n" in text
    assert "\n- Seminare zu aktuellen Clustermanagement-Themen und Clusterinstrumenten;" in text
    assert "\n- Vernetzungsaktivitäten mit den leistungsfähigsten Innovationsclustern aus Deutschland" in text


def test_numbered_items_become_one_list():
    raw = ("1)\t\ufffd Bewilligung der BMWK-Förderung für unseren Antrag „INNO Battle“\n\n2)\t Erreichen des "
           "Silber-Labels\n\n4)\t\ufffd Austausch innerhalb des Programms mit anderen Clustermanagerinnen \n"
           "und Clustermanagern\n\nAuf jeden Fall streben wir an, mit dem Gold-Label prämiert zu werden. ")
    assert clean_blocks(raw, "de")[0] == Block("list", (
        "- 1) Bewilligung der BMWK-Förderung für unseren Antrag „INNO Battle“\n"
        "- 2) Erreichen des Silber-Labels\n"
        "- 4) Austausch innerhalb des Programms mit anderen Clustermanagerinnen und Clustermanagern"))


def test_a_lone_numbered_line_is_a_heading_not_a_list():
    raw = "1. Vernetzungstag in Nürnberg\nBeim Vernetzungstag steht der Austausch der Mitglieder im Fokus."
    assert [block.kind for block in clean_blocks(raw, "de")] == ["heading", "paragraph"]


# --- headings --------------------------------------------------------------------------------------

def test_recognises_headings():
    raw = "Aufnahme in das Programm\n\nJedes Innovationscluster aus Deutschland kann sich bewerben."
    assert clean_text(raw, "de") == (
        "# Aufnahme in das Programm\n\nJedes Innovationscluster aus Deutschland kann sich bewerben.")


def test_a_date_label_joins_the_heading_below_it():
    raw = "2012\n\nHour of birth of the “go-cluster” programme\n\nIn July 2012, the programme became new."
    assert clean_blocks(raw, "en")[0] == Block(
        "heading", "2012 – Hour of birth of the “go-cluster” programme")


def test_a_name_caption_does_not_replace_the_interview_heading():
    raw = ("Im Gespräch mit der Allianz Faserbasierte Werkstoffe\n\nUlrike Möller\n\nHallo! Ich bin "
           "Ulrike Möller, Netzwerkmanagerin bei der Allianz Faserbasierte Werkstoffe e. V.")
    assert [block.kind for block in clean_blocks(raw, "de")] == ["heading", "paragraph", "paragraph"]


def test_sentences_and_short_lines_without_content_are_not_headings():
    raw = "I hope you enjoy reading this!\n\nYours,\n\nUdo Philipp"
    assert {block.kind for block in clean_blocks(raw, "en")} == {"paragraph"}


# --- furniture -------------------------------------------------------------------------------------

@pytest.mark.parametrize("furniture", [
    "Image credits\n\n© royyimzy/iStock", "Picture credit", "iconeer / iStock / p. 3",
    "p. 4 / p. 7 / p. 11 – 19 / p. 21 – 34", "Logo des Programms go-cluster", "Logo go-cluster", "81", "K",
    "Foreword\t2\nCluster policy and cluster development in Germany and Europe\t3", "Table of Contents",
    "BioCon Valley® GmbH / Christian Thiele / CyberForum e.V. /", "https://twitter.com/BMWK",
])
def test_drops_page_furniture(furniture):
    raw = f"Deutschland braucht regionale Cluster.\n\n{furniture}\n\nGemeinsam geht mehr."
    assert clean_text(raw, "de") == "Deutschland braucht regionale Cluster.\n\nGemeinsam geht mehr."


def test_drops_lines_repeated_many_times():
    raw = "\n\n".join(["Hanover", "Hanover Trade Fair is a traditional component of “go-cluster” activities."]
                      + ["2019\nHanover\nTrade Fair"] * 3)
    assert "Hanover\n" not in clean_text(raw, "en") + "\n"
    assert "Hanover Trade Fair is a traditional component" in clean_text(raw, "en")


def test_drops_the_bookmark_outline(cleaned_corpus):
    assert "Inhaltsverzeichnis" not in cleaned_corpus[DE_PUBLICATION.name]
    assert not cleaned_corpus[DE_PUBLICATION.name].rstrip().endswith("„go-cluster“")


# --- characters ------------------------------------------------------------------------------------

def test_normalises_whitespace_and_invisible_characters():
    raw = "Schockwirkungen (z.\u2009B. Auswirkungen\tder\u00a0Pandemie) im Cluster\u00admanagement"
    assert clean_text(raw, "de") == "Schockwirkungen (z. B. Auswirkungen der Pandemie) im Clustermanagement"


def test_resolves_pdf_ligatures():
    assert clean_text("Zerti\ufb01zierung und O\ufb03ce", "de") == "Zertifizierung und Office"


def test_strips_emoji_and_pictographs():
    raw = "Baden-Württemberg excellence label. 🏆\n\nHi! 🙋 My name is Theresa Gerdes.\n\n☎ +49 30 310078387"
    raw += " 🇩🇪"
    assert clean_text(raw, "en") == (
        "Baden-Württemberg excellence label.\n\nHi! My name is Theresa Gerdes.\n\n+49 30 310078387")


def test_composes_unicode_and_keeps_umlauts_and_sharp_s():
    decomposed = "Gro\u0308ße Fo\u0308rderung fu\u0308r Straße"
    assert clean_text(decomposed, "de") == "Größe Förderung für Straße"


# --- the whole corpus ------------------------------------------------------------------------------

SUSPENDED = re.compile(r"-\s+(und|oder|bzw\.|sowie|bis|and|or)\b")


def test_no_line_break_hyphenation_left_in_the_corpus(cleaned_corpus):
    assert len(cleaned_corpus) == 5
    for name, text in cleaned_corpus.items():
        artefacts = [m.group() for m in re.finditer(r"\S*[a-zäöüß]-\s+[a-zäöüß]\S*", text)
                     if not SUSPENDED.search(m.group())]
        assert artefacts == [], name


@pytest.mark.parametrize("word", [
    "Klimaschutz", "Forschungseinrichtungen", "Clustermanagement-Organisationen", "Competence Networks",
    "Clusterplattform", "Wissenschaft-Wirtschaft-Kooperationen", "Neo-Ökologie", "Aus- und Weiterbildung",
])
def test_known_words_come_out_whole(cleaned_corpus, word):
    assert any(word in text for text in cleaned_corpus.values())


def test_corpus_is_free_of_emoji_and_logo_lines(cleaned_corpus):
    for text in cleaned_corpus.values():
        assert not re.search(r"[\U0001f000-\U0001faff\ufffd]", text)
        assert "Logo des Programms" not in text and "iStock" not in text
