"""Which input rows a synthesis run speaks, and how they are cut into shards.

Usage:
    chosen = hashed_sample(ids, limit=20, seed=0)           # or None: the first `limit` rows
    for shard, rows in shard_rows(selected_rows(batches, limit=20, chosen=chosen), shard_rows=8):
        ...   # shard 0, 1, ... with lists of row dicts, in input order

Output shard i always holds the same rows for the same input and settings, whatever ran before,
so a resumed run recomputes exactly the shards that are missing and nothing else.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from salad_core.seeded_hash import seeded_hash


def row_hash(row_id: str, seed: int) -> int:
    """The order rows are sampled in (salad_core.seeded_hash, purpose "row-sample")."""
    return seeded_hash(row_id, seed, "row-sample")


def hashed_sample(ids: Iterable[str], limit: int, seed: int) -> set[int]:
    """Positions of the `limit` rows with the smallest seeded id hashes: a uniform sample, stable
    under re-runs, and independent of the order rows arrive in (ties broken by position)."""
    return {pos for _, pos in heapq.nsmallest(limit, ((row_hash(str(i), seed), pos) for pos, i in enumerate(ids)))}


def selected_rows(batches: Iterable[pa.RecordBatch], limit: int | None, chosen: set[int] | None) -> Iterator[dict[str, Any]]:
    """Rows as dicts in input order: those in `chosen` (positions) if given, else the first `limit`."""
    position = kept = 0
    for batch in batches:
        for row in batch.to_pylist():
            take = position in chosen if chosen is not None else True
            position += 1
            if not take:
                continue
            if limit is not None and kept >= limit:
                return
            kept += 1
            yield row


def shard_rows(rows: Iterable[dict[str, Any]], shard_rows: int, group: str | None = None) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Consecutive groups of `shard_rows` rows (the last may be shorter), numbered from 0; with
    `group`, a new shard also starts where that column's value changes (rows come grouped)."""
    shard, current = 0, []
    for row in rows:
        if current and group is not None and row.get(group) != current[-1].get(group):
            yield shard, current
            shard, current = shard + 1, []
        current.append(row)
        if len(current) == shard_rows:
            yield shard, current
            shard, current = shard + 1, []
    if current:
        yield shard, current


def grouped_rows(rows: Iterable[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    """Rows ordered by `column` (stable: input order inside a group; missing values last)."""
    rows = list(rows)
    return sorted(rows, key=lambda r: (r.get(column) is None, r.get(column) if r.get(column) is not None else 0))
