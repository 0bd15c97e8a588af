"""Selective regeneration: which clusters to synthesise and tokenize again, and nothing more.

Usage:
    clusters_to_redo(current_m, previous_m, delta=0.05)             # |ΔM(c)| > delta, or new/vanished
    clusters_to_redo(current_m, previous_m, clusters=[3, 7])         # by id (union with the delta rule)
    keep_mask = rows_of_clusters(cluster_column, redo)               # the rows to regenerate

Why by cluster: M(c) moves cluster by cluster when a checkpoint changes, and the selection and its
speech are keyed by cluster, so only the clusters whose score moved need new audio; every other
committed shard is reused by fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


def clusters_to_redo(
    current: Mapping[int, float],
    previous: Mapping[int, float] | None = None,
    delta: float | None = None,
    clusters: Iterable[int] | None = None,
) -> list[int]:
    """Clusters named in `clusters`, plus (with `delta`) those whose M(c) moved by more than delta;
    a cluster scored in only one of the two versions counts as moved."""
    redo = {int(c) for c in clusters or []}
    unknown = redo - set(current)
    if unknown:
        raise ValueError(f"clusters {sorted(unknown)} are not in the current misalignment")
    if delta is not None:
        if previous is None:
            raise ValueError("a delta rule needs the previous misalignment to compare with")
        if delta < 0:
            raise ValueError(f"delta must be >= 0, got {delta}")
        for c in set(current) | set(previous):
            if c not in current or c not in previous or abs(current[c] - previous[c]) > delta:
                redo.add(int(c))
    return sorted(redo)


def rows_of_clusters(cluster_column: Iterable[int], clusters: Iterable[int]) -> np.ndarray:
    """Boolean mask over `cluster_column` (one entry per row, row order kept): True where the row's cluster is in `clusters`."""
    return np.isin(np.asarray(list(cluster_column), dtype=np.int64), np.asarray(list(clusters), dtype=np.int64))
