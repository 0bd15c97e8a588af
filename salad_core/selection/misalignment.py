"""M(c): per-cluster misalignment on the probe set, with seeded bootstrap intervals.

Usage:
    per_sample = score_batches(student, teacher, [(batch, sample_ids), ...], device="cuda")
    result = cluster_misalignment_table(per_sample.loss, per_sample.positions, clusters,
                                        expected_clusters=range(128), n_boot=1000, seed=0)
    result.clusters      # list of ClusterMisalignment (m, ci_low, ci_high, n_samples, n_positions, status)
    result.m             # {cluster: M(c)} for the scored clusters only

Definitions (design.md, "Metrics"): a probe sample's loss is the mean forward KL(teacher on the
transcript || student on the interleaved context) over its text-next positions (the SALAD
distillation loss, alpha = 1, T = 1). M(c) is the mean of its cluster's per-sample losses, as in
salad_core.objective.metrics.cluster_misalignment, so every probe clip weighs the same whatever
its length. The interval is a percentile bootstrap over the cluster's samples (resampled with
replacement, `n_boot` times, seeded per cluster so adding a cluster does not move the others).

Outcomes, never silent:
- a sample with no text-next position (loss NaN from per_sample_mean): left out, counted in
  `n_samples_without_positions`;
- a non-finite loss from a sample that has positions, or a loss below -NEGATIVE_TOLERANCE: a
  ValueError naming the sample (a KL cannot be negative; it means a broken model or batch);
  values in [-NEGATIVE_TOLERANCE, 0) are float rounding and are set to 0;
- an expected cluster with no scored sample: a row with status "no_probe" and null M(c); the
  sampler then excludes it or fails, as SelectionConfig.unscored_clusters says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

NEGATIVE_TOLERANCE = 1e-6
SCORED, NO_PROBE = "scored", "no_probe"


@dataclass
class ClusterMisalignment:
    cluster: int
    m: float | None
    ci_low: float | None
    ci_high: float | None
    n_samples: int
    n_positions: int
    status: str


@dataclass
class MisalignmentResult:
    clusters: list[ClusterMisalignment]
    n_samples_without_positions: int = 0
    confidence: float = 0.95
    n_boot: int = 1000

    @property
    def m(self) -> dict[int, float]:
        """M(c) by cluster for the scored clusters only; unscored ones are absent, not zero."""
        return {c.cluster: c.m for c in self.clusters if c.status == SCORED}

    @property
    def unscored(self) -> list[int]:
        """Clusters with no M(c) (status other than scored), in result order, so callers can report why they get no target mass."""
        return [c.cluster for c in self.clusters if c.status != SCORED]


def bootstrap_interval(values: np.ndarray, n_boot: int, confidence: float, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; a single value gives a zero-width interval."""
    if len(values) == 1:
        return float(values[0]), float(values[0])
    draws = rng.integers(0, len(values), size=(n_boot, len(values)))
    means = values[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def checked_losses(losses: np.ndarray, positions: np.ndarray, sample_ids: Sequence[str] | None) -> np.ndarray:
    """Losses made safe to average; raises on a value that cannot be a KL (see module doc)."""
    name = (lambda i: repr(sample_ids[i])) if sample_ids is not None else (lambda i: f"#{i}")
    with_positions = positions > 0
    bad = with_positions & ~np.isfinite(losses)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"probe sample {name(i)} has {positions[i]} text-next positions but loss {losses[i]}: not a finite KL")
    negative = with_positions & (losses < -NEGATIVE_TOLERANCE)
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise ValueError(f"probe sample {name(i)} has loss {losses[i]:.3g} < 0: a KL divergence cannot be negative")
    return np.where(with_positions, np.maximum(losses, 0.0), np.nan)


def cluster_misalignment_table(
    losses: Sequence[float] | np.ndarray | torch.Tensor,
    positions: Sequence[int] | np.ndarray,
    clusters: Sequence[int] | np.ndarray,
    expected_clusters: Iterable[int] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    sample_ids: Sequence[str] | None = None,
) -> MisalignmentResult:
    """M(c), its bootstrap interval and counts for every cluster seen or expected."""
    losses = np.asarray(losses.detach().cpu() if isinstance(losses, torch.Tensor) else losses, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.int64)
    clusters = np.asarray(clusters, dtype=np.int64)
    if not len(losses) == len(positions) == len(clusters):
        raise ValueError(f"got {len(losses)} losses, {len(positions)} position counts and {len(clusters)} clusters: one of each per sample")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    values = checked_losses(losses, positions, sample_ids)
    scored = ~np.isnan(values)
    wanted = sorted(set(clusters.tolist()) | set(expected_clusters or []))
    rows = []
    for c in wanted:
        mine = scored & (clusters == c)
        if not mine.any():
            rows.append(ClusterMisalignment(c, None, None, None, 0, 0, NO_PROBE))
            continue
        v = values[mine]
        low, high = bootstrap_interval(v, n_boot, confidence, np.random.default_rng([seed, c]))
        rows.append(ClusterMisalignment(c, float(v.mean()), low, high, int(mine.sum()), int(positions[mine].sum()), SCORED))
    return MisalignmentResult(rows, int((~scored).sum()), confidence, n_boot)


@dataclass
class PerSampleLoss:
    sample_ids: list[str] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)  # NaN when the sample has no text-next position
    positions: list[int] = field(default_factory=list)


@torch.no_grad()
def score_batches(
    student, teacher, batches: Iterable[tuple[object, Sequence[str]]], device: str | torch.device = "cpu", chunk_size: int = 256
) -> PerSampleLoss:
    """Per-sample distillation loss (teacher on text vs student on speech) over collated batches.

    `batches` yields (DistillBatch, the ids of its samples in order). Both models run in eval
    mode (dropout off) and are put back in the mode they were in; batches are moved to `device`.
    """
    from salad_core.objective.distill import chunked_position_losses, per_sample_mean

    was_training = student.training
    student.eval()
    teacher.eval()
    out = PerSampleLoss()
    try:
        for batch, ids in batches:
            if len(ids) != batch.n_samples:
                raise ValueError(f"a batch of {batch.n_samples} samples came with {len(ids)} ids")
            batch = batch.to(device)
            s_hidden = student.hidden_states(**batch.student_inputs())
            t_hidden = teacher.hidden_states(batch.teacher_ids, batch.teacher_attention_mask)
            kl, _ = chunked_position_losses(
                s_hidden.flatten(0, 1)[batch.student_index],
                student.head,
                t_hidden.flatten(0, 1)[batch.teacher_index],
                teacher.head,
                batch.target_ids,
                1.0,
                chunk_size,
                False,
            )
            means = per_sample_mean(kl.double(), batch.sample_index, batch.n_samples)
            counts = torch.bincount(batch.sample_index, minlength=batch.n_samples)
            out.sample_ids += [str(i) for i in ids]
            out.loss += means.cpu().tolist()
            out.positions += counts.cpu().tolist()
    finally:
        student.train(was_training)
    return out
