"""Bad GOCLUSTER_* values: Settings.from_env raises SettingsError naming the variable, and the CLI prints it
as one `error:` line (no traceback) before loading anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.errors import FaqError, SettingsError
from indexer.settings import Settings

CLI = str(Path(sys.executable).with_name("gocluster-faq"))


def test_good_values_are_converted():
    s = Settings.from_env({"GOCLUSTER_RETRIEVAL_K": " 12 ", "GOCLUSTER_LLM_TIMEOUT_S": "2.5",
                           "GOCLUSTER_INDEX_DIR": "~/idx", "GOCLUSTER_LLM_MODEL": "m"})
    assert s.retrieval_k == 12 and s.llm_timeout_s == 2.5 and s.llm_model == "m"
    assert s.index_dir == Path("~/idx").expanduser()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GOCLUSTER_RETRIEVAL_K", "abc", "GOCLUSTER_RETRIEVAL_K must be a whole number, got 'abc'."),
        ("GOCLUSTER_PORT", "78.5", "GOCLUSTER_PORT must be a whole number, got '78.5'."),
        ("GOCLUSTER_LLM_TIMEOUT_S", "soon", "GOCLUSTER_LLM_TIMEOUT_S must be a number (e.g. 30 or 2.5), got 'soon'."),
        ("GOCLUSTER_LLM_TIMEOUT_S", "nan", "GOCLUSTER_LLM_TIMEOUT_S must be a number (e.g. 30 or 2.5), got 'nan'."),
        ("GOCLUSTER_INDEX_DIR", "  ", "GOCLUSTER_INDEX_DIR must be a path, got an empty value."),
    ],
)
def test_bad_values_name_the_variable(name, value, message):
    with pytest.raises(SettingsError) as info:
        Settings.from_env({name: value})
    assert str(info.value) == message
    assert isinstance(info.value, FaqError)


def test_a_secret_is_not_echoed():
    # no int/bool secret exists today; the rule is checked on the parser the settings use
    from indexer.settings import _parse

    with pytest.raises(SettingsError) as info:
        _parse("GOCLUSTER_X", "hunter2", 1, secret=True)
    assert "hunter2" not in str(info.value) and "(hidden)" in str(info.value)


def test_bools_accept_the_usual_words_only():
    from indexer.settings import _parse

    assert _parse("GOCLUSTER_X", "Yes", False) is True and _parse("GOCLUSTER_X", "off", True) is False
    with pytest.raises(SettingsError, match="GOCLUSTER_X must be true or false"):
        _parse("GOCLUSTER_X", "maybe", False)


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        ({"GOCLUSTER_RETRIEVAL_K": "abc"}, ["ask", "Wer darf sich bewerben?"], "GOCLUSTER_RETRIEVAL_K"),
        ({"GOCLUSTER_LLM_TIMEOUT_S": "soon"}, ["eval", "--split", "test"], "GOCLUSTER_LLM_TIMEOUT_S"),
        ({"GOCLUSTER_INDEX_DIR": ""}, ["index"], "GOCLUSTER_INDEX_DIR must be a path"),
    ],
)
def test_the_cli_prints_one_error_line(tmp_path, env, args, fragment):
    base = {k: v for k, v in os.environ.items() if not k.startswith("GOCLUSTER_")}
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(base, **env), timeout=120,
                          check=False, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and not proc.stdout
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and fragment in proc.stderr
