"""Cluster purity against reference labels: how well clusters recover known topics.

Usage:
    purity(cluster_ids, [topic_of_url(u) for u in urls])   # 1.0: every cluster holds a single topic

Each cluster is credited with its most common label; purity is the share of documents credited.
It rewards many small clusters, so compare it only at a fixed k.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def purity(cluster_ids: Sequence[int] | np.ndarray, labels: Sequence[object]) -> float:
    """Fraction of documents whose label is their cluster's majority label, in (0, 1]; ValueError for mismatched lengths or an empty assignment."""
    clusters = np.asarray(cluster_ids)
    if len(clusters) != len(labels):
        raise ValueError(f"got {len(clusters)} cluster ids but {len(labels)} labels")
    if len(clusters) == 0:
        raise ValueError("purity of an empty assignment is undefined")
    by_cluster: dict[int, Counter] = {}
    for cluster, label in zip(clusters.tolist(), labels):
        by_cluster.setdefault(cluster, Counter())[label] += 1
    return sum(max(counts.values()) for counts in by_cluster.values()) / len(clusters)
