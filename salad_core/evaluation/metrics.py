"""Accuracy per benchmark (and topic) per view, the text-speech gap and its signed mean.

Usage:
    from salad_core.evaluation.metrics import summarize, signed_mean_gap, VIEWS
    rows = summarize(results_rows)                  # rows: dicts of the eval_results artifact
    rows[0].teacher_text, rows[0].student_speech, rows[0].gap
    signed_mean_gap(rows)                           # over benchmarks, topic rows excluded

design.md: Gap = Acc(Q_phi, text) - Acc(P_theta, speech) per benchmark, and the signed mean over
benchmarks (a benchmark where speech beats text lowers the mean; it is not clipped at 0).
Accuracies are fractions in [0, 1] here; the report prints percentages. `metric` picks acc_norm
(length-normalised, the paper's and the default) or acc (raw sum).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

VIEWS = ("teacher_text", "student_text", "student_speech")
ALL_TOPICS = None


@dataclass(frozen=True)
class AccuracyRow:
    checkpoint: str
    benchmark: str
    topic: str | None  # None: the whole benchmark
    n_items: dict[str, int]
    accuracy: dict[str, float | None]  # view -> accuracy, None when the view was not scored

    @property
    def teacher_text(self) -> float | None:
        """Teacher accuracy on text; None when that view was not scored."""
        return self.accuracy.get("teacher_text")

    @property
    def student_text(self) -> float | None:
        """Student accuracy on text; None when that view was not scored."""
        return self.accuracy.get("student_text")

    @property
    def student_speech(self) -> float | None:
        """Student accuracy on speech; None when that view was not scored."""
        return self.accuracy.get("student_speech")

    @property
    def gap(self) -> float | None:
        """Teacher on text minus student on speech (positive: speech is worse)."""
        if self.teacher_text is None or self.student_speech is None:
            return None
        return self.teacher_text - self.student_speech

    @property
    def forgetting_gap(self) -> float | None:
        """Teacher on text minus student on text: what the student lost on text."""
        if self.teacher_text is None or self.student_text is None:
            return None
        return self.teacher_text - self.student_text


def accuracy(correct: Iterable[bool]) -> float | None:
    """Fraction of true values in [0, 1], or None (not 0) when there are none, so an empty view is not mistaken for a failing one."""
    values = [bool(c) for c in correct]
    return sum(values) / len(values) if values else None


def summarize(rows: Iterable[dict], metric: str = "acc_norm", by_topic: bool = True) -> list[AccuracyRow]:
    """One row per (checkpoint, benchmark), then per (checkpoint, benchmark, topic) when items have topics."""
    if metric not in ("acc", "acc_norm"):
        raise ValueError(f"metric must be 'acc' or 'acc_norm', got {metric!r}")
    key = "correct_norm" if metric == "acc_norm" else "correct_raw"
    groups: dict[tuple, dict[str, list[bool]]] = {}
    for r in rows:
        targets = [(r["checkpoint"], r["benchmark"], ALL_TOPICS)]
        if by_topic and r.get("topic"):
            targets.append((r["checkpoint"], r["benchmark"], r["topic"]))
        for target in targets:
            groups.setdefault(target, {}).setdefault(r["view"], []).append(r[key])
    out = []
    for (checkpoint, benchmark, topic), views in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        out.append(
            AccuracyRow(
                checkpoint,
                benchmark,
                topic,
                n_items={v: len(views.get(v, [])) for v in VIEWS},
                accuracy={v: accuracy(views.get(v, [])) for v in VIEWS},
            )
        )
    return out


def signed_mean_gap(rows: Iterable[AccuracyRow]) -> float | None:
    """Mean of the per-benchmark gaps (topic rows excluded; benchmarks without a gap skipped)."""
    gaps = [r.gap for r in rows if r.topic is None and r.gap is not None]
    return sum(gaps) / len(gaps) if gaps else None


def mean_accuracy(rows: Iterable[AccuracyRow], view: str) -> float | None:
    """Unweighted mean over benchmarks of one view's accuracy (per-topic rows and rows without that view excluded); None when no row has it."""
    values = [r.accuracy[view] for r in rows if r.topic is None and r.accuracy.get(view) is not None]
    return sum(values) / len(values) if values else None
