"""The SALAD objective, the frozen teacher, and the metrics (M, M(c), F, scaling fit).

Usage:
    from salad_core.objective import DistillConfig, FrozenTeacher, batch_loss
    out = batch_loss(student, FrozenTeacher.copy_of(student.llm), batch, DistillConfig())
"""

from salad_core.objective.distill import (
    DistillConfig,
    DistillLoss,
    chunked_position_losses,
    distillation_loss,
    kl_divergence,
    per_sample_mean,
    position_losses,
)
from salad_core.objective.metrics import KLSummary, cluster_misalignment, forgetting, misalignment
from salad_core.objective.scaling import ScalingFit, fit_scaling_law
from salad_core.objective.step import batch_loss
from salad_core.objective.teacher import FrozenTeacher

__all__ = [
    "DistillConfig",
    "DistillLoss",
    "FrozenTeacher",
    "KLSummary",
    "ScalingFit",
    "batch_loss",
    "chunked_position_losses",
    "cluster_misalignment",
    "distillation_loss",
    "fit_scaling_law",
    "forgetting",
    "kl_divergence",
    "misalignment",
    "per_sample_mean",
    "position_losses",
]
