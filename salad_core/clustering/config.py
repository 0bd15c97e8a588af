"""Typed configuration of the clustering stage (rendered as a form in the Prefect UI).

Usage:
    ClusterConfig()                                   # K=128 as in the paper, seed 0, scikit-learn
    ClusterConfig(k=14, fit_max_vectors=None)          # the bundled corpus's 14 topics, fit on everything
    ClusterConfig(backend="faiss", max_iter=25)        # large K or a very large fit sample

Backend default, measured on the 2-core development machine (shared, so timings are noisy; CPU
seconds are steadier) on 20,000 clustered unit vectors of dimension 384 with K = 128:
    scikit-learn KMeans, k-means++, run to convergence (79 iterations): 2.3-6.9 s wall, 5.7 s CPU
    scikit-learn KMeans, random init, run to convergence (81 iterations): 2.0-5.5 s wall, 2.6 s CPU
    faiss Kmeans, spherical, 25 / 50 / 100 iterations: 1.7 / 3.5 / 4.0 s CPU
    mean cosine to the nearest centroid: sklearn 0.2537; faiss 0.2333 (25 it), 0.2515 (50), 0.2525 (100)
and on the tiny case (280 × 384, K = 14) every contender takes under 0.02 s.
Per iteration the two libraries cost about the same on CPU; scikit-learn stops by itself at
convergence and so reached the better solution without a tuned iteration count, needs no extra
dependency, and handles fewer than 39 points per centroid without warnings. So "sklearn" is the
default. faiss ("faiss", needs faiss-cpu or faiss-gpu) is true spherical k-means and scales better
to K ≈ 1,000 and GPUs; it always runs exactly max_iter iterations and ignores `init` and `tol`.
k-means++ is the default init because it is far more robust to unbalanced clusters (real web
topics) than random starts; it costs a few extra seconds on a 20k sample.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ClusterConfig(BaseModel):
    """How many clusters, fitted on which sample, with which k-means, and what the report shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=128, ge=2, description="Number of clusters (the paper: K = 128).")
    seed: int = Field(default=0, ge=0, description="Seeds both the fit sample (hash of id) and the k-means initialisation.")
    fit_fraction: float = Field(
        default=1.0, gt=0.0, le=1.0, description="Share of documents, chosen by a seeded hash of their id, eligible for the fit."
    )
    fit_max_vectors: int | None = Field(
        default=200_000,
        ge=2,
        description="At most this many eligible documents (those with the smallest id hashes) are fitted on; None: no cap.",
    )
    backend: Literal["sklearn", "faiss"] = Field(
        default="sklearn", description="'sklearn' (default, measured faster to converge here) or 'faiss' (spherical, scales to large K)."
    )
    init: Literal["k-means++", "random"] = Field(default="k-means++", description="Initialisation (scikit-learn only).")
    n_init: int = Field(default=1, ge=1, description="Restarts; the best inertia wins.")
    max_iter: int = Field(default=100, ge=1, description="Lloyd iterations at most (faiss: exactly).")
    tol: float = Field(default=1e-4, ge=0.0, description="Convergence tolerance (scikit-learn only).")
    examples_per_cluster: int = Field(default=3, ge=0, description="Documents nearest to each centroid kept in the stats.")
    top_terms: int = Field(default=10, ge=0, description="Most distinctive terms listed per cluster.")
    snippet_chars: int = Field(default=200, ge=10, description="Characters of each example's text kept in the stats.")
    max_vocabulary: int = Field(
        default=20_000, ge=100, description="Terms tracked for top terms; rarer terms are dropped as the stream goes (bounded memory)."
    )
    term_sample_fraction: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="Share of documents (by hash of id) whose words are counted for top terms; lower it for very large corpora.",
    )
