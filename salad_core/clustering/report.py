"""Human-readable summaries of a clustering: a markdown table and a two-panel PNG figure.

Usage:
    text = markdown_summary(stats_table)                         # every cluster, largest first
    png = cluster_figure(stats_table, sample_vectors, sample_clusters, path="clusters.png")  # bytes too

The figure shows cluster sizes (left) and a 2-D PCA projection of a sample of embeddings coloured
by cluster (right): enough to see at a glance whether clusters are balanced and separated.
matplotlib is driven through its object API on the Agg canvas, so no display and no global pyplot
state are involved (safe inside worker processes).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa

FIGURE_POINTS = 2_000


def markdown_summary(stats: pa.Table, terms_shown: int = 6, example_chars: int = 120) -> str:
    """Markdown table of the STATS_SCHEMA rows, largest cluster first (ties by id), with truncated top terms and one example per cluster."""
    rows = sorted(stats.to_pylist(), key=lambda row: (-row["size"], row["cluster"]))
    lines = [
        f"{len(rows)} clusters, {sum(r['size'] for r in rows):,} documents.",
        "",
        "| cluster | size | share | mean distance | top terms | example |",
        "|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        distance = "–" if row["mean_distance"] is None else f"{row['mean_distance']:.3f}"
        terms = ", ".join((row["top_terms"] or [])[:terms_shown])
        example = row["examples"][0]["text"] if row["examples"] else ""
        if len(example) > example_chars:
            example = example[: example_chars - 1].rstrip() + "…"
        lines.append(f"| {row['cluster']} | {row['size']:,} | {row['share']:.2%} | {distance} | {cell(terms)} | {cell(example)} |")
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    """Markdown table cells cannot hold pipes or line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def cluster_figure(
    stats: pa.Table,
    vectors: np.ndarray,
    clusters: np.ndarray,
    path: str | Path | None = None,
    max_points: int = FIGURE_POINTS,
    seed: int = 0,
) -> bytes:
    """PNG bytes of cluster sizes beside a 2-D PCA of at most `max_points` vectors (seeded subsample), coloured by cluster;
    also written to `path` when given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    vectors, clusters = np.asarray(vectors, dtype=np.float32), np.asarray(clusters)
    if len(vectors) > max_points:
        pick = np.sort(np.random.default_rng(seed).choice(len(vectors), max_points, replace=False))
        vectors, clusters = vectors[pick], clusters[pick]
    k = len(stats)
    figure = Figure(figsize=(13, 5), dpi=100)
    FigureCanvasAgg(figure)
    sizes_axis, projection_axis = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})

    colours = cluster_colours(k)
    sizes = np.asarray(stats["size"].to_pylist())
    ids = np.asarray(stats["cluster"].to_pylist())
    sizes_axis.bar(ids, sizes, color=colours[ids], width=0.85)
    sizes_axis.set_xlabel("cluster")
    sizes_axis.set_ylabel("documents")
    sizes_axis.set_title(f"Cluster sizes (K = {k}, {int(sizes.sum()):,} documents)")

    points = pca_2d(vectors)
    projection_axis.scatter(points[:, 0], points[:, 1], c=colours[clusters], s=6, linewidths=0)
    projection_axis.set_xlabel("PC 1")
    projection_axis.set_ylabel("PC 2")
    projection_axis.set_title(f"Embeddings, PCA of {len(points):,} documents, coloured by cluster")
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """First two principal components (sign fixed so the picture is reproducible)."""
    if len(vectors) == 0:
        return np.zeros((0, 2))
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    axes = components[:2]
    axes = axes * np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])[:, None]
    points = centred @ axes.T
    return points if points.shape[1] == 2 else np.pad(points, ((0, 0), (0, 2 - points.shape[1])))


def cluster_colours(k: int) -> np.ndarray:
    """k distinct RGBA colours: the 20 qualitative tab20 colours, then evenly spaced hues."""
    from matplotlib import colormaps

    if k <= 20:
        return np.asarray([colormaps["tab20"](i) for i in range(k)])
    return np.asarray([colormaps["hsv"](i / k) for i in range(k)])
