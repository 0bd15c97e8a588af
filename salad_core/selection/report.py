"""What a data engineer reads before paying for synthesis: the selection report (markdown + PNG).

Usage:
    summary = selection_summary(plan, drawn.counts(), previous_counts=None)
    text = selection_markdown(plan, summary, intervals={c: (low, high)}, top_terms={c: [...]})
    png = selection_figure(plan, summary, intervals)

Figures, all over clusters:
- expected vs realised counts: P_target(c) · n against what the draw gave (exhaustion shows here);
- effective sample size (Kish) of the importance weights w = P_web(c) / P_target(c) of the chosen
  texts, (Σw)² / Σw²: how many web-distributed texts the selection is worth for estimating web
  averages; n when gamma = 0, smaller the more the selection is skewed;
- entropy (nats) of the realised cluster shares and exp(entropy), the number of clusters it
  effectively spreads over;
- drift: total variation 0.5 · Σ|q(c) − q_prev(c)| between the realised cluster shares of this
  selection and the previous version (None for the first).
matplotlib runs on the Agg canvas through its object API (no pyplot state), as in the cluster report.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

from salad_core.clustering.report import cell
from salad_core.selection.sampler import TargetPlan


def shares(counts: Mapping[int, int], clusters: np.ndarray) -> np.ndarray:
    """Each cluster's share of the total count, aligned with `clusters` (missing ones count 0); all zeros when the total is 0."""
    values = np.asarray([counts.get(int(c), 0) for c in clusters], dtype=np.float64)
    return values / values.sum() if values.sum() else values


def entropy(p: np.ndarray) -> float:
    """Shannon entropy in nats of a probability vector; zero entries are ignored."""
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance (half the L1 distance) between two distributions over the same cluster order."""
    return float(0.5 * np.abs(p - q).sum())


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish effective sample size (sum w)^2 / sum w^2 of importance weights; 0.0 for no weights."""
    weights = np.asarray(weights, dtype=np.float64)
    if not len(weights):
        return 0.0
    return float(weights.sum() ** 2 / (weights**2).sum())


def selection_summary(plan: TargetPlan, counts: Mapping[int, int], previous_counts: Mapping[int, int] | None = None) -> dict:
    """JSON-ready summary of a drawn selection against its plan: expected vs realised rows per cluster, effective sample size,
    entropies, and TV drift from `previous_counts` (None without one)."""
    clusters = plan.clusters
    realised = np.asarray([counts.get(int(c), 0) for c in clusters], dtype=np.int64)
    n = int(realised.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(plan.p_target > 0, plan.p_web / plan.p_target, 0.0)
    q = shares(counts, clusters)
    all_previous = sorted(set(previous_counts or {}) | set(clusters.tolist()))
    drift = None
    if previous_counts is not None:
        union = np.asarray(all_previous)
        drift = total_variation(shares(counts, union), shares(previous_counts, union))
    return {
        "rows": n,
        "expected": {int(c): float(p * n) for c, p in zip(clusters, plan.p_target)},
        "realised": {int(c): int(r) for c, r in zip(clusters, realised)},
        "effective_sample_size": effective_sample_size(np.repeat(ratio, realised)),
        "entropy_nats": entropy(q),
        "effective_clusters": float(np.exp(entropy(q))),
        "target_entropy_nats": entropy(plan.p_target),
        "web_entropy_nats": entropy(plan.p_web),
        "drift_tv": drift,
    }


def selection_markdown(
    plan: TargetPlan,
    summary: dict,
    intervals: Mapping[int, tuple[float | None, float | None]] | None = None,
    top_terms: Mapping[int, list[str]] | None = None,
    terms_shown: int = 5,
) -> str:
    """Markdown report of a selection: a headline from `summary` (as from selection_summary) then one table row per cluster, highest M(c) first."""
    intervals, top_terms = intervals or {}, top_terms or {}
    drift = "– (first version)" if summary["drift_tv"] is None else f"{summary['drift_tv']:.3f}"
    lines = [
        f"gamma = {plan.gamma:g}; {summary['rows']:,} texts; effective sample size {summary['effective_sample_size']:,.1f}; "
        f"entropy {summary['entropy_nats']:.3f} nats ({summary['effective_clusters']:.1f} effective clusters; "
        f"P_web {summary['web_entropy_nats']:.3f}, P_target {summary['target_entropy_nats']:.3f}); drift from the previous selection (TV) {drift}.",
        "",
        "| cluster | M(c) | 95% interval | P_web | P_target | expected | realised | status | top terms |",
        "|---:|---:|---|---:|---:|---:|---:|---|---|",
    ]
    order = np.lexsort((plan.clusters, -np.nan_to_num(plan.m, nan=-1.0)))
    for k in order.tolist():
        c = int(plan.clusters[k])
        m = "–" if np.isnan(plan.m[k]) else f"{plan.m[k]:.4f}"
        low, high = intervals.get(c, (None, None))
        ci = "–" if low is None else f"[{low:.4f}, {high:.4f}]"
        terms = ", ".join((top_terms.get(c) or [])[:terms_shown])
        lines.append(
            f"| {c} | {m} | {ci} | {plan.p_web[k]:.2%} | {plan.p_target[k]:.2%} | {summary['expected'][c]:.1f} | "
            f"{summary['realised'][c]} | {cell(plan.status[k])} | {cell(terms)} |"
        )
    return "\n".join(lines) + "\n"


def selection_figure(plan: TargetPlan, summary: dict, intervals: Mapping[int, tuple[float | None, float | None]] | None = None) -> bytes:
    """Left: M(c) with its interval, clusters by falling M(c). Right: P_web, P_target and realised shares."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    intervals = intervals or {}
    figure = Figure(figsize=(13, 5), dpi=100)
    FigureCanvasAgg(figure)
    m_axis, p_axis = figure.subplots(1, 2)
    scored = np.flatnonzero(~np.isnan(plan.m))
    order = scored[np.argsort(-plan.m[scored], kind="stable")]
    x = np.arange(len(order))
    m = plan.m[order]
    low = np.asarray([intervals.get(int(plan.clusters[k]), (None, None))[0] for k in order], dtype=float)
    high = np.asarray([intervals.get(int(plan.clusters[k]), (None, None))[1] for k in order], dtype=float)
    errors = np.vstack([np.nan_to_num(m - low), np.nan_to_num(high - m)])
    m_axis.errorbar(x, m, yerr=errors, fmt="o", markersize=3, capsize=2)
    m_axis.set_xticks(x, [str(int(plan.clusters[k])) for k in order], fontsize=6, rotation=90)
    m_axis.set_xlabel("cluster (by falling M(c))")
    m_axis.set_ylabel("M(c), mean KL per text-next position")
    m_axis.set_title("Misalignment per cluster, bootstrap interval")

    n = max(summary["rows"], 1)
    realised = np.asarray([summary["realised"][int(c)] for c in plan.clusters]) / n
    xs = np.arange(len(plan.clusters))
    p_axis.bar(xs - 0.3, plan.p_web, width=0.3, label="P_web")
    p_axis.bar(xs, plan.p_target, width=0.3, label=f"P_target (gamma = {plan.gamma:g})")
    p_axis.bar(xs + 0.3, realised, width=0.3, label=f"realised ({summary['rows']:,} texts)")
    p_axis.set_xticks(xs, [str(int(c)) for c in plan.clusters], fontsize=6, rotation=90)
    p_axis.set_xlabel("cluster")
    p_axis.set_ylabel("share")
    p_axis.set_title("Web vs target vs realised cluster shares")
    p_axis.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
