"""Speakable cuts, the probe picker, report figures and the cost estimate, on cases with known answers.

Run: .venv/bin/python -m pytest tests/test_selection_core.py -q
"""

import math

import numpy as np
import pytest

from salad_core.selection.config import ProbeConfig
from salad_core.selection.cost import (
    MEASURED_CPU,
    CostOverBudget,
    Workload,
    check_budget,
    cost_markdown,
    estimate_cost,
    flops_training_throughput,
    paper_scale_3b,
    work,
)
from salad_core.selection.probe import ProbePicker
from salad_core.selection.report import effective_sample_size, entropy, selection_markdown, selection_summary, total_variation
from salad_core.selection.sampler import target_plan
from salad_core.selection.speakable import sentences, speakable_cut


def test_speakable_cut_keeps_whole_leading_sentences():
    text = 'First one here.  Second\nsentence is longer! Third? "Quoted end." Tail without stop'
    assert sentences(text) == ["First one here.", "Second sentence is longer!", "Third?", '"Quoted end."', "Tail without stop"]
    assert speakable_cut(text, 7) == ("First one here. Second sentence is longer!", 7)
    assert speakable_cut(text, 6) == ("First one here.", 3)
    assert speakable_cut("A very long opening sentence.", 3) == ("", 0)
    assert speakable_cut(None, 10) == ("", 0) and speakable_cut("  ", 10) == ("", 0)


def test_probe_picker_is_order_free_and_passes_over_short_documents():
    ids = [f"d{i}" for i in range(50)]
    clusters = [i % 2 for i in range(50)]
    texts = {i: ("Tiny." if n % 7 == 0 else "This text has enough words to be spoken aloud.") for n, i in enumerate(ids)}
    config = ProbeConfig(n_per_cluster=5, max_words=20, min_words=4, seed=3)

    def run(order):
        picker = ProbePicker(config)
        for start in range(0, 50, 7):
            part = order[start : start + 7]
            picker.add([ids[k] for k in part], [clusters[k] for k in part], [k for k in part])
        return {c: picker.choose(c, [(i, texts[i]) for i, _ in held]) for c, held in picker.candidates().items()}

    a, b = run(list(range(50))), run(list(np.random.default_rng(0).permutation(50)))
    assert {c: [r["id"] for r in o.rows] for c, o in a.items()} == {c: [r["id"] for r in o.rows] for c, o in b.items()}
    assert all(len(o.rows) == 5 and o.documents == 25 for o in a.values())
    assert all("Tiny." not in r["text"] for o in a.values() for r in o.rows)


def test_report_figures_by_hand():
    assert effective_sample_size(np.ones(10)) == 10.0
    assert effective_sample_size(np.array([1.0, 3.0])) == pytest.approx(16 / 10)
    assert entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(math.log(2))
    assert total_variation(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(0.5)
    plan = target_plan({0: 3, 1: 1}, {0: 1.0, 1: 3.0}, gamma=1.0)  # P_web (.75, .25), P_target (.5, .5)
    summary = selection_summary(plan, {0: 2, 1: 2}, previous_counts={0: 4})
    # weights P_web/P_target: 1.5, 1.5, 0.5, 0.5 -> ESS = 16 / 5
    assert summary["effective_sample_size"] == pytest.approx(3.2)
    assert summary["expected"] == {0: 2.0, 1: 2.0} and summary["drift_tv"] == pytest.approx(0.5)
    text = selection_markdown(plan, summary, {0: (0.9, 1.1)}, {1: ["orbit", "moon"]})
    assert "| 1 | 3.0000 | – | 25.00% | 50.00% | 2.0 | 2 | eligible | orbit, moon |" in text
    assert "[0.9000, 1.1000]" in text


def test_cost_estimate_by_hand_and_budget_refusal():
    workload = Workload(docs_to_embed=13_600, natural_speech_hours=29.2, synthetic_speech_hours=1.0, train_tokens=7.2e6, embedding_dim=384)
    estimate = estimate_cost(workload, MEASURED_CPU, {"tokenize": 2})
    hours = {s.stage: s.device_hours for s in estimate.stages}
    # 13,600 docs at 13.6/s = 1,000 s; 30.2 h of audio at 29.2 audio-s/s; 1 h at 1/0.45; 7.2M tokens at 2,000/s = 1 h
    assert hours["embed"] == pytest.approx(1000 / 3600)
    assert hours["tokenize"] == pytest.approx(30.2 / 29.2)
    assert hours["tts"] == pytest.approx(0.45)
    assert hours["train"] == pytest.approx(1.0)
    assert estimate.stages[2].wall_hours == pytest.approx(30.2 / 29.2 / 2)
    assert estimate.stages[2].storage_bytes == pytest.approx(30.2 * 3600 * 200)  # 8 int16 codes at 12.5 Hz
    check_budget(estimate, max_device_hours=10)
    with pytest.raises(CostOverBudget, match=r"2.8 device-hours exceed the budget of 1.0 \(largest: tokenize"):
        check_budget(estimate, max_device_hours=1.0)
    check_budget(estimate, max_device_hours=1.0, override=True)
    with pytest.raises(ValueError, match="lack the stage"):
        estimate_cost(workload, {"embed": MEASURED_CPU["embed"]})


def test_paper_scale_3b_table():
    estimate = paper_scale_3b()
    hours = {s.stage: s.device_hours for s in estimate.stages}
    assert hours["tokenize"] == pytest.approx((141_600 + 1_416 + 128 * 32 * 20 / 3600) / 29.2, rel=1e-12)
    assert flops_training_throughput(3.09e9, 0.122e9, 989e12, 0.4) == pytest.approx(989e12 * 0.4 / (6 * 3.212e9 + 2 * 3.09e9))
    text = cost_markdown(estimate)
    assert "| tokenize | 143,039 h of audio |" in text and "Assumptions:" in text and "GPU (H100)" in text


def test_small_amounts_of_audio_are_never_shown_as_0_h():
    # the demo's estimate printed "| tts | 0 h of audio | ... | 0.046 |": 364 audio-s rounded to nothing
    assert [work(s, "audio-s") for s in (364, 42, 5400, 143_039 * 3600)] == ["6 min of audio", "42 s of audio", "1.5 h of audio", "143,039 h of audio"]


def test_speakable_cut_of_a_long_page_looks_only_at_its_opening():
    page = "Short opening sentence here. " + "word " * 100_000 + "end."
    assert speakable_cut(page, 10) == ("Short opening sentence here.", 4)
    # a window that ends inside a sentence never counts the fragment as a sentence
    assert speakable_cut("One two three. " + "x" * 500 + " four.", 5) == ("One two three.", 3)
