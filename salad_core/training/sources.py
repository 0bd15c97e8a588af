"""Resumable sample sources: interleaved speech and text-only replay, read shard by shard.

Usage:
    from salad_core.training.sources import SpeechSource, TextSource
    speech = SpeechSource("natural", rows, tokenizer, interleave_config, num_codebooks=8, seed=0,
                          held_out_fraction=0.1)
    item = speech.peek()          # the next usable sample (not consumed)
    speech.advance()              # consume it
    state = speech.position       # {"epoch", "shard", "row", "offset"}: JSON, goes in checkpoints
    speech.restore(state)

`rows` is anything with `label`, `num_shards` and `read_shard(i) -> list[dict]` (the task layer
reads store artifacts; tests may pass lists). Sources walk the shards in order and start over
(next epoch) at the end. A sample depends only on (seed, source name, epoch, row id), never on
what was drawn before, so restoring a position restores the exact stream. Speech rows whose id
falls in the held-out hash split are never trained on; `held_out_items` serves them for M / F.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from salad_core.interleave.builder import InterleaveConfig, interleave_utterance
from salad_core.interleave.records import InterleavedSample
from salad_core.interleave.text_only import text_only_sample
from salad_core.interleave.tokenize import as_encoder
from salad_core.teacher.split import is_held_out
from salad_core.training.rows import TrainingDataError, aligned_utterance


class ShardedRows(Protocol):
    label: str
    num_shards: int

    def read_shard(self, shard: int) -> list[dict]:
        """The rows of one shard (0 <= shard < num_shards), in a fixed order so a saved position can be replayed."""


@dataclass
class Item:
    sample: InterleavedSample
    frames: np.ndarray | None  # (n_frames, n_codebooks) int16 codes; None for text

    @property
    def cost(self) -> int:
        """Positions this sample occupies in a padded batch (the longer of student and teacher)."""
        return max(self.sample.n_positions, len(self.sample.teacher_ids))


def stable_seed(*parts) -> int:
    """A 64-bit seed derived from the parts' string forms via SHA-256: stable across processes and machines, unlike hash()."""
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


class _RowSource:
    """Walks (epoch, shard, row[, offset]) over the rows; subclasses turn a row into an Item."""

    def __init__(self, name: str, rows: ShardedRows):
        if rows.num_shards < 1:
            raise TrainingDataError(f"mixture source {name!r}: {rows.label} has no shards (an empty source)")
        self.name, self.rows = name, rows
        self.epoch = self.shard = self.row = self.offset = 0
        self._cache: tuple[int, list[dict]] | None = None
        self._pending: Item | None = None
        self._produced_since_wrap = True
        self.skipped = 0  # rows without a usable sample (no text-next position, held out)

    @property
    def position(self) -> dict:
        return {"epoch": self.epoch, "shard": self.shard, "row": self.row, "offset": self.offset}

    def restore(self, position: dict) -> None:
        self.epoch, self.shard, self.row, self.offset = (int(position[k]) for k in ("epoch", "shard", "row", "offset"))
        self._pending, self._produced_since_wrap = None, True

    def _shard_rows(self, shard: int) -> list[dict]:
        if self._cache is None or self._cache[0] != shard:
            self._cache = (shard, self.rows.read_shard(shard))
        return self._cache[1]

    def _next_row(self) -> None:
        self.row, self.offset = self.row + 1, 0

    def peek(self) -> Item:
        while self._pending is None:
            rows = self._shard_rows(self.shard)
            if self.row >= len(rows):
                self.shard, self.row, self.offset = self.shard + 1, 0, 0
                if self.shard >= self.rows.num_shards:
                    if not self._produced_since_wrap:
                        raise TrainingDataError(
                            f"mixture source {self.name!r}: {self.rows.label} gives no usable sample "
                            f"({self.skipped} rows skipped: held out or without text-next positions): an empty source"
                        )
                    self.epoch, self.shard, self._produced_since_wrap = self.epoch + 1, 0, False
                continue
            self._pending = self._item(rows[self.row])
        return self._pending

    def advance(self) -> None:
        self.peek()
        self._pending, self._produced_since_wrap = None, True
        self._consumed()

    def _item(self, row: dict) -> Item | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _consumed(self) -> None:
        self._next_row()


class SpeechSource(_RowSource):
    def __init__(
        self,
        name: str,
        rows: ShardedRows,
        tokenizer,
        interleave: InterleaveConfig,
        num_codebooks: int,
        seed: int,
        held_out_fraction: float = 0.0,
    ):
        super().__init__(name, rows)
        self.tokenizer, self.interleave = tokenizer, interleave
        self.num_codebooks, self.seed, self.held_out_fraction = num_codebooks, seed, held_out_fraction

    def _sample(self, row: dict, epoch: int) -> Item | None:
        utt, codes = aligned_utterance(row, self.rows.label, self.num_codebooks)
        sample = interleave_utterance(utt, self.tokenizer, self.interleave, seed=stable_seed(self.seed, self.name, epoch, utt.utterance_id))
        return Item(sample, codes) if sample.target_ids else None

    def _item(self, row: dict) -> Item | None:
        item = None
        if not (self.held_out_fraction and is_held_out(str(row["id"]), self.held_out_fraction)):
            item = self._sample(row, self.epoch)
        if item is None:
            self.skipped += 1
            self._next_row()
        return item

    def held_out_items(self, n: int) -> list[Item]:
        """The first `n` usable held-out rows (same every run), interleaved with epoch 0's seeds."""
        items = []
        for shard in range(self.rows.num_shards):
            for row in self.rows.read_shard(shard):
                if is_held_out(str(row["id"]), self.held_out_fraction) and (item := self._sample(row, 0)) is not None:
                    items.append(item)
                    if len(items) == n:
                        return items
        if not items:
            raise TrainingDataError(f"{self.rows.label}: no held-out speech row (held_out_fraction={self.held_out_fraction}) for M and F")
        return items


class TextSource(_RowSource):
    """Text replay: each document in windows of `max_positions` tokens (position `offset` inside it)."""

    def __init__(self, name: str, rows: ShardedRows, tokenizer, max_positions: int, eos_id: int | None = None):
        super().__init__(name, rows)
        self.encode, self.max_positions, self.eos_id = as_encoder(tokenizer), max_positions, eos_id
        self._tokens: tuple[tuple[int, int, int], list[int]] | None = None

    def _doc_tokens(self, row: dict) -> list[int]:
        key = (self.epoch, self.shard, self.row)
        if self._tokens is None or self._tokens[0] != key:
            text = row.get("text")
            if not isinstance(text, str):
                raise TrainingDataError(f"{self.rows.label}: row {row.get('id')!r} has no text")
            ids = self.encode(text) + ([self.eos_id] if self.eos_id is not None else [])
            self._tokens = (key, ids)
        return self._tokens[1]

    def _item(self, row: dict) -> Item | None:
        ids = self._doc_tokens(row)[self.offset : self.offset + self.max_positions]
        if len(ids) < 2:  # nothing to predict
            if self.offset == 0:
                self.skipped += 1
            self._next_row()
            return None
        return Item(text_only_sample(f"{row['id']}#{self.offset}", ids, self.max_positions), None)

    def _consumed(self) -> None:
        self.offset += self.max_positions


def pack(source: _RowSource, budget: int, max_rows: int) -> list[Item]:
    """Consume samples from `source` while rows x longest row stays within `budget` positions."""
    items: list[Item] = []
    longest = 0
    while len(items) < max_rows:
        item = source.peek()
        if item.cost > budget:
            raise TrainingDataError(
                f"{source.rows.label}: sample {item.sample.sample_id!r} needs {item.cost} positions, more than the "
                f"micro-batch budget of {budget} (raise micro_batch_positions or lower max_positions)"
            )
        if (len(items) + 1) * max(longest, item.cost) > budget:
            break
        longest = max(longest, item.cost)
        items.append(item)
        source.advance()
    return items


def restore_all(sources: Sequence[_RowSource], positions: dict) -> None:
    """Restore each source to its saved position in `positions` (keyed by source name); TrainingDataError when a source has no entry."""
    for source in sources:
        if source.name not in positions:
            raise TrainingDataError(f"checkpoint data position has no entry for source {source.name!r}")
        source.restore(positions[source.name])
