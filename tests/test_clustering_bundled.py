"""End to end on the bundled corpus: MiniLM embeddings + k-means recover the 14 url topics.

Run: .venv/bin/python -m pytest tests/test_clustering_bundled.py -q
"""

import numpy as np
import pytest

from salad_core.clustering import (
    ClusterConfig,
    ClusterStats,
    assign,
    cluster_figure,
    fit_centroids,
    markdown_summary,
    purity,
    sample_for_fit,
)
from salad_core.corpus.bundled import BUNDLED_TOPICS, INVALID_TOPIC, iter_bundled_batches, topic_of_url
from salad_core.embedding import EmbedConfig, Embedder

N_DOCS = 284  # 281 valid rows: ~20 per topic


@pytest.fixture(scope="module")
def corpus():
    """Embedded batch by batch, as the stage does; invalid rows are the ingest stage's to drop."""
    embedder = Embedder(EmbedConfig(device="cpu"))
    ids, texts, labels, vectors = [], [], [], []
    for batch in iter_bundled_batches(N_DOCS, seed=0, batch_size=100):
        rows = [r for r in batch.to_pylist() if topic_of_url(r["url"]) != INVALID_TOPIC]
        ids += [r["id"] for r in rows]
        texts += [r["text"] for r in rows]
        labels += [topic_of_url(r["url"]) for r in rows]
        vectors.append(embedder.embed([r["text"] for r in rows], ids=[r["id"] for r in rows]))
    return ids, texts, labels, np.vstack(vectors)


def test_kmeans_recovers_the_topics(corpus):
    ids, _, labels, vectors = corpus
    assert len(set(labels)) == len(BUNDLED_TOPICS) == 14
    config = ClusterConfig(k=14, seed=0)
    _, sample = sample_for_fit(((ids[s : s + 50], vectors[s : s + 50]) for s in range(0, len(ids), 50)), seed=0)
    cluster, distance = assign(vectors, fit_centroids(sample, config))
    score = purity(cluster, labels)
    assert score >= 0.8, score
    assert (distance >= 0).all() and (distance <= 2).all()


def test_stats_and_report_describe_every_cluster(corpus, tmp_path):
    ids, texts, labels, vectors = corpus
    config = ClusterConfig(k=14, seed=0)
    cluster, distance = assign(vectors, fit_centroids(vectors, config))
    stats = ClusterStats(config)
    for s in range(0, len(ids), 64):
        stats.update(ids[s : s + 64], texts[s : s + 64], cluster[s : s + 64], distance[s : s + 64])
    table = stats.table()
    assert sum(table["size"].to_pylist()) == len(ids)
    assert sum(table["share"].to_pylist()) == pytest.approx(1.0)
    assert all(len(t) == 10 for t in table["top_terms"].to_pylist())
    assert all(len(e) == 3 for e in table["examples"].to_pylist())
    text = markdown_summary(table)
    assert all(f"\n| {c} |" in text for c in range(14))
    png = cluster_figure(table, vectors, cluster, path=tmp_path / "clusters.png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
