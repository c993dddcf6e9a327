"""Staff accounts (argon2 hashes in a 0600 file, managed by the CLI), sessions that expire, and the pause
after failed logins - as plain objects, without a server."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

import cli
from ui.accounts import AccountError, Accounts
from ui.sessions import LoginThrottle, Sessions

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # the real algorithm, cheap parameters


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_accounts_keep_hashes_only_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "staff-users"
    accounts = Accounts(path, FAST)
    accounts.add("office", "a long pass phrase")
    accounts.add("hotline.2", "another long phrase")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "a long pass phrase" not in text and text.count("$argon2id$") == 2
    assert accounts.names() == ["hotline.2", "office"]
    assert accounts.verify("office", "a long pass phrase")
    assert not accounts.verify("office", "a long pass phrasE")
    assert not accounts.verify("nobody", "a long pass phrase")
    accounts.add("office", "a new long phrase!")  # a new password replaces the old one
    assert not accounts.verify("office", "a long pass phrase") and accounts.verify("office", "a new long phrase!")
    accounts.remove("office")
    assert Accounts(path, FAST).names() == ["hotline.2"]  # another process reads the same file


@pytest.mark.parametrize(("name", "password", "message"), [
    ("", "a long pass phrase", "not allowed"), ("büro", "a long pass phrase", "not allowed"),
    ("a:b", "a long pass phrase", "not allowed"), ("x" * 65, "a long pass phrase", "not allowed"),
    ("office", "short", "12 to 1,024 characters"), ("office", "x" * 1025, "12 to 1,024 characters"),
])
def test_bad_names_and_passwords_are_refused(tmp_path: Path, name: str, password: str, message: str) -> None:
    with pytest.raises(AccountError, match=message):
        Accounts(tmp_path / "users", FAST).add(name, password)
    assert not (tmp_path / "users").exists()


def test_removing_an_unknown_account_and_a_broken_file(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match="no staff account 'ghost'"):
        Accounts(tmp_path / "users", FAST).remove("ghost")
    broken = tmp_path / "folder"
    broken.mkdir()
    with pytest.raises(AccountError, match="not a regular file"):
        Accounts(broken, FAST).names()
    junk = tmp_path / "junk"
    junk.write_text("no colon here\nx:plain-password\n")
    assert Accounts(junk, FAST).names() == []  # only argon2 hashes count as accounts


def test_sessions_expire_after_their_lifetime_and_when_idle() -> None:
    clock = Clock()
    sessions = Sessions(lifetime_s=100, idle_s=30, clock=clock)
    token = sessions.create("office")
    assert len(token) >= 40 and sessions.user(token) == "office"
    clock.now += 25
    assert sessions.user(token) == "office"  # each request restarts the idle time ...
    clock.now += 25
    assert sessions.user(token) == "office"
    clock.now += 31
    assert sessions.user(token) is None  # ... idle too long
    token = sessions.create("office")
    for _ in range(5):
        clock.now += 25
        sessions.user(token)
    assert sessions.user(token) is None  # past the lifetime, however busy
    assert sessions.user(None) is None and sessions.user("forged") is None


def test_sessions_end_by_logout_by_account_and_stay_bounded() -> None:
    sessions = Sessions(lifetime_s=100, idle_s=100, max_sessions=3)
    a, b = sessions.create("a"), sessions.create("b")
    sessions.end(a)
    assert sessions.user(a) is None and sessions.user(b) == "b"
    sessions.end_user("b")
    assert sessions.user(b) is None
    tokens = [sessions.create(f"u{i}") for i in range(10)]
    assert [sessions.user(t) for t in tokens[-3:]] == ["u7", "u8", "u9"] and sessions.user(tokens[0]) is None


def test_failed_logins_pause_each_key_longer_and_memory_is_bounded() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, max_pause_s=8, max_keys=100, clock=clock)
    for _ in range(2):
        throttle.failed("user:office", "client:1.2.3.4")
    assert throttle.wait_s("user:office") == 0
    throttle.failed("user:office", "client:1.2.3.4")
    assert throttle.wait_s("user:office") == 1 and throttle.wait_s("client:9.9.9.9") == 0
    waits = []
    for _ in range(5):
        clock.now += 100
        throttle.failed("user:office")
        waits.append(throttle.wait_s("user:office"))
    assert waits == [2, 4, 8, 8, 8]  # doubling, up to the cap
    throttle.succeeded("user:office")
    assert throttle.wait_s("user:office") == 0
    for i in range(1_000):
        throttle.failed(f"client:{i}")
    assert len(throttle) == 100


def test_cli_manages_accounts_with_the_password_on_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "staff-users"
    monkeypatch.setenv("GOCLUSTER_STAFF_USERS_FILE", str(path))
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long pass phrase\n"))
    assert cli.main(["staff-user", "add", "office", "--password-stdin"]) == 0
    assert Accounts(path).verify("office", "a long pass phrase")
    assert cli.main(["staff-user", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "office"
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["staff-user", "add", "other", "--password-stdin"]) == 2
    assert "error: The password needs 12 to 1,024 characters." in capsys.readouterr().err
    assert cli.main(["staff-user", "remove", "office"]) == 0
    assert cli.main(["staff-user", "remove", "office"]) == 2
    assert cli.main(["staff-user", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no staff account yet"


def test_the_staff_app_refuses_to_start_without_an_account(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOCLUSTER_STAFF_USERS_FILE", str(tmp_path / "none"))
    assert cli.main(["staff"]) == 1
    assert capsys.readouterr().err.strip() == ("error: No staff account yet: add one with `gocluster-faq staff-user"
                                               " add NAME`, then start the staff app again.")
