"""The project's named errors. Each carries a one-line message that tells the user the fix."""


class FaqError(Exception):
    """Base class: anything the CLI and UI turn into a one-line message instead of a traceback."""

    exit_code = 1


class IndexNotFound(FaqError):
    exit_code = 3


class IndexMismatch(FaqError):
    """The index on disk does not fit the settings (other embedder) or is damaged."""

    exit_code = 4


class CorpusError(FaqError):
    """The corpus folder is missing or holds nothing that can be indexed."""

    exit_code = 5


class DocumentError(FaqError):
    """One document cannot be read (corrupt, encrypted, no text layer, too large...)."""


class ModelError(FaqError):
    """The embedding model cannot be found, imported or loaded."""

    exit_code = 6


class QuestionError(FaqError):
    """The question cannot be answered as given (empty, too long)."""

    exit_code = 2


class SettingsError(FaqError):
    """A GOCLUSTER_* variable holds a value its setting cannot take (e.g. GOCLUSTER_RETRIEVAL_K=abc)."""

    exit_code = 2
