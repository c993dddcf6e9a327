"""Checking a question before it is answered: clean it and know its language."""

from __future__ import annotations

import html
import re
import unicodedata

import py3langid

from bot.keywords import fold, words
from indexer.errors import QuestionError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Invisible format characters (soft hyphen, zero-width, bidi controls, BOM) and lone surrogates (they
# crash the tokenizer): removed, so "be\u00adwer\u200bben" stays one word.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]")
_DE_HINTS = frozenset([
    "der", "die", "das", "und", "ist", "wer", "wie", "was", "welche", "welcher", "wann", "warum", "kann",
    "darf", "muss", "gibt", "es", "ich", "wir", "sie", "nicht", "mit", "fuer", "ueber", "einen", "eine", "zum",
    "zur", "beim", "bewerben", "kostet", "mitglied", "programm", "aufnahme"
])
_EN_HINTS = frozenset([
    "the", "and", "is", "are", "who", "what", "which", "when", "why", "how", "can", "may", "must", "does", "do",
    "there", "a", "an", "i", "we", "you", "not", "with", "for", "about", "to", "of", "apply", "cost", "member",
    "programme", "admission"
])


def clean_question(raw: str, max_chars: int) -> str:
    """Strip control characters and extra white space; refuse empty or overlong questions."""
    if not isinstance(raw, str):
        raise QuestionError("The question must be text. / Die Frage muss Text sein.")
    text = _INVISIBLE.sub("", _CONTROL.sub(" ", raw.replace("\r", " ").replace("\t", " ")))
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("Bitte geben Sie eine Frage ein. / Please enter a question.")
    if len(text) > max_chars:
        german = f"{max_chars:,}".replace(",", ".")  # 2.000 in German, 2,000 in English
        raise QuestionError(f"Die Frage ist zu lang (höchstens {german} Zeichen). / The question is too "
                            f"long (at most {max_chars:,} characters); please shorten it.")
    return text


# Markup pasted with a question (from a web page, or to probe the chat) is not what is asked: for reading
# it, script and style elements go with their content, other tags and comments go, and entities become
# their characters ("f&uuml;r" -> "für"). Read with "<script>alert('x')</script>" in it, "Wer darf sich
# bewerben?" fell from p 0.88 to 0.54 and was refused. The question as sent is kept (clean_question):
# the UI escapes it, and a question may be about markup.
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[A-Za-z][^<>]*>", re.S)


def without_markup(text: str) -> str:
    """The question's words without HTML; the text itself where nothing else is left."""
    if "<" not in text and "&" not in text:
        return text
    plain = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    # a tag closed before the question mark left a space there ("<i>bewerben</i>?")
    plain = re.sub(r"\s+([?!.,;:])", r"\1", re.sub(r"\s+", " ", html.unescape(plain))).strip()
    return plain or text


def detect_language(text: str) -> tuple[str, bool]:
    """(answer language, supported). German or English; any other language is answered in English."""
    tokens = [fold(w) for w in words(text)]
    de = sum(t in _DE_HINTS for t in tokens) + 2 * bool(re.search(r"[äöüß]", text.lower()))
    en = sum(t in _EN_HINTS for t in tokens)
    lang, _ = py3langid.classify(text)
    lang = "de" if lang == "lb" else lang  # short German questions are often taken for Luxembourgish
    if lang not in ("de", "en") and _mostly_non_latin(text):
        return "en", False  # Arabic, Chinese...: a few Latin words ("go-cluster") do not make it English
    foreign = lang not in ("de", "en") and len(tokens) >= 4 and max(de, en) * 3 < len(tokens)
    if de != en and max(de, en) >= 1 and not foreign:
        return ("de" if de > en else "en"), True
    if lang in ("de", "en"):
        return lang, True
    # Few words and nothing conclusive: a programme name or keyword query, not another language.
    if len(tokens) <= 3:
        return "de" if de else "en", True
    return "en", False


def _mostly_non_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum("LATIN" in unicodedata.name(ch, "") for ch in letters)
    other = len(letters) - latin
    return other >= 2 and 3 * other >= latin  # one CJK sign carries a word: count it thrice
