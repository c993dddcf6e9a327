"""Staff sessions (random server-side tokens that expire) and the pause after failed logins.

Both live in memory and are bounded: a restart logs everyone out, and a flood of logins or failed
attempts evicts the oldest entries instead of growing the process.

>>> sessions = Sessions(lifetime_s=8 * 3600, idle_s=3600)
>>> token = sessions.create("office")
>>> sessions.user(token)
'office'
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Session:
    user: str
    created: float
    seen: float


class Sessions:
    """Token -> account, valid for `lifetime_s` after the login and `idle_s` after the last request."""

    def __init__(self, lifetime_s: float, idle_s: float, max_sessions: int = 1_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_s = lifetime_s
        self.idle_s = idle_s
        self.max_sessions = max_sessions
        self.clock = clock
        self._lock = threading.Lock()
        self._by_token: OrderedDict[str, _Session] = OrderedDict()

    def create(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._by_token[token] = _Session(user, now, now)
            while len(self._by_token) > self.max_sessions:
                self._by_token.popitem(last=False)
        return token

    def user(self, token: str | None) -> str | None:
        """The account of a valid token (and the token's idle time restarts), else None."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if now - session.created > self.lifetime_s or now - session.seen > self.idle_s:
                del self._by_token[token]
                return None
            session.seen = now
            self._by_token.move_to_end(token)
            return session.user

    def end(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)

    def end_user(self, user: str) -> None:
        with self._lock:
            for token in [t for t, s in self._by_token.items() if s.user == user]:
                del self._by_token[token]


@dataclass
class _Failures:
    count: int
    until: float


class LoginThrottle:
    """After `free` failed logins for one key (an account, a client address), each further attempt
    waits: 1 s, 2 s, 4 s ... up to `max_pause_s`. A success clears the key; at most `max_keys` are kept."""

    def __init__(self, free: int = 5, max_pause_s: float = 900.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free = free
        self.max_pause_s = max_pause_s
        self.max_keys = max_keys
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def wait_s(self, *keys: str) -> float:
        """Seconds until a login for these keys is tried again (0: try now)."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(f.until - now for k in keys if (f := self._failures.get(k)))])

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                entry = self._failures.pop(key, None) or _Failures(0, 0.0)
                entry.count += 1
                if entry.count >= self.free:
                    entry.until = now + min(self.max_pause_s, 2.0 ** (entry.count - self.free))
                self._failures[key] = entry
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)
