"""LiveBot swaps in a new bot when CURRENT names a new version; questions in flight finish on the old one;
a version that cannot be loaded leaves the old bot live. Plumbing with stand-in bots (no model)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.live import LiveBot
from indexer.errors import IndexMismatch


class StandIn:
    def __init__(self, version: str, gate: threading.Event | None = None) -> None:
        self.index_version = version
        self.gate = gate

    def answer(self, question: str, history: object = None) -> str:
        if self.gate is not None:
            self.gate.wait(10)
        return f"{self.index_version}: {question}"

    def search(self, query: str, k: int = 10, language: object = None, source: object = None) -> list:
        return [self.index_version, query, k, language, source]

    def documents(self) -> list[dict]:
        return [{"file": self.index_version}]


def point(index_dir: Path, name: str) -> None:
    index_dir.mkdir(exist_ok=True)
    (index_dir / "CURRENT").write_text(name + "\n")


def test_a_new_version_is_swapped_in_and_a_question_in_flight_finishes_on_the_old_bot(tmp_path: Path) -> None:
    point(tmp_path, "v-1")
    gate = threading.Event()
    versions = iter([StandIn("v-1", gate), StandIn("v-2")])
    live = LiveBot(tmp_path, lambda: next(versions), interval_s=60)
    results: list[str] = []
    in_flight = threading.Thread(target=lambda: results.append(live.answer("Wer?")))
    in_flight.start()
    time.sleep(0.2)
    point(tmp_path, "v-2")
    assert live.check() and live.index_version == "v-2" and live.reloads == 1
    gate.set()
    in_flight.join(10)
    assert results == ["v-1: Wer?"]  # started on v-1, finished on v-1
    assert live.answer("Und?") == "v-2: Und?"
    assert live.search("q", k=3, language="de") == ["v-2", "q", 3, "de", None]
    assert live.documents() == [{"file": "v-2"}]
    assert not live.check()  # nothing new


def test_a_broken_version_keeps_the_old_bot_until_current_moves_on(tmp_path: Path) -> None:
    point(tmp_path, "v-1")
    calls: list[str] = []

    def load() -> StandIn:
        name = (tmp_path / "CURRENT").read_text().strip()
        calls.append(name)
        if name == "v-bad":
            raise IndexMismatch("damaged")
        return StandIn(name)

    live = LiveBot(tmp_path, load, interval_s=60)
    point(tmp_path, "v-bad")
    assert not live.check() and live.index_version == "v-1"
    assert not live.check() and calls == ["v-1", "v-bad"]  # not retried in a loop
    point(tmp_path, "v-3")
    assert live.check() and live.index_version == "v-3"
    (tmp_path / "CURRENT").unlink()
    assert not live.check() and live.index_version == "v-3"  # no index at all: keep answering


def test_the_watcher_thread_notices_a_new_version_by_itself(tmp_path: Path) -> None:
    point(tmp_path, "v-1")
    live = LiveBot(tmp_path, lambda: StandIn((tmp_path / "CURRENT").read_text().strip()), interval_s=0.05)
    live.start()
    try:
        point(tmp_path, "v-2")
        deadline = time.monotonic() + 10
        while live.index_version != "v-2" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.index_version == "v-2"
    finally:
        live.stop()
