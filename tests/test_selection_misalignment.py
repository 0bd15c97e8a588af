"""M(c) on the probe set: a hand-computed tiny case, bootstrap intervals, and bad input.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_selection_misalignment.py -q
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import InterleavedSample, SpeechSegment, TextSegment
from salad_core.model import SpeechLM, collate_samples, llm_from_config, tiny_qwen2_config
from salad_core.objective import FrozenTeacher
from salad_core.selection.misalignment import NO_PROBE, bootstrap_interval, cluster_misalignment_table, score_batches

torch.set_num_threads(1)
from tests.tiny_models import TokenEmbeddingAdapter  # noqa: E402

VOCAB = 48


def sample(sample_id, teacher_ids, speech_from, speech_to):
    """Teacher reads teacher_ids; the student hears tokens [speech_from, speech_to) as frames carrying them."""
    segments = [
        TextSegment(token_ids=teacher_ids[:speech_from], teacher_start=0),
        SpeechSegment(start_frame=0, end_frame=speech_to - speech_from),
        TextSegment(token_ids=teacher_ids[speech_to:], teacher_start=speech_to),
    ]
    s, t, y = position_map(segments, teacher_ids)
    frames = torch.zeros(speech_to - speech_from, 512, dtype=torch.float64)
    frames[:, 0] = torch.tensor(teacher_ids[speech_from:speech_to], dtype=torch.float64)
    return InterleavedSample(sample_id=sample_id, segments=segments, teacher_ids=teacher_ids, student_positions=s, teacher_positions=t, target_ids=y), frames


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    llm = llm_from_config(tiny_qwen2_config(VOCAB), dtype=torch.float64)
    teacher = FrozenTeacher.copy_of(llm)
    with torch.no_grad():  # the student drifts from the teacher: KL > 0 everywhere
        llm.lm_head.weight.add_(0.3 * torch.randn_like(llm.lm_head.weight))
    return SpeechLM(llm, TokenEmbeddingAdapter(llm)), teacher


PROBE = [  # (id, cluster, teacher ids, speech span)
    ("a", 7, [5, 6, 7, 8, 9, 10, 11, 12], (3, 6)),
    ("b", 7, [20, 21, 22, 23, 24, 25], (2, 4)),
    ("c", 3, [30, 31, 32, 33, 34, 35, 36], (1, 3)),
    ("d", 3, [40, 41, 42, 43, 44, 45, 46, 47, 13], (4, 7)),
]


def hand_kl(student, teacher, teacher_ids, positions):
    """KL(teacher || student) at teacher positions from full logits: with frames carrying the same
    tokens, the student on the interleaved context sees exactly what it sees on the transcript."""
    ids = torch.tensor([teacher_ids])
    with torch.no_grad():
        t = F.log_softmax(teacher.llm(ids).logits[0], -1)
        s = F.log_softmax(student.llm(ids).logits[0], -1)
    return [float((t[j].exp() * (t[j] - s[j])).sum()) for j in positions]


def test_cluster_m_equals_a_hand_computed_value(models):
    student, teacher = models
    built = [(pid, c, *sample(pid, ids, *span)) for pid, c, ids, span in PROBE]
    batches = [
        (collate_samples([b[2] for b in built[:3]], [b[3] for b in built[:3]]), [b[0] for b in built[:3]]),
        (collate_samples([built[3][2]], [built[3][3]]), [built[3][0]]),
    ]
    student.train()
    scored = score_batches(student, teacher, batches)
    assert student.training  # the mode it was in comes back
    assert scored.sample_ids == ["a", "b", "c", "d"]

    by_hand = {pid: hand_kl(student, teacher, s.teacher_ids, s.teacher_positions) for pid, _, s, _ in built}
    assert scored.positions == [len(by_hand[p]) for p in "abcd"]
    per_sample = {p: sum(v) / len(v) for p, v in by_hand.items()}
    np.testing.assert_allclose(scored.loss, [per_sample[p] for p in "abcd"], rtol=1e-10)

    result = cluster_misalignment_table(scored.loss, scored.positions, [c for _, c, _, _ in PROBE], n_boot=200, seed=0)
    m = result.m
    assert m[7] == pytest.approx((per_sample["a"] + per_sample["b"]) / 2, rel=1e-10)
    assert m[3] == pytest.approx((per_sample["c"] + per_sample["d"]) / 2, rel=1e-10)
    assert m[7] == pytest.approx(GOLDEN_M7, rel=1e-6) and m[3] == pytest.approx(GOLDEN_M3, rel=1e-6)
    row = next(r for r in result.clusters if r.cluster == 7)
    assert row.n_samples == 2 and row.n_positions == scored.positions[0] + scored.positions[1]


# golden: seed 0, float64, tiny Qwen2 (vocabulary 48), student head + 0.3·N(0, 1)
GOLDEN_M7, GOLDEN_M3 = 2.2862695869819536, 2.1150705113204444


def test_bootstrap_interval_contains_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    widths = []
    for n in (10, 100, 1000):
        values = rng.gamma(2.0, 0.5, size=n)
        low, high = bootstrap_interval(values, 1000, 0.95, np.random.default_rng(1))
        assert low <= values.mean() <= high
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] / widths[2] > 5  # ~ sqrt(100) = 10 in theory
    # seeded per cluster: the same inputs give the same interval
    table = cluster_misalignment_table([1.0, 2.0, 4.0], [3, 3, 3], [0, 0, 0], seed=5)
    again = cluster_misalignment_table([1.0, 2.0, 4.0, 9.0], [3, 3, 3, 3], [0, 0, 0, 1], seed=5)
    assert table.clusters[0] == again.clusters[0]


def test_cluster_without_probe_sample_is_reported():
    result = cluster_misalignment_table([0.5, float("nan")], [4, 0], [0, 1], expected_clusters=range(3))
    assert [r.status for r in result.clusters] == ["scored", NO_PROBE, NO_PROBE]
    assert result.unscored == [1, 2] and result.m == {0: 0.5}
    assert result.n_samples_without_positions == 1
    assert result.clusters[0].ci_low == result.clusters[0].ci_high == 0.5  # one sample: no spread to bootstrap


def test_nan_and_negative_losses_are_refused():
    with pytest.raises(ValueError, match="'x' has 3 text-next positions but loss nan"):
        cluster_misalignment_table([float("nan")], [3], [0], sample_ids=["x"])
    with pytest.raises(ValueError, match="cannot be negative"):
        cluster_misalignment_table([0.2, -0.01], [3, 3], [0, 0])
    # float rounding just below zero is a zero KL
    assert cluster_misalignment_table([-1e-9], [2], [0]).m == {0: 0.0}
    with pytest.raises(ValueError, match="one of each per sample"):
        cluster_misalignment_table([0.1, 0.2], [1], [0, 0])
