"""Fit the misalignment scaling law M(D) = E + B * D^(-beta) over training tokens D.

Usage:
    from salad_core.objective.scaling import fit_scaling_law
    fit = fit_scaling_law(tokens, misalignment)   # ScalingFit(E, B, beta, rmse)
    fit.predict(1e10)

E is the irreducible misalignment. A plain least-squares fit from a naive start often lands in a
bad local minimum (B and beta trade off over decades of D), so the start comes from a grid over E:
for each candidate E, log(M - E) is linear in log D, which gives B and beta in closed form; the
best candidate then seeds `scipy.optimize.curve_fit` on M itself (in log D, B via log B so it stays
positive). The returned `rmse` is in units of M.
"""

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from scipy.optimize import curve_fit


class ScalingFit(BaseModel):
    E: float
    B: float
    beta: float
    rmse: float

    def predict(self, tokens: float | np.ndarray) -> float | np.ndarray:
        """Predicted misalignment E + B * D^-beta at `tokens` D (positions), elementwise for arrays."""
        return self.E + self.B * np.asarray(tokens, dtype=float) ** (-self.beta)


def _law(log_d: np.ndarray, e: float, log_b: float, beta: float) -> np.ndarray:
    return e + np.exp(log_b - beta * log_d)


def _start(log_d: np.ndarray, m: np.ndarray, n_grid: int = 64) -> tuple[float, float, float]:
    best, best_err = None, np.inf
    for e in np.linspace(0.0, m.min(), n_grid, endpoint=False):
        slope, intercept = np.polyfit(log_d, np.log(m - e), 1)
        err = np.mean((_law(log_d, e, intercept, -slope) - m) ** 2)
        if err < best_err:
            best, best_err = (float(e), float(intercept), float(-slope)), err
    return best


def fit_scaling_law(tokens: Sequence[float], misalignment: Sequence[float]) -> ScalingFit:
    """Least-squares fit of M(D) = E + B * D^-beta with E, beta >= 0; needs >= 3 positive (tokens, misalignment) pairs, else ValueError."""
    d = np.asarray(tokens, dtype=float)
    m = np.asarray(misalignment, dtype=float)
    if d.shape != m.shape or d.size < 3:
        raise ValueError("need at least 3 (tokens, misalignment) pairs of equal length")
    if (d <= 0).any() or (m <= 0).any():
        raise ValueError("tokens and misalignment must be positive")
    log_d = np.log(d)
    p0 = _start(log_d, m)
    params, _ = curve_fit(
        _law,
        log_d,
        m,
        p0=p0,
        bounds=([0.0, -np.inf, 0.0], [np.inf, np.inf, np.inf]),
        maxfev=20000,
    )
    e, log_b, beta = (float(x) for x in params)
    rmse = float(np.sqrt(np.mean((_law(log_d, e, log_b, beta) - m) ** 2)))
    return ScalingFit(E=e, B=float(np.exp(log_b)), beta=beta, rmse=rmse)
