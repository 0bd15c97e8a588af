"""Clustering of document embeddings (Stage II step 1 of SALAD: k-means, K = 128, over D_web).

Usage:
    from salad_core.clustering import ClusterConfig, FitSampleCollector, fit_centroids, assign, ClusterStats
    config = ClusterConfig(k=128, seed=0)
    sample = FitSampleCollector(config.fit_fraction, config.fit_max_vectors, config.seed)
    for ids, vectors in embedding_batches:            # pass 1: the fit sample (hash of id)
        sample.add(ids, vectors)
    centroids = fit_centroids(sample.result()[1], config)
    stats = ClusterStats(config)
    for ids, texts, vectors in batches:                # pass 2: assign every row, accumulate stats
        cluster, distance = assign(vectors, centroids)
        stats.update(ids, texts, cluster, distance)
    table = stats.table()
    markdown_summary(table); cluster_figure(table, sample_vectors, sample_clusters, path="clusters.png")

Importing this package is cheap: scikit-learn, faiss and matplotlib load when first used.
"""

from salad_core.clustering.config import ClusterConfig
from salad_core.clustering.kmeans import assign, fit_centroids
from salad_core.clustering.purity import purity
from salad_core.clustering.report import cluster_figure, markdown_summary
from salad_core.clustering.sampling import FitSampleCollector, id_hashes, in_fit_sample, sample_for_fit
from salad_core.clustering.stats import STATS_SCHEMA, ClusterStats
from salad_core.clustering.terms import ClusterTermCounter

__all__ = [
    "STATS_SCHEMA",
    "ClusterConfig",
    "ClusterStats",
    "ClusterTermCounter",
    "FitSampleCollector",
    "assign",
    "cluster_figure",
    "fit_centroids",
    "id_hashes",
    "in_fit_sample",
    "markdown_summary",
    "purity",
    "sample_for_fit",
]
