"""The fit sample: which documents k-means is fitted on, chosen by a seeded hash of their id.

Usage:
    collector = FitSampleCollector(fraction=0.1, max_vectors=200_000, seed=0)
    for ids, vectors in stream:                      # any shard order, any batch size
        collector.add(ids, vectors)
    ids, vectors = collector.result()                # sorted by hash: the same arrays for any order

    ids, vectors = sample_for_fit(stream, fraction=0.1, max_vectors=200_000, seed=0)
    in_fit_sample(ids, fraction=0.1, seed=0)         # bool mask, row by row

Why hash of id rather than reservoir sampling: a document's membership depends on its id and the
seed alone, so the sample is the same whatever order the shards arrive in, and a resumed run
picks exactly the rows the interrupted one did. The cap keeps the documents with the smallest
hashes (bottom-k), which is also order-free and bounds memory to about 2 × max_vectors vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from salad_core.seeded_hash import seeded_hashes

_TWO_64 = float(2**64)
FIT_SAMPLE = "fit-sample"  # the purpose the probe and the sampler share with the fit sample (their orders predate the split)


def id_hashes(ids: Sequence[str], seed: int) -> np.ndarray:
    """uint64 per id (salad_core.seeded_hash, purpose "fit-sample"), uniform and stable across machines."""
    return seeded_hashes(ids, seed, FIT_SAMPLE)


def in_fit_sample(ids: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """Row mask of the fit sample: True where the id's seeded hash falls in the lowest `fraction`, the same whatever order rows arrive in."""
    return below_fraction(id_hashes(ids, seed), fraction)


def below_fraction(hashes: np.ndarray, fraction: float) -> np.ndarray:
    """True where a uint64 hash is below fraction * 2^64, so membership is a fixed property of the hash; all True for fraction >= 1."""
    if fraction >= 1.0:
        return np.ones(len(hashes), dtype=bool)
    return hashes < np.uint64(int(fraction * _TWO_64))


class FitSampleCollector:
    """Keeps the eligible rows of a stream, pruned to the max_vectors smallest hashes."""

    def __init__(self, fraction: float = 1.0, max_vectors: int | None = None, seed: int = 0):
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        self.fraction, self.max_vectors, self.seed = fraction, max_vectors, seed
        self._hashes: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._vectors: list[np.ndarray] = []
        self._held = 0

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Keep the batch's rows that fall in the fit sample; ValueError when ids and vectors differ in length. Memory stays under
        about 2 x max_vectors rows."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(ids) != len(vectors):
            raise ValueError(f"got {len(ids)} ids but {len(vectors)} vectors")
        hashes = id_hashes(ids, self.seed)
        keep = below_fraction(hashes, self.fraction)
        if not keep.any():
            return
        self._hashes.append(hashes[keep])
        self._ids.append(np.asarray(ids, dtype=object)[keep])
        self._vectors.append(vectors[keep])
        self._held += int(keep.sum())
        if self.max_vectors is not None and self._held > 2 * self.max_vectors:
            self._prune(self.max_vectors)

    def result(self) -> tuple[list[str], np.ndarray]:
        """(ids, vectors) of the sample sorted by hash then id, capped at max_vectors: identical for any arrival order; an empty
        (0, 0) array when nothing was kept."""
        self._prune(self.max_vectors)
        if not self._hashes:
            return [], np.empty((0, 0), dtype=np.float32)
        return self._ids[0].tolist(), self._vectors[0]

    def _prune(self, keep: int | None) -> None:
        """One sorted block (by hash, then id for the astronomically rare tie) of at most `keep` rows."""
        if not self._hashes:
            return
        hashes, ids = np.concatenate(self._hashes), np.concatenate(self._ids)
        vectors = np.concatenate(self._vectors)
        order = np.lexsort((ids.astype(str), hashes))[:keep]
        self._hashes, self._ids, self._vectors = [hashes[order]], [ids[order]], [vectors[order]]
        self._held = len(order)


def sample_for_fit(
    batches: Iterable[tuple[Sequence[str], np.ndarray]],
    fraction: float = 1.0,
    max_vectors: int | None = None,
    seed: int = 0,
) -> tuple[list[str], np.ndarray]:
    """The fit sample of a stream of (ids, vectors) batches in one call; see FitSampleCollector for the order-free guarantee."""
    collector = FitSampleCollector(fraction, max_vectors, seed)
    for ids, vectors in batches:
        collector.add(ids, vectors)
    return collector.result()
