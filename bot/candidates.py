"""Candidate answer units for a question: the units of the retrieved passages, the units nearest to the
question in the unit index, and (for a follow-up) the units of the passages the previous answer cited.
Knows nothing about answering: it only gathers and measures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.query_adapter import QueryAdapter
from bot.results import Hit
from indexer.chunk import Chunk
from indexer.store import StoredIndex
from indexer.units import UnitRecord


@dataclass(frozen=True)
class Candidate:
    row: int  # the unit's row in the unit index
    record: UnitRecord
    chunk: Chunk
    dense: float  # question (through the query adapter) . unit (read inside its passage)
    dense_rank: int  # 1 = nearest unit of the whole index
    passage_rank: int  # rank of its passage in the hybrid retrieval, 0 = not retrieved
    passage_dense: float  # question . passage
    from_history: bool = False

    @property
    def text(self) -> str:
        return self.record.unit.text


# A candidate's units before and after it in its passage (CandidateFinder.neighbours).
Neighbours = Callable[[Candidate], tuple[UnitRecord | None, UnitRecord | None]]


class CandidateFinder:
    """>>> finder = CandidateFinder(stored_index)
    >>> finder.find(query_vector, hits)   # doctest: +SKIP
    """

    def __init__(self, index: StoredIndex, nearest_units: int = 30, adapter: QueryAdapter | None = None) -> None:
        self.records = index.units
        self.unit_vectors = np.ascontiguousarray(index.unit_vectors(), dtype=np.float32)
        self.chunk_vectors = np.ascontiguousarray(index.vectors(), dtype=np.float32)
        self.chunks = {c.id: c for c in index.chunks}
        self.chunk_rows = {c.id: i for i, c in enumerate(index.chunks)}
        self.rows_of_chunk: dict[str, list[int]] = {}
        for row, record in enumerate(self.records):
            self.rows_of_chunk.setdefault(record.chunk_id, []).append(row)
        self.nearest_units = nearest_units
        self.adapter = adapter  # None: e5's query vectors as they are

    def find(self, query_vector: np.ndarray, hits: Sequence[Hit],
             history_chunks: Iterable[str] = ()) -> list[Candidate]:
        if not self.records:
            return []
        sims = self.unit_vectors @ (self.adapter(query_vector) if self.adapter else query_vector)
        order = np.argsort(-sims, kind="stable")
        ranks = np.empty(len(order), dtype=np.int64)
        ranks[order] = np.arange(1, len(order) + 1)
        passage_sims = self.chunk_vectors @ query_vector
        hit_rank = {h.chunk.id: h.rank for h in hits}
        # In the order given: a set's order changes from process to process (hash seeds), and with it which
        # copy of a sentence is kept and which passages the next turn's history cites (training differed).
        history = tuple(dict.fromkeys(history_chunks))
        rows = [r for h in hits for r in self.rows_of_chunk.get(h.chunk.id, [])]
        rows += [int(r) for r in order[: self.nearest_units]]
        rows += [r for cid in history for r in self.rows_of_chunk.get(cid, [])]
        best: dict[str, Candidate] = {}  # overlapping passages repeat sentences: keep one of each
        for row in dict.fromkeys(rows):
            record = self.records[row]
            chunk = self.chunks[record.chunk_id]
            cand = Candidate(row, record, chunk, float(sims[row]), int(ranks[row]),
                             hit_rank.get(chunk.id, 0), float(passage_sims[self.chunk_rows[chunk.id]]),
                             chunk.id in history)
            key = record.unit.text
            held = best.get(key)
            if held is None or _preferred(cand, held):
                best[key] = cand
            if held is not None and held.from_history != cand.from_history:
                best[key] = replace(best[key], from_history=True)
        return list(best.values())

    def neighbours(self, cand: Candidate) -> tuple[UnitRecord | None, UnitRecord | None]:
        """The units before and after a candidate in its passage (document order)."""
        rows = [r for r in self.rows_of_chunk[cand.chunk.id] if self.records[r].unit.part_of is None]
        indexes = [self.records[r].unit.index for r in rows]
        own = cand.record.unit.part_of if cand.record.unit.part_of is not None else cand.record.unit.index
        if own not in indexes:
            return None, None
        pos = indexes.index(own)
        before = self.records[rows[pos - 1]] if pos > 0 else None
        after = self.records[rows[pos + 1]] if pos + 1 < len(rows) else None
        return before, after


def _preferred(a: Candidate, b: Candidate) -> bool:
    """Of two copies of one sentence: the retrieved passage, then the better-ranked one, then history."""
    rank_a = a.passage_rank or 10_000
    rank_b = b.passage_rank or 10_000
    return (rank_a, not a.from_history) < (rank_b, not b.from_history)
