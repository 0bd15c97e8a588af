"""Seeded Lloyd k-means in torch, small enough to run per RVQ level on CPU in milliseconds.

Usage:
    g = torch.Generator().manual_seed(0)
    centroids = kmeans(points, k=256, n_iter=10, generator=g)    # (k, D)

Deterministic for a generator state: k-means++ seeding (each next centroid drawn with
probability proportional to its squared distance from the chosen ones, which avoids two starts in
one cluster), then Lloyd iterations; an emptied cluster is re-seeded at the point worst served by
its centroid (no random draw), the usual fix that keeps every centroid in use.
"""

from __future__ import annotations

import torch


def kmeans(points: torch.Tensor, k: int, n_iter: int, generator: torch.Generator) -> torch.Tensor:
    """``k`` centroids of ``points`` (N, D) with N >= k; duplicates in ``points`` are fine."""
    points = points.float()
    if k > len(points):
        raise ValueError(f"k-means needs at least k={k} points, got {len(points)}")
    centroids = kmeans_plus_plus(points, k, generator)
    for _ in range(n_iter):
        distances = torch.cdist(points, centroids)
        nearest = distances.argmin(dim=1)
        counts = torch.bincount(nearest, minlength=k)
        sums = torch.zeros_like(centroids).index_add_(0, nearest, points)
        used = counts > 0
        centroids[used] = sums[used] / counts[used, None]
        n_empty = int((~used).sum())
        if n_empty:
            error = distances.gather(1, nearest[:, None]).squeeze(1)
            centroids[~used] = points[error.topk(n_empty).indices]
    return centroids


def kmeans_plus_plus(points: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding: `k` rows of `points` (N, D) chosen with the generator, so the result is reproducible; duplicate points are tolerated."""
    first = int(torch.randint(len(points), (1,), generator=generator))
    chosen = [first]
    closest = torch.cdist(points, points[first : first + 1]).squeeze(1) ** 2
    for _ in range(k - 1):
        weights = closest if closest.sum() > 0 else torch.ones_like(closest)  # only duplicates left
        nxt = int(torch.multinomial(weights, 1, generator=generator))
        chosen.append(nxt)
        closest = torch.minimum(closest, torch.cdist(points, points[nxt : nxt + 1]).squeeze(1) ** 2)
    return points[chosen].clone()
