"""gamma-weighted sampling: P_target, chi-square fit, gamma = 0, budget, seed, exhaustion, bad input.

Run: .venv/bin/python -m pytest tests/test_selection_sampler.py -q
"""

import numpy as np
import pytest
from scipy.stats import chisquare

from salad_core.selection.sampler import build_pools, draw_selection, target_plan

SIZES = {0: 5000, 1: 3000, 2: 1500, 3: 500}
M = {0: 0.10, 1: 0.20, 2: 0.30, 3: 0.40}


def corpus(sizes, cost=lambda i: 1.0):
    ids = [f"d{c}-{i}" for c, n in sizes.items() for i in range(n)]
    clusters = [c for c, n in sizes.items() for _ in range(n)]
    return ids, clusters, np.asarray([cost(i) for i in range(len(ids))], dtype=float)


def test_p_target_by_hand():
    plan = target_plan({0: 3, 1: 1}, {0: 1.0, 1: 2.0}, gamma=2.0)
    # weights 3·1² = 3 and 1·2² = 4
    np.testing.assert_allclose(plan.p_target, [3 / 7, 4 / 7], rtol=1e-15)
    np.testing.assert_allclose(plan.p_web, [0.75, 0.25], rtol=1e-15)


def test_gamma_zero_equals_p_web_exactly():
    sizes = {0: 7, 1: 11, 2: 13, 3: 1}
    plan = target_plan(sizes, {0: 0.3, 1: 0.1, 2: 2.0, 3: 0.0}, gamma=0.0)
    shares = np.asarray(list(sizes.values())) / sum(sizes.values())  # as ClusterStats computes `share`
    assert plan.p_target.tolist() == shares.tolist() == plan.p_web.tolist()
    assert target_plan(sizes, {}, gamma=0.0).p_target.tolist() == shares.tolist()  # M(c) not needed at gamma = 0


def test_sampled_cluster_frequencies_match_p_target():
    """n = 4,000 draws, rows budget, pools large enough that none runs out; chi-square p > 0.01."""
    plan = target_plan(SIZES, M, gamma=1.0)
    ids, clusters, costs = corpus(SIZES)
    drawn = draw_selection(plan, build_pools(ids, clusters, costs, seed=0), budget=4000, seed=0)
    assert len(drawn.picks) == 4000 and not drawn.exhausted
    observed = np.asarray([drawn.counts().get(c, 0) for c in SIZES])
    result = chisquare(observed, plan.p_target * observed.sum())
    print(f"observed {observed.tolist()}, expected {(plan.p_target * 4000).round(1).tolist()}, p = {result.pvalue:.3f}")
    assert result.pvalue > 0.01
    # the test can fail: the same counts do not fit P_web
    assert chisquare(observed, plan.p_web * observed.sum()).pvalue < 1e-6


@pytest.mark.parametrize("kind_cost", [lambda i: 1.0, lambda i: 1.0 + (i * 7919) % 13], ids=["rows", "varying-cost"])
def test_budget_respected_within_one_item(kind_cost):
    plan = target_plan(SIZES, M, gamma=5.0)
    ids, clusters, costs = corpus(SIZES, kind_cost)
    pools = build_pools(ids, clusters, costs, seed=3)
    drawn = draw_selection(plan, pools, budget=1234.5, seed=3)
    last_cluster, last_position = drawn.picks[-1]
    last_cost = pools[last_cluster].costs[last_position]
    assert drawn.budget <= drawn.spent < drawn.budget + last_cost
    assert drawn.spent == pytest.approx(sum(pools[c].costs[p] for c, p in drawn.picks))


def test_reproducible_from_the_seed_and_without_replacement():
    plan = target_plan(SIZES, M, gamma=5.0)
    ids, clusters, costs = corpus(SIZES)
    pools_a, pools_b = build_pools(ids, clusters, costs, seed=1), build_pools(ids[::-1], clusters[::-1], costs[::-1], seed=1)
    a, b = draw_selection(plan, pools_a, budget=800, seed=1), draw_selection(plan, pools_b, budget=800, seed=1)
    rows_a = [ids[pools_a[c].rows[p]] for c, p in a.picks]
    rows_b = [ids[::-1][pools_b[c].rows[p]] for c, p in b.picks]
    assert rows_a == rows_b  # same texts whatever order the corpus arrives in
    assert len(set(rows_a)) == len(rows_a)
    c = draw_selection(plan, build_pools(ids, clusters, costs, seed=2), budget=800, seed=2)
    assert c.picks != a.picks


def test_exhausted_cluster_is_reported_and_its_mass_redistributed():
    sizes = {0: 2000, 1: 2000, 2: 10}
    plan = target_plan(sizes, {0: 0.1, 1: 0.1, 2: 1.0}, gamma=2.0)  # cluster 2 wants ~33% but has 10 texts
    ids, clusters, costs = corpus(sizes)
    drawn = draw_selection(plan, build_pools(ids, clusters, costs, seed=0), budget=600, seed=0)
    counts = drawn.counts()
    assert counts[2] == 10 and 2 in drawn.exhausted and 0 < drawn.exhausted[2] < 600
    assert len(drawn.picks) == 600 and drawn.spent == 600
    # after exhaustion the rest is split ~evenly between the equal clusters 0 and 1
    assert abs(counts[0] - counts[1]) < 100


def test_budget_larger_than_the_corpus():
    plan = target_plan({0: 5, 1: 5}, {0: 1.0, 1: 1.0}, gamma=5.0)
    ids, clusters, costs = corpus({0: 5, 1: 5})
    pools = build_pools(ids, clusters, costs, seed=0)
    with pytest.raises(ValueError, match="budget 50 is more than the 10"):
        draw_selection(plan, pools, budget=50, seed=0)
    drawn = draw_selection(plan, pools, budget=50, seed=0, allow_short=True)
    assert len(drawn.picks) == 10 and drawn.short_by == 40 and set(drawn.exhausted) == {0, 1}


def test_bad_input_is_refused_with_a_reason():
    ids, clusters, costs = corpus({0: 5})
    plan = target_plan({0: 5}, {0: 1.0}, gamma=1.0)
    with pytest.raises(ValueError, match="budget must be > 0"):
        draw_selection(plan, build_pools(ids, clusters, costs, 0), budget=0, seed=0)
    with pytest.raises(ValueError, match=r"M\(1\) = nan"):
        target_plan({0: 5, 1: 5}, {0: 1.0, 1: float("nan")}, gamma=5.0)
    with pytest.raises(ValueError, match=r"M\(0\) = -0.5"):
        target_plan({0: 5}, {0: -0.5}, gamma=5.0)
    with pytest.raises(ValueError, match="no M\\(c\\)"):
        target_plan({0: 5, 1: 5}, {0: 1.0}, gamma=5.0, unscored="error")
    with pytest.raises(ValueError, match="no eligible cluster has M\\(c\\) > 0"):
        target_plan({0: 5}, {0: 0.0}, gamma=5.0)


def test_unscored_and_gated_clusters_are_excluded_and_reported():
    plan = target_plan({0: 5, 1: 5, 2: 5}, {0: 1.0, 2: 2.0}, gamma=1.0, excluded={2: "excluded: probe failed the gate (40%)"})
    assert plan.status == ["eligible", "excluded: no probe sample scored, M(c) unknown", "excluded: probe failed the gate (40%)"]
    assert plan.p_target.tolist() == [1.0, 0.0, 0.0]
    assert plan.as_dict()["1"]["m"] is None
