"""README-ready markdown: accuracies per view, the gap, the paper's numbers beside ours, checkpoints side by side.

Usage:
    from salad_core.evaluation.report import benchmark_table, checkpoint_table, topic_table
    rows = summarize(results_rows)                       # salad_core.evaluation.metrics
    print(benchmark_table(rows, paper_size="3b"))         # one checkpoint, per benchmark + signed mean
    print(checkpoint_table(rows, ["stage1_pre_decay", "stage1_final", "stage2_gamma5", "stage2_gamma0"]))
    print(topic_table(rows))                             # per topic, where items have one

Accuracies are percentages of acc_norm (length-normalised, as in the paper) unless the rows were
summarised with metric="acc". Paper figures (design.md): Table 3 gives only the means over the six
benchmarks (SALAD-3B speech 72.0 / gap 4.6; 7B 75.4 / 6.2); Table 4 gives 3B per benchmark for
active selection (gamma=5) vs uniform (gamma=0). A cell the paper does not report is "—".
"""

from __future__ import annotations

from collections.abc import Sequence

from salad_core.evaluation.metrics import AccuracyRow, mean_accuracy, signed_mean_gap

# Table 3: mean speech accuracy / mean gap over the six benchmarks.
PAPER_MEANS = {"3b": {"speech": 72.0, "gap": 4.6}, "7b": {"speech": 75.4, "gap": 6.2}}
# Table 4 (3B): speech accuracy per benchmark, active selection (gamma=5) vs uniform (gamma=0).
PAPER_3B_SPEECH = {
    "gamma5": {"mmsu": 52.5, "openbookqa": 76.7, "voicebench_openbookqa": 76.7, "arc_challenge": 79.9},
    "gamma0": {"mmsu": 49.5, "openbookqa": 71.9, "voicebench_openbookqa": 71.9, "arc_challenge": 78.9},
}
DASH = "—"


def pct(value: float | None, signed: bool = False) -> str:
    """A fraction as a percentage with one decimal (a sign when `signed`), or the dash placeholder for None."""
    if value is None:
        return DASH
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def _paper(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def benchmark_table(rows: Sequence[AccuracyRow], paper_size: str | None = None, paper_variant: str = "gamma5") -> str:
    """One checkpoint: per benchmark teacher-text / student-text / student-speech / gap, and the means."""
    whole = [r for r in rows if r.topic is None]
    checkpoints = sorted({r.checkpoint for r in whole})
    if len(checkpoints) > 1:
        raise ValueError(f"benchmark_table takes one checkpoint, got {checkpoints}: use checkpoint_table")
    paper = PAPER_3B_SPEECH.get(paper_variant, {}) if paper_size == "3b" else {}
    means = PAPER_MEANS.get(paper_size or "", {})
    label = f"paper SALAD-{paper_size.upper()} speech" if paper_size else "paper speech"
    lines = [
        f"| benchmark | items | teacher text | student text | student speech | gap | {label} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in whole:
        n = max(r.n_items.values())
        lines.append(
            f"| {r.benchmark} | {n} | {pct(r.teacher_text)} | {pct(r.student_text)} | {pct(r.student_speech)} "
            f"| {pct(r.gap, signed=True)} | {_paper(paper.get(r.benchmark))} |"
        )
    lines.append(
        f"| **mean** | | {pct(mean_accuracy(whole, 'teacher_text'))} | {pct(mean_accuracy(whole, 'student_text'))} "
        f"| {pct(mean_accuracy(whole, 'student_speech'))} | {pct(signed_mean_gap(whole), signed=True)} "
        f"| {_paper(means.get('speech'))} (gap {_paper(means.get('gap'))}) |"
    )
    return "\n".join(lines)


def checkpoint_table(rows: Sequence[AccuracyRow], checkpoints: Sequence[str] | None = None) -> str:
    """Checkpoints side by side: speech accuracy and gap per benchmark, signed mean gap last."""
    whole = [r for r in rows if r.topic is None]
    checkpoints = list(checkpoints or sorted({r.checkpoint for r in whole}))
    benchmarks = sorted({r.benchmark for r in whole})
    cell = {(r.checkpoint, r.benchmark): r for r in whole}
    lines = [
        "| benchmark | " + " | ".join(f"{c} speech / gap" for c in checkpoints) + " |",
        "|---|" + "---:|" * len(checkpoints),
    ]
    for b in benchmarks:
        cells = []
        for c in checkpoints:
            r = cell.get((c, b))
            cells.append(DASH if r is None else f"{pct(r.student_speech)} / {pct(r.gap, signed=True)}")
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    means = []
    for c in checkpoints:
        mine = [r for r in whole if r.checkpoint == c]
        means.append(f"{pct(mean_accuracy(mine, 'student_speech'))} / {pct(signed_mean_gap(mine), signed=True)}")
    lines.append("| **mean** | " + " | ".join(means) + " |")
    return "\n".join(lines)


def topic_table(rows: Sequence[AccuracyRow]) -> str:
    """Per (checkpoint, benchmark, topic): the three views and the gap."""
    lines = [
        "| checkpoint | benchmark | topic | items | teacher text | student text | student speech | gap |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.topic is None:
            continue
        lines.append(
            f"| {r.checkpoint} | {r.benchmark} | {r.topic} | {max(r.n_items.values())} | {pct(r.teacher_text)} "
            f"| {pct(r.student_text)} | {pct(r.student_speech)} | {pct(r.gap, signed=True)} |"
        )
    return "\n".join(lines)
