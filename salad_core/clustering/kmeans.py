"""Spherical k-means on unit embeddings: fit centroids on a sample, assign streamed batches.

Usage:
    centroids = fit_centroids(sample_vectors, ClusterConfig(k=128, seed=0))   # (k, d) float32, unit rows
    cluster, distance = assign(batch_vectors, centroids)                     # int32, float32 (cosine distance)

Embeddings are compared by cosine, so centroids are directions: they are L2-normalised after the
fit, and assignment takes the centroid of highest cosine (one matrix product per chunk, exact,
ties to the lowest index). With the scikit-learn backend the fit is Euclidean k-means on unit
vectors; a cluster's mean then points exactly where the spherical mean does, so normalising the
centres gives the spherical centroids of that partition. faiss runs spherical k-means natively.
Both are deterministic for a seed on a given machine and thread count.
"""

from __future__ import annotations

import numpy as np

from salad_core.clustering.config import ClusterConfig

ASSIGN_CHUNK_ROWS = 65_536  # bounds the (rows × k) similarity matrix of one step


def fit_centroids(vectors: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Spherical k-means centroids (k, dim), float32 and unit-norm, fitted on the unit-normalised vectors; ValueError when there are fewer vectors than k."""
    vectors = unit(np.asarray(vectors, dtype=np.float32))
    if len(vectors) < config.k:
        raise ValueError(f"k={config.k} clusters need at least {config.k} fit vectors, got {len(vectors)}: lower k, or raise fit_fraction / fit_max_vectors")
    if config.backend == "faiss":
        centres = fit_faiss(vectors, config)
    else:
        centres = fit_sklearn(vectors, config)
    return unit(centres.astype(np.float32))


def fit_sklearn(vectors: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Raw scikit-learn KMeans centres (k, dim) for already unit-normalised vectors, seeded by config.seed; not renormalised here."""
    from sklearn.cluster import KMeans

    model = KMeans(
        n_clusters=config.k,
        init=config.init,
        n_init=config.n_init,
        max_iter=config.max_iter,
        tol=config.tol,
        random_state=config.seed,
    )
    return model.fit(vectors).cluster_centers_


def fit_faiss(vectors: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Raw faiss spherical k-means centres (k, dim) on every given vector (no faiss subsampling); ImportError naming the package when faiss is missing."""
    try:
        import faiss
    except ImportError as error:
        raise ImportError("ClusterConfig(backend='faiss') needs the faiss-cpu (or faiss-gpu) package") from error
    kmeans = faiss.Kmeans(
        vectors.shape[1],
        config.k,
        niter=config.max_iter,
        nredo=config.n_init,
        seed=config.seed % 2**31,
        spherical=True,
        max_points_per_centroid=len(vectors),  # faiss would otherwise subsample the sample we chose
        min_points_per_centroid=1,
        verbose=False,
    )
    kmeans.train(np.ascontiguousarray(vectors))
    return np.asarray(kmeans.centroids)


def assign(vectors: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid by cosine and the cosine distance (1 − cos, in [0, 2]) for one batch."""
    vectors = np.asarray(vectors, dtype=np.float32)
    centroids = np.asarray(centroids, dtype=np.float32)
    if vectors.ndim != 2 or centroids.ndim != 2 or vectors.shape[1] != centroids.shape[1]:
        raise ValueError(f"vectors {vectors.shape} and centroids {centroids.shape} do not match")
    cluster = np.empty(len(vectors), dtype=np.int32)
    distance = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), ASSIGN_CHUNK_ROWS):
        block = vectors[start : start + ASSIGN_CHUNK_ROWS]
        similarity = block @ centroids.T
        best = similarity.argmax(axis=1)
        cluster[start : start + len(block)] = best
        distance[start : start + len(block)] = 1.0 - similarity[np.arange(len(block)), best]
    np.clip(distance, 0.0, 2.0, out=distance)
    return cluster, distance


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to norm 1; rows already unit (embeddings are) are returned without a copy."""
    squared = np.einsum("ij,ij->i", vectors, vectors)
    if not np.all(np.isfinite(squared)) or np.any(squared == 0):
        raise ValueError("vectors must be finite and non-zero to be normalised")
    if np.all(np.abs(squared - 1.0) < 1e-5):
        return vectors
    return vectors / np.sqrt(squared)[:, None]
