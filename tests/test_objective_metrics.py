"""Misalignment M, per-cluster M(c) and forgetting F on cases with known answers.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_objective_metrics.py -q
"""

import math

import pytest
import torch

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import InterleavedSample, SpeechSegment, TextSegment
from salad_core.interleave.text_only import text_only_sample
from salad_core.model import AdapterConfig, SpeechAdapter, SpeechLM, collate_samples, llm_from_config, tiny_qwen2_config
from salad_core.objective import FrozenTeacher, cluster_misalignment, forgetting, misalignment, per_sample_mean

from tests.tiny_models import TokenEmbeddingAdapter  # noqa: E402

VOCAB = 48


def tiny_llm(seed=0):
    torch.manual_seed(seed)
    return llm_from_config(tiny_qwen2_config(VOCAB), dtype=torch.float64)


def one_frame_per_token_sample():
    """Teacher 5..12; tokens 8 9 10 are replaced by three frames that carry exactly those tokens."""
    teacher = [5, 6, 7, 8, 9, 10, 11, 12]
    segments = [
        TextSegment(token_ids=[5, 6, 7], teacher_start=0),
        SpeechSegment(start_frame=0, end_frame=3),
        TextSegment(token_ids=[11, 12], teacher_start=6),
    ]
    s, t, y = position_map(segments, teacher)
    frames = torch.zeros(3, 512, dtype=torch.float64)
    frames[:, 0] = torch.tensor([8.0, 9.0, 10.0])
    sample = InterleavedSample(sample_id="x", segments=segments, teacher_ids=teacher, student_positions=s, teacher_positions=t, target_ids=y)
    return sample, frames


def test_misalignment_is_zero_when_speech_carries_the_same_tokens():
    llm = tiny_llm()
    student = SpeechLM(llm, TokenEmbeddingAdapter(llm)).eval()
    sample, frames = one_frame_per_token_sample()
    m = misalignment(student, collate_samples([sample], [frames]))
    assert m.per_position.shape == (4,)
    assert m.total == pytest.approx(0.0, abs=1e-12) and m.mean == pytest.approx(0.0, abs=1e-12)
    # the same check can fail: frames in the wrong order carry different tokens
    m_wrong = misalignment(student, collate_samples([sample], [frames.flip(0)]))
    assert m_wrong.mean > 1e-4


def test_misalignment_of_an_untrained_adapter_is_positive():
    llm = tiny_llm()
    torch.manual_seed(1)
    student = SpeechLM(llm, SpeechAdapter(AdapterConfig.preset("tiny", llm_hidden=64)).double()).eval()
    sample, _ = one_frame_per_token_sample()
    m = misalignment(student, collate_samples([sample], [torch.randn(3, 512, dtype=torch.float64)]))
    assert m.mean > 1e-4 and m.total == pytest.approx(m.mean * 4)


def test_forgetting_is_zero_when_the_student_is_the_teacher():
    llm = tiny_llm()
    teacher = FrozenTeacher.copy_of(llm)
    student = SpeechLM(llm, TokenEmbeddingAdapter(llm)).eval()
    batch = collate_samples([text_only_sample("t", list(range(3, 40)))])
    f = forgetting(teacher, student, batch)
    assert f.per_position.shape == (36,)
    assert f.total == pytest.approx(0.0, abs=1e-12)
    with torch.no_grad():  # and it is not zero once the student has moved
        llm.lm_head.weight.add_(0.1 * torch.randn_like(llm.lm_head.weight))
    assert forgetting(teacher, student, batch).mean > 1e-4


def test_per_sample_mean_and_cluster_misalignment_by_hand():
    kl = torch.tensor([1.0, 3.0, 2.0, 4.0, 6.0])
    per_sample = per_sample_mean(kl, torch.tensor([0, 0, 1, 2, 2]), n_samples=4)
    assert per_sample[:3].tolist() == [2.0, 2.0, 5.0] and math.isnan(per_sample[3].item())
    # clusters: sample 0 -> 7, sample 1 -> 3, sample 2 -> 7, sample 3 (no positions) -> 3
    assert cluster_misalignment(per_sample, [7, 3, 7, 3]) == {3: 2.0, 7: 3.5}
    assert cluster_misalignment([0.5, 1.5, 4.0], [1, 1, 2]) == {1: 1.0, 2: 4.0}
    with pytest.raises(ValueError):
        cluster_misalignment([1.0], [1, 2])
