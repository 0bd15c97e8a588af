"""The misalignment scaling fit M(D) = E + B * D^(-beta) recovers known parameters.

Run: .venv/bin/python -m pytest tests/test_objective_scaling.py -q
"""

import numpy as np
import pytest

from salad_core.objective.scaling import fit_scaling_law

TOKENS = np.logspace(7, 11, 12)  # 10M .. 100B training tokens


@pytest.mark.parametrize("E,B,beta", [(0.4, 30.0, 0.25), (0.05, 2000.0, 0.5), (1.2, 5.0, 0.1)], ids=["mid", "steep", "flat"])
def test_fit_recovers_noiseless_parameters(E, B, beta):
    m = E + B * TOKENS ** (-beta)
    fit = fit_scaling_law(TOKENS, m)
    assert fit.E == pytest.approx(E, rel=1e-4)
    assert fit.B == pytest.approx(B, rel=1e-3)
    assert fit.beta == pytest.approx(beta, rel=1e-4)
    assert fit.rmse < 1e-8
    assert fit.predict(1e12) == pytest.approx(E + B * 1e12 ** (-beta), rel=1e-4)


def test_fit_is_robust_to_small_noise():
    E, B, beta = 0.4, 30.0, 0.25
    rng = np.random.default_rng(0)
    m = (E + B * TOKENS ** (-beta)) * (1 + 0.005 * rng.standard_normal(TOKENS.size))
    fit = fit_scaling_law(TOKENS, m)
    assert fit.E == pytest.approx(E, abs=0.03)
    assert fit.beta == pytest.approx(beta, rel=0.15)
    assert 0 < fit.rmse < 0.01


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError):
        fit_scaling_law([1.0, 2.0], [1.0, 0.5])
    with pytest.raises(ValueError):
        fit_scaling_law([1.0, 2.0, 3.0], [1.0, -0.5, 0.2])
