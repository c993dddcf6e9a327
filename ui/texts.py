"""Interface labels in German and English. `t("de", "chat.label")` looks one up; German is the default."""

from __future__ import annotations

DEFAULT_LANGUAGE = "de"
LANGUAGE_CHOICES = [("Deutsch", "de"), ("English", "en")]

EXAMPLES = [
    "Wer kann sich um die Aufnahme in das Programm go-cluster bewerben?",
    "Welche Qualitätskriterien gelten für die Aufnahme?",
    "Who can join the go-cluster programme and how?",
    "What services does go-cluster offer its members?",
]

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "# go-cluster FAQ\nFragen zum Programm go-cluster des Bundesministeriums - beantwortet"
                 " aus den offiziellen Programmdokumenten, mit Quellenangaben.",
        "language": "Sprache / Language",
        "tab.chat": "Chat",
        "tab.hotline": "Hotline-Recherche",
        "tab.staff": "Auswertung (intern)",
        "chat.label": "go-cluster Assistent",
        "chat.placeholder": "Ihre Frage zu go-cluster ...",
        "chat.comment": "Kommentar zur Bewertung (optional)",
        "chat.comment_placeholder": "Optionaler Kommentar zur Bewertung: Was fehlte oder war falsch?",
        "chat.send": "Rückmeldung senden",
        "chat.rate_hint": "Bewerten Sie eine Antwort mit Daumen hoch oder runter;"
                          " ein Kommentar ist optional.",
        "chat.thanks": "Danke für Ihre Bewertung.",
        "chat.comment_saved": "Danke, Ihr Kommentar wurde gespeichert.",
        "chat.withdrawn": "Bewertung zurückgenommen.",
        "chat.rate_first": "Bitte bewerten Sie zuerst eine Antwort mit Daumen hoch oder runter.",
        "chat.feedback_down": "Die Rückmeldung konnte gerade nicht gespeichert werden;"
                              " der Chat funktioniert weiter.",
        "error.generic": "Es ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut oder wenden Sie sich"
                         " an die Hotline.",
        "sources": "Quellen",
        "page": "S.",
        "no_sources": "Keine Quelle gefunden.",
        "hot.query": "Suchbegriffe oder Frage",
        "hot.language": "Sprache der Dokumente",
        "hot.all_languages": "Alle",
        "hot.document": "Dokument",
        "hot.all_documents": "Alle Dokumente",
        "hot.k": "Anzahl Treffer",
        "hot.search": "Suchen",
        "hot.draft": "Antwortentwurf zum Kopieren",
        "hot.no_hits": "Keine Treffer.",
        "hot.hits": "{n} Treffer für „{query}“",
        "col.rank": "#",
        "col.passage": "Textstelle",
        "col.document": "Dokument",
        "col.where": "Seite/Abschnitt",
        "col.date": "Stand",
        "col.language": "Sprache",
        "col.score": "Score",
        "staff.refresh": "Aktualisieren",
        "staff.negative": "Letzte negative Bewertungen",
        "staff.gaps": "Inhaltslücken (unbeantwortete Fragen)",
        "staff.export_negative": "CSV: negative Bewertungen",
        "staff.export_gaps": "CSV: Inhaltslücken",
        "staff.export_all": "CSV: alle Rückmeldungen",
        "staff.file": "Export",
        "staff.count": "Gespeicherte Rückmeldungen: {n}",
        "footer": "**Kontakt zum Programm:** {phone} · [{email}](mailto:{email})\n\n"
                  "Die Antworten stammen ausschließlich aus diesen Dokumenten: {documents}",
    },
    "en": {
        "title": "# go-cluster FAQ\nQuestions about the federal ministry's go-cluster programme - answered"
                 " from the official programme documents, with sources.",
        "language": "Sprache / Language",
        "tab.chat": "Chat",
        "tab.hotline": "Hotline search",
        "tab.staff": "Review (internal)",
        "chat.label": "go-cluster assistant",
        "chat.placeholder": "Your question about go-cluster ...",
        "chat.comment": "Comment on your rating (optional)",
        "chat.comment_placeholder": "Optional comment on your rating: what was missing or wrong?",
        "chat.send": "Send feedback",
        "chat.rate_hint": "Rate an answer with thumbs up or down; a comment is optional.",
        "chat.thanks": "Thank you for your rating.",
        "chat.comment_saved": "Thank you, your comment was saved.",
        "chat.withdrawn": "Rating withdrawn.",
        "chat.rate_first": "Please rate an answer with thumbs up or down first.",
        "chat.feedback_down": "Your feedback could not be saved right now; the chat keeps working.",
        "error.generic": "Something went wrong. Please try again or contact the hotline.",
        "sources": "Sources",
        "page": "p.",
        "no_sources": "No source found.",
        "hot.query": "Search terms or question",
        "hot.language": "Document language",
        "hot.all_languages": "All",
        "hot.document": "Document",
        "hot.all_documents": "All documents",
        "hot.k": "Number of results",
        "hot.search": "Search",
        "hot.draft": "Draft answer to copy",
        "hot.no_hits": "No results.",
        "hot.hits": "{n} results for “{query}”",
        "col.rank": "#",
        "col.passage": "Passage",
        "col.document": "Document",
        "col.where": "Page/section",
        "col.date": "As of",
        "col.language": "Language",
        "col.score": "Score",
        "staff.refresh": "Refresh",
        "staff.negative": "Recent negative ratings",
        "staff.gaps": "Content gaps (unanswered questions)",
        "staff.export_negative": "CSV: negative ratings",
        "staff.export_gaps": "CSV: content gaps",
        "staff.export_all": "CSV: all feedback",
        "staff.file": "Export",
        "staff.count": "Stored feedback rows: {n}",
        "footer": "**Programme contact:** {phone} · [{email}](mailto:{email})\n\n"
                  "Answers come only from these documents: {documents}",
    },
}


def t(lang: str | None, key: str, **values: object) -> str:
    """The label `key` in `lang` (German when the language is unknown), formatted with `values`."""
    table = TEXTS.get(lang or DEFAULT_LANGUAGE, TEXTS[DEFAULT_LANGUAGE])
    text = table.get(key, TEXTS[DEFAULT_LANGUAGE][key])
    return text.format(**values) if values else text
