"""Accuracy, gap and signed-mean arithmetic on golden values; the markdown report; the bundled set.

Run: .venv/bin/python -m pytest tests/test_eval_metrics.py -x -q
"""

from __future__ import annotations

from collections import Counter

import pytest

from salad_core.corpus.bundled import BUNDLED_TOPICS, generate_bundled_corpus
from salad_core.evaluation.bundled_mc import bundled_items
from salad_core.evaluation.items import check_item
from salad_core.evaluation.metrics import mean_accuracy, signed_mean_gap, summarize
from salad_core.evaluation.report import benchmark_table, checkpoint_table, topic_table


def _rows(checkpoint, benchmark, view, correct, topics=None):
    topics = topics or [None] * len(correct)
    return [
        {"checkpoint": checkpoint, "benchmark": benchmark, "view": view, "topic": t, "correct_norm": c, "correct_raw": not c} for c, t in zip(correct, topics)
    ]


@pytest.fixture
def rows():
    return (
        _rows("s1", "arc_challenge", "teacher_text", [1, 1, 1, 0])  # 0.75
        + _rows("s1", "arc_challenge", "student_text", [1, 1, 0, 0])  # 0.50
        + _rows("s1", "arc_challenge", "student_speech", [1, 0, 0, 0])  # 0.25 -> gap +0.50
        + _rows("s1", "piqa", "teacher_text", [1, 0, 0, 0, 0])  # 0.20
        + _rows("s1", "piqa", "student_text", [1, 0, 0, 0, 0])  # 0.20
        + _rows("s1", "piqa", "student_speech", [1, 1, 1, 0, 0])  # 0.60 -> gap -0.40
        + _rows("s1", "bundled_mc", "teacher_text", [1, 1, 0, 1], ["a", "a", "b", "b"])
        + _rows("s1", "bundled_mc", "student_speech", [1, 0, 0, 0], ["a", "a", "b", "b"])
    )


def test_accuracies_gap_and_signed_mean_golden(rows):
    summary = summarize(rows)
    by = {(r.benchmark, r.topic): r for r in summary}
    arc, piqa, bundled = by[("arc_challenge", None)], by[("piqa", None)], by[("bundled_mc", None)]
    assert (arc.teacher_text, arc.student_text, arc.student_speech) == (0.75, 0.5, 0.25)
    assert arc.gap == pytest.approx(0.5) and arc.forgetting_gap == pytest.approx(0.25)
    assert piqa.gap == pytest.approx(-0.4)  # speech better than text: a negative gap, not clipped
    assert bundled.student_text is None and bundled.gap == pytest.approx(0.5)
    assert by[("bundled_mc", "a")].gap == pytest.approx(0.5) and by[("bundled_mc", "b")].gap == pytest.approx(0.5)
    assert by[("bundled_mc", "a")].n_items == {"teacher_text": 2, "student_text": 0, "student_speech": 2}
    # signed mean over benchmarks (topic rows excluded): (0.5 - 0.4 + 0.5) / 3
    assert signed_mean_gap(summary) == pytest.approx(0.2)
    assert mean_accuracy(summary, "student_speech") == pytest.approx((0.25 + 0.6 + 0.25) / 3)
    # the raw-sum metric reads the other column
    raw = {(r.benchmark, r.topic): r for r in summarize(rows, metric="acc")}
    assert raw[("arc_challenge", None)].teacher_text == pytest.approx(0.25)  # correct_raw = not correct_norm here


def test_markdown_tables(rows):
    summary = summarize(rows)
    table = benchmark_table(summary, paper_size="3b")
    assert "| arc_challenge | 4 | 75.0 | 50.0 | 25.0 | +50.0 | 79.9 |" in table
    assert "| piqa | 5 | 20.0 | 20.0 | 60.0 | -40.0 | — |" in table
    assert "| **mean** | | 56.7 | 35.0 | 36.7 | +20.0 | 72.0 (gap 4.6) |" in table
    two = summary + summarize(_rows("s2", "arc_challenge", "teacher_text", [1, 1]) + _rows("s2", "arc_challenge", "student_speech", [1, 0]))
    side = checkpoint_table(two, ["s1", "s2"])
    assert "| arc_challenge | 25.0 / +50.0 | 50.0 / +50.0 |" in side and "| piqa | 60.0 / -40.0 | — |" in side
    assert "| s1 | bundled_mc | a | 2 | 100.0 | — | 50.0 | +50.0 |" in topic_table(summary)
    with pytest.raises(ValueError, match="one checkpoint"):
        benchmark_table(two)


def test_bundled_set_covers_every_topic_is_valid_and_held_out_from_the_corpus():
    items = bundled_items(n_items=280, n_options=4, seed=0)
    assert Counter(i.topic for i in items) == {t: 20 for t in BUNDLED_TOPICS}
    assert all(check_item(i) is None for i in items) and len({i.id for i in items}) == 280
    answers = Counter(i.answer for i in items)
    assert len(answers) == 4 and min(answers.values()) >= 50  # the right option is not always in one place
    assert items == bundled_items(n_items=280, n_options=4, seed=0)  # deterministic
    corpus = "\n".join(generate_bundled_corpus(3000, seed=0)["text"].to_pylist())
    # no item's context + right sentence is a passage of the training corpus
    leaked = [i.id for i in items if i.context + " " + i.options[i.answer] in corpus]
    assert not leaked
    # short two-sentence openings can coincide with a corpus document's (same templates): a few, never most
    assert sum(i.context in corpus for i in items) <= 10
