"""Active selection (Stage II of SALAD): probe set, per-cluster misalignment, gamma-weighted sampling.

Usage:
    from salad_core.selection import ProbeConfig, SelectionConfig, Budget, target_plan, build_pools, draw_selection
    from salad_core.selection.misalignment import cluster_misalignment_table, score_batches   # imports torch
    from salad_core.selection.cost import paper_scale_3b, cost_markdown, check_budget

Flow of the method (design.md, Stage II): probe texts per cluster (probe.py, speakable.py) →
synthesised and tokenized by the existing stages → per-sample KL and M(c) with intervals
(misalignment.py) → P_target(c) ∝ P_web(c)·M(c)^gamma and a draw to a budget (sampler.py) → the
report a data engineer reads (report.py) and the cost before launch (cost.py); regenerate.py says
which clusters to redo when M(c) moves.
"""

from salad_core.selection.config import Budget, MisalignmentConfig, ProbeConfig, SelectionConfig
from salad_core.selection.probe import ProbeOutcome, ProbePicker, probe_id
from salad_core.selection.regenerate import clusters_to_redo, rows_of_clusters
from salad_core.selection.report import effective_sample_size, entropy, selection_figure, selection_markdown, selection_summary, total_variation
from salad_core.selection.sampler import DrawnSelection, Pool, TargetPlan, build_pools, draw_selection, target_plan
from salad_core.selection.speakable import sentences, speakable_cut, word_count

__all__ = [
    "Budget",
    "DrawnSelection",
    "MisalignmentConfig",
    "Pool",
    "ProbeConfig",
    "ProbeOutcome",
    "ProbePicker",
    "SelectionConfig",
    "TargetPlan",
    "build_pools",
    "clusters_to_redo",
    "draw_selection",
    "effective_sample_size",
    "entropy",
    "probe_id",
    "rows_of_clusters",
    "selection_figure",
    "selection_markdown",
    "selection_summary",
    "sentences",
    "speakable_cut",
    "target_plan",
    "total_variation",
    "word_count",
]
