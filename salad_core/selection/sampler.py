"""gamma-weighted sampling of web texts to a budget: P_target(c) ∝ P_web(c) · M(c)^gamma.

Usage:
    plan = target_plan(sizes={0: 900, 1: 100}, m={0: 0.2, 1: 0.8}, gamma=5.0)
    pools = build_pools(ids, clusters, costs, seed=0)        # texts of each cluster in seeded order
    drawn = draw_selection(plan, pools, budget=3600.0, seed=0)
    drawn.picks     # [(cluster, position in its pool), ...] in draw order
    drawn.spent, drawn.exhausted, drawn.short_by

The draw (design.md, Stage II step 5): pick a cluster from P_target (with replacement), then the
next text of that cluster's pool; a pool is a uniform random order of the cluster's texts (the
seeded hash of id from salad_core.clustering.sampling), so taking its texts in turn is sampling
without replacement inside the cluster. When a pool runs out the cluster is reported (with the
draw at which it happened) and its mass is spread over the others in proportion to P_target.
Drawing stops as soon as the spent cost reaches the budget, so the total is at most one text's
cost above it. A budget larger than everything the eligible pools hold is an error unless
`allow_short`, which takes everything and reports the shortfall.

gamma = 0 reproduces P_web bit for bit: weights are then the cluster sizes themselves (no power
is taken), divided by their sum exactly as the clustering stage computes `share`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from salad_core.clustering.sampling import id_hashes

DRAW_BLOCK = 4096  # cluster draws made at once; redrawn after an exhaustion (fixed: part of the seed's meaning)
ELIGIBLE = "eligible"


@dataclass
class TargetPlan:
    """Per cluster (sorted): size, P_web, M(c), P_target and why a cluster gets nothing."""

    clusters: np.ndarray
    sizes: np.ndarray
    p_web: np.ndarray
    m: np.ndarray  # NaN where unscored
    p_target: np.ndarray
    status: list[str]  # "eligible" or the reason it is excluded
    gamma: float

    def as_dict(self) -> dict[str, dict[str, float | str | None]]:
        """The plan as JSON-ready {cluster: {size, p_web, m, p_target, status}}, with NaN M(c) written as None."""
        return {
            str(c): {"size": int(s), "p_web": float(w), "m": None if np.isnan(m) else float(m), "p_target": float(t), "status": st}
            for c, s, w, m, t, st in zip(self.clusters, self.sizes, self.p_web, self.m, self.p_target, self.status)
        }


def target_plan(
    sizes: Mapping[int, int],
    m: Mapping[int, float],
    gamma: float,
    excluded: Mapping[int, str] | None = None,
    unscored: str = "exclude",
) -> TargetPlan:
    """P_target over the clusters of `sizes`; `excluded` maps a cluster to the reason it is left out."""
    if gamma < 0 or not np.isfinite(gamma):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma}")
    excluded = dict(excluded or {})
    clusters = np.asarray(sorted(sizes), dtype=np.int64)
    size = np.asarray([sizes[c] for c in clusters], dtype=np.int64)
    if (size < 0).any():
        raise ValueError("cluster sizes cannot be negative")
    if size.sum() == 0:
        raise ValueError("every cluster is empty: there is nothing to select from")
    p_web = size / size.sum()
    m_values = np.full(len(clusters), np.nan)
    status = []
    for k, c in enumerate(clusters.tolist()):
        value = m.get(c)
        if value is not None:
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"M({c}) = {value}: a misalignment must be a finite number >= 0")
            m_values[k] = value
        if c in excluded:
            status.append(excluded[c])
        elif size[k] == 0:
            status.append("empty cluster")
        elif value is None and gamma != 0:
            if unscored == "error":
                raise ValueError(f"cluster {c} has {size[k]} documents but no M(c) (no probe sample was scored)")
            status.append("excluded: no probe sample scored, M(c) unknown")
        else:
            status.append(ELIGIBLE)
    eligible = np.asarray([s == ELIGIBLE for s in status])
    if gamma == 0:
        weights = np.where(eligible, size, 0).astype(np.float64)
    else:
        scale = np.nanmax(np.where(eligible, m_values, np.nan)) if eligible.any() else np.nan
        if not eligible.any() or not scale > 0:
            raise ValueError("no eligible cluster has M(c) > 0: P_target has no mass (all excluded, or all M(c) = 0)")
        weights = np.where(eligible, size * np.power(np.where(eligible, m_values, 0.0) / scale, gamma), 0.0)
    if weights.sum() <= 0:
        raise ValueError("no eligible cluster is left: P_target has no mass")
    return TargetPlan(clusters, size, p_web, m_values, weights / weights.sum(), status, float(gamma))


@dataclass
class Pool:
    """One cluster's texts in seeded random order: `rows` index the caller's arrays."""

    rows: np.ndarray
    costs: np.ndarray


def build_pools(ids: Sequence[str], clusters: Sequence[int] | np.ndarray, costs: Sequence[float] | np.ndarray, seed: int) -> dict[int, Pool]:
    """Per cluster, its rows in a seeded order fixed by id hashes (so the order does not depend on input order); ValueError on
    length mismatch or a cost that is not finite and > 0."""
    clusters = np.asarray(clusters, dtype=np.int64)
    costs = np.asarray(costs, dtype=np.float64)
    if not len(ids) == len(clusters) == len(costs):
        raise ValueError("ids, clusters and costs must have the same length")
    if len(costs) and (not np.isfinite(costs).all() or (costs <= 0).any()):
        raise ValueError("every text must have a finite cost > 0 (leave out texts with no words before pooling)")
    hashes = id_hashes(list(ids), seed)
    order = np.lexsort((np.asarray(ids, dtype=str), hashes, clusters))
    pools, sorted_clusters = {}, clusters[order]
    bounds = np.flatnonzero(np.diff(sorted_clusters)) + 1
    for part in np.split(order, bounds) if len(order) else []:
        pools[int(clusters[part[0]])] = Pool(rows=part, costs=costs[part])
    return pools


@dataclass
class DrawnSelection:
    picks: list[tuple[int, int]] = field(default_factory=list)  # (cluster, position in its pool)
    spent: float = 0.0
    budget: float = 0.0
    exhausted: dict[int, int] = field(default_factory=dict)  # cluster -> picks made when its pool ran out
    short_by: float = 0.0  # budget left unspent because every eligible pool ran out (allow_short)

    def counts(self) -> dict[int, int]:
        """Number of picks per cluster (clusters never picked are absent)."""
        out: dict[int, int] = {}
        for c, _ in self.picks:
            out[c] = out.get(c, 0) + 1
        return out


def draw_selection(plan: TargetPlan, pools: Mapping[int, Pool], budget: float, seed: int, allow_short: bool = False) -> DrawnSelection:
    """Seeded draw of texts by P_target until the cost budget is spent, without replacement, redrawing when a pool runs out;
    deterministic for (plan, pools, budget, seed). ValueError for a budget <= 0, or above what eligible pools hold unless
    allow_short."""
    if not budget > 0:
        raise ValueError(f"budget must be > 0, got {budget}: nothing would be selected")
    sizes = np.asarray([len(pools[c].rows) if c in pools else 0 for c in plan.clusters.tolist()])
    alive = (plan.p_target > 0) & (sizes > 0)
    available = sum(float(pools[c].costs.sum()) for c, a in zip(plan.clusters.tolist(), alive) if a)
    if available < budget and not allow_short:
        raise ValueError(
            f"budget {budget:g} is more than the {available:g} the eligible clusters hold: lower the budget, or set allow_short_corpus to take everything"
        )
    rng = np.random.default_rng(seed)
    taken = np.zeros(len(plan.clusters), dtype=np.int64)
    out = DrawnSelection(budget=budget)
    for c in plan.clusters[(plan.p_target > 0) & (sizes == 0)].tolist():
        out.exhausted[int(c)] = 0  # mass but no text to speak: exhausted before the first draw
    while out.spent < budget and alive.any():
        q = np.where(alive, plan.p_target, 0.0)
        for k in rng.choice(len(q), size=DRAW_BLOCK, p=q / q.sum()).tolist():
            c = int(plan.clusters[k])
            out.picks.append((c, int(taken[k])))
            out.spent += float(pools[c].costs[taken[k]])
            taken[k] += 1
            if taken[k] == sizes[k]:
                alive[k] = False
                out.exhausted[c] = len(out.picks)
                break  # redraw with the mass spread over the clusters left
            if out.spent >= budget:
                break
    out.short_by = max(0.0, budget - out.spent)
    return out
