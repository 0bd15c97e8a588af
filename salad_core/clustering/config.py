"""Typed configuration of the clustering stage (rendered as a form in the Prefect UI).

Usage:
    ClusterConfig()                                   # K=128 as in the paper, seed 0, scikit-learn
    ClusterConfig(k=14, fit_max_vectors=None)          # the bundled corpus's 14 topics, fit on everything
    ClusterConfig(backend="faiss", max_iter=25)        # large K or a very large fit sample

Backend default, measured on the 2-core development machine (1 thread per library, best of 2;
benchmarks/bench_embed_cluster.py and its notes):
    20,000 clustered unit vectors × 384, K = 128         fit time   mean cosine to centroid
      scikit-learn, k-means++, to convergence             2.8 s      0.2541
      scikit-learn, random init, to convergence           1.7 s      0.2537
      faiss spherical, 25 / 50 / 100 iterations           0.6 / 1.1 / 1.7 s   0.2314 / 0.2462 / 0.2508
    bundled corpus, 281 MiniLM vectors, K = 14           purity over seeds 0-4 (mean)   time per fit
      scikit-learn, k-means++                             1.0 .93 .93 1.0 1.0 (0.97)     3 ms
      scikit-learn, random init                           .93 .93 .86 .86 .86 (0.89)     1.5 ms
      faiss spherical (25-100 iterations)                 .93 .86 .86 .79 .86 (0.86)     0.7 ms
"sklearn" with k-means++ is the default: it found the best partitions on real embeddings and the
best objective on the synthetic set, stops by itself at convergence (no iteration count to tune),
needs no extra dependency, and fits fewer than 39 points per centroid without complaint. faiss
is 1.6-2.6x faster per fit at somewhat lower quality; a fit runs once on a capped sample
(fit_max_vectors) while embedding the corpus takes hours, so speed is not what decides here.
"faiss" (needs faiss-cpu or faiss-gpu) remains the choice for K in the thousands or fits on a GPU;
it is true spherical k-means, runs exactly max_iter iterations, and ignores `init` and `tol`.
With 2 OpenMP threads on a machine shared with other jobs every timing above varied up to 10x
from run to run; the 1-thread figures are the steady ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ClusterConfig(BaseModel):
    """How many clusters, fitted on which sample, with which k-means, and what the report shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=128, ge=2, description="Number of clusters (the paper: K = 128).")
    seed: int = Field(default=0, ge=0, description="Seeds both the fit sample (hash of id) and the k-means initialisation.")
    fit_fraction: float = Field(default=1.0, gt=0.0, le=1.0, description="Share of documents, chosen by a seeded hash of their id, eligible for the fit.")
    fit_max_vectors: int | None = Field(
        default=200_000,
        ge=2,
        description="At most this many eligible documents (those with the smallest id hashes) are fitted on; None: no cap.",
    )
    backend: Literal["sklearn", "faiss"] = Field(
        default="sklearn", description="'sklearn' (default: the best partitions measured here) or 'faiss' (spherical, faster, for large K or GPU)."
    )
    init: Literal["k-means++", "random"] = Field(default="k-means++", description="Initialisation (scikit-learn only).")
    n_init: int = Field(default=1, ge=1, description="Restarts; the best inertia wins.")
    max_iter: int = Field(default=100, ge=1, description="Lloyd iterations at most (faiss: exactly).")
    tol: float = Field(default=1e-4, ge=0.0, description="Convergence tolerance (scikit-learn only).")
    examples_per_cluster: int = Field(default=3, ge=0, description="Documents nearest to each centroid kept in the stats.")
    top_terms: int = Field(default=10, ge=0, description="Most distinctive terms listed per cluster.")
    snippet_chars: int = Field(default=200, ge=10, description="Characters of each example's text kept in the stats.")
    max_vocabulary: int = Field(default=20_000, ge=100, description="Terms tracked for top terms; rarer terms are dropped as the stream goes (bounded memory).")
    term_sample_fraction: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="Share of documents (by hash of id) whose words are counted for top terms; lower it for very large corpora.",
    )
