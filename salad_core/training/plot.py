"""A PNG of misalignment M over training tokens D with the fitted law M(D) = E + B * D^(-beta).

Usage:
    from salad_core.training.plot import scaling_plot_png
    png = scaling_plot_png(tokens, misalignment, fit)      # fit: ScalingFit or None (points only)
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from salad_core.objective.scaling import ScalingFit


def scaling_plot_png(tokens: Sequence[float], misalignment: Sequence[float], fit: ScalingFit | None, title: str = "") -> bytes:
    """PNG bytes of held-out misalignment against training tokens on a log axis, with the fitted scaling curve when `fit` is given; headless (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5), dpi=100)
    ax = fig.add_subplot()
    ax.plot(tokens, misalignment, "o", label="held-out M")
    if fit is not None and len(tokens):
        grid = np.geomspace(min(tokens), max(tokens), 100)
        ax.plot(grid, fit.predict(grid), "-", label=f"E={fit.E:.3g} + {fit.B:.3g}·D^-{fit.beta:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("training tokens D (positions)")
    ax.set_ylabel("misalignment M (nats / position)")
    ax.set_title(title or "misalignment scaling")
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
