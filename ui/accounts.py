"""Staff accounts: one `name:argon2-hash` line per account in a private file (0600), no plain passwords.

The programme office manages the file with `gocluster-faq staff-user add|remove|list`; the staff app
re-reads it when it changes, so a removed account is logged out at its next request.

>>> accounts = Accounts(Path("var/staff-users"))                        # doctest: +SKIP
>>> accounts.add("office", "a long pass phrase")                        # doctest: +SKIP
>>> accounts.verify("office", "a long pass phrase")                     # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from indexer.errors import FaqError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1_024
MAX_FILE_BYTES = 1_000_000
ADD_HINT = "gocluster-faq staff-user add NAME"


class AccountError(FaqError):
    """A staff account cannot be added, removed or read as asked."""

    exit_code = 2


class Accounts:
    """The account file; safe to use from several threads (reads are cached by modification time)."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, str]] | None = None
        # Checked when the name is unknown, so a wrong name costs as long as a wrong password.
        self._dummy = self.hasher.hash("not a password of anyone")

    def names(self) -> list[str]:
        return sorted(self._read())

    def exists(self, name: str) -> bool:
        return name in self._read()

    def verify(self, name: str, password: str) -> bool:
        stored = self._read().get(name)
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def add(self, name: str, password: str) -> None:
        """Add an account or set a new password for it."""
        if not NAME.fullmatch(name or ""):
            raise AccountError(f"The name {name!r} is not allowed: use 1-64 letters, digits or . _ @ -.")
        if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
            raise AccountError(f"The password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS:,} characters.")
        with self._lock:
            accounts = self._read()
            accounts[name] = self.hasher.hash(password)
            self._write(accounts)

    def remove(self, name: str) -> None:
        with self._lock:
            accounts = self._read()
            if accounts.pop(name, None) is None:
                raise AccountError(f"There is no staff account {name!r} (see `gocluster-faq staff-user list`).")
            self._write(accounts)

    def _read(self) -> dict[str, str]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise AccountError(f"The staff account file cannot be read ({exc.strerror}).") from exc
        key = (info.st_mtime_ns, info.st_size)
        if self._cache is not None and self._cache[0] == key:
            return dict(self._cache[1])
        if not self.path.is_file() or info.st_size > MAX_FILE_BYTES:
            raise AccountError("The staff account file is not a regular file of at most 1 MB.")
        accounts = {}
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            name, sep, digest = line.strip().partition(":")
            if sep and NAME.fullmatch(name) and digest.startswith("$argon2"):
                accounts[name] = digest
        self._cache = (key, accounts)
        return dict(accounts)

    def _write(self, accounts: dict[str, str]) -> None:
        """Replace the file atomically, readable by this account only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".staff-users-", dir=self.path.parent)  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(f"{n}:{h}\n" for n, h in sorted(accounts.items())))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)
        self._cache = None
