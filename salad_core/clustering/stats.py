"""Per-cluster statistics accumulated from streamed assignment batches, as one Arrow table.

Usage:
    stats = ClusterStats(ClusterConfig(k=128))
    for batch in assigned_batches:                    # any number of rows each; never the whole corpus
        stats.update(batch["id"], batch["text"], batch["cluster"], batch["distance"])
    table = stats.table()                             # one row per cluster, schema STATS_SCHEMA

Columns: cluster, size, share (P_web(c), the cluster's share of all documents, which Stage II
multiplies by M(c)^γ), mean_distance (mean cosine distance to the centroid; null for an empty
cluster), top_terms, and examples (the documents nearest the centroid, id and a text snippet).
Sizes and distances use every row; examples are exact (smallest distance, ties by id, so the
result does not depend on batch order); top terms come from ClusterTermCounter over the rows whose
id hash falls in term_sample_fraction.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from salad_core.clustering.config import ClusterConfig
from salad_core.clustering.sampling import in_fit_sample
from salad_core.clustering.terms import ClusterTermCounter

EXAMPLE_TYPE = pa.struct([("id", pa.string()), ("text", pa.string())])
STATS_SCHEMA = pa.schema(
    [
        ("cluster", pa.int32()),
        ("size", pa.int64()),
        ("share", pa.float64()),
        ("mean_distance", pa.float64()),
        ("top_terms", pa.list_(pa.string())),
        ("examples", pa.list_(EXAMPLE_TYPE)),
    ]
)
_SPACES = re.compile(r"\s+")


class ClusterStats:
    def __init__(self, config: ClusterConfig):
        self.config = config
        self.sizes = np.zeros(config.k, dtype=np.int64)
        self.distance_sums = np.zeros(config.k, dtype=np.float64)
        self.nearest: list[list[tuple[float, str, str]]] = [[] for _ in range(config.k)]
        self.terms = ClusterTermCounter(config.k, config.max_vocabulary)

    def update(self, ids, texts, clusters, distances) -> None:
        """One batch; columns may be Arrow arrays, NumPy arrays or lists of equal length."""
        ids, texts = as_list(ids), as_list(texts)
        clusters = np.asarray(clusters, dtype=np.int64)
        distances = np.asarray(distances, dtype=np.float64)
        if not len(ids) == len(texts) == len(clusters) == len(distances):
            raise ValueError("ids, texts, clusters and distances must have the same length")
        if len(clusters) and (clusters.min() < 0 or clusters.max() >= self.config.k):
            raise ValueError(f"cluster ids must be in [0, {self.config.k})")
        self.sizes += np.bincount(clusters, minlength=self.config.k)
        self.distance_sums += np.bincount(clusters, weights=distances, minlength=self.config.k)
        self._keep_nearest(ids, texts, clusters, distances)
        self._count_terms(ids, texts, clusters)

    def table(self) -> pa.Table:
        """One STATS_SCHEMA row per cluster 0..k-1, including empty clusters (size 0, null mean distance)."""
        total = int(self.sizes.sum())
        top_terms = self.terms.top_terms(self.config.top_terms)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_distance = self.distance_sums / self.sizes
        columns = {
            "cluster": np.arange(self.config.k, dtype=np.int32),
            "size": self.sizes,
            "share": self.sizes / total if total else np.zeros(self.config.k),
            "mean_distance": pa.array(mean_distance, mask=self.sizes == 0, type=pa.float64()),
            "top_terms": top_terms,
            "examples": [[{"id": i, "text": t} for _, i, t in kept] for kept in self.nearest],
        }
        return pa.table(columns, schema=STATS_SCHEMA)

    def _keep_nearest(self, ids: list[str], texts: list, clusters: np.ndarray, distances: np.ndarray) -> None:
        n = self.config.examples_per_cluster
        if n == 0 or not len(ids):
            return
        order = np.lexsort((np.asarray(ids, dtype=str), distances, clusters))
        sorted_clusters = clusters[order]
        starts = np.flatnonzero(np.r_[True, sorted_clusters[1:] != sorted_clusters[:-1]])
        for start in starts:
            cluster = int(sorted_clusters[start])
            group = order[start : start + n]
            group = group[clusters[group] == cluster]
            candidates = [(float(distances[i]), str(ids[i]), snippet(texts[i], self.config.snippet_chars)) for i in group]
            self.nearest[cluster] = sorted(self.nearest[cluster] + candidates)[:n]

    def _count_terms(self, ids: list[str], texts: list, clusters: np.ndarray) -> None:
        if self.config.top_terms == 0:
            return
        if self.config.term_sample_fraction < 1.0:
            keep = in_fit_sample(ids, self.config.term_sample_fraction, self.config.seed)
            texts = [t for t, k in zip(texts, keep) if k]
            clusters = clusters[keep]
        self.terms.add(texts, clusters)


def snippet(text: str | None, chars: int) -> str:
    """Whitespace-collapsed text cut to at most `chars` characters, ending in an ellipsis when cut; "" for None."""
    flat = _SPACES.sub(" ", text or "").strip()
    return flat if len(flat) <= chars else flat[: chars - 1].rstrip() + "…"


def as_list(column) -> list:
    """A plain Python list from an Arrow array, NumPy array or any iterable, so callers accept batch columns of any kind."""
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column.to_pylist()
    if isinstance(column, np.ndarray):
        return column.tolist()
    return list(column)
