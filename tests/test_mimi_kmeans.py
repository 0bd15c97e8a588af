"""The seeded k-means used to fit random Mimi's codebooks.

Run: .venv/bin/python -m pytest tests/test_mimi_kmeans.py -q
"""

import torch

from salad_core.mimi.kmeans import kmeans


def blobs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(5, 16, generator=g) * 10
    points = centres.repeat_interleave(40, dim=0) + torch.randn(200, 16, generator=g) * 0.1
    return points, centres


def test_finds_well_separated_clusters():
    points, centres = blobs()
    found = kmeans(points, 5, n_iter=20, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(centres, found).min(dim=1).values
    assert (nearest < 0.2).all(), nearest


def test_same_seed_same_centroids_other_seed_other_start():
    points = torch.randn(300, 8, generator=torch.Generator().manual_seed(1))
    a = kmeans(points, 30, 5, torch.Generator().manual_seed(7))
    b = kmeans(points, 30, 5, torch.Generator().manual_seed(7))
    c = kmeans(points, 30, 5, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_every_centroid_ends_up_used_even_with_duplicate_points():
    points = torch.cat([torch.zeros(50, 4), torch.randn(50, 4, generator=torch.Generator().manual_seed(2))])
    centroids = kmeans(points, 20, 10, torch.Generator().manual_seed(0))
    used = torch.cdist(points, centroids).argmin(dim=1).unique()
    assert len(used) == 20
