"""Collation of interleaved samples into student/teacher tensors, checked index by index.

Run: .venv/bin/python -m pytest tests/test_model_batch.py -q
"""

import pytest
import torch

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import InterleavedSample, MarkerSegment, SpeechSegment, TextSegment
from salad_core.interleave.text_only import text_only_sample
from salad_core.model.batch import collate_samples


def sample_with_marker() -> InterleavedSample:
    teacher = [5, 6, 7, 8]
    segments = [
        SpeechSegment(start_frame=1, end_frame=3),  # words for tokens 5 6
        MarkerSegment(token_id=60),
        TextSegment(token_ids=[7, 8], teacher_start=2),
    ]
    s, t, y = position_map(segments, teacher)  # 0,1: frames  2: marker  3:7  4:8
    assert (s, t, y) == ([2, 3], [1, 2], [7, 8])
    return InterleavedSample(sample_id="m", segments=segments, teacher_ids=teacher, student_positions=s, teacher_positions=t, target_ids=y)


def test_collate_by_hand():
    frames = torch.arange(4 * 3, dtype=torch.float32).view(4, 3)  # 4 frames of a 3-d "latent"
    text = text_only_sample("t", [9, 10, 11])
    batch = collate_samples([sample_with_marker(), text], [frames, None], pad_id=0)
    assert batch.input_ids.tolist() == [[0, 0, 60, 7, 8], [9, 10, 11, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch.speech_mask.tolist() == [[True, True, False, False, False], [False] * 5]
    assert batch.span_frames.tolist() == [[[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]]
    assert batch.span_lengths.tolist() == [2]
    assert batch.teacher_ids.tolist() == [[5, 6, 7, 8], [9, 10, 11, 0]]
    assert batch.teacher_attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    # flat indices: row length 5 for the student, 4 for the teacher
    assert batch.student_index.tolist() == [2, 3, 5 + 0, 5 + 1]
    assert batch.teacher_index.tolist() == [1, 2, 4 + 0, 4 + 1]
    assert batch.target_ids.tolist() == [7, 8, 10, 11]
    assert batch.sample_index.tolist() == [0, 0, 1, 1]


def test_spans_are_padded_and_ordered_by_sample_then_position():
    frames_a = torch.arange(10, dtype=torch.float32).view(10, 1)
    frames_b = 100 + torch.arange(10, dtype=torch.float32).view(10, 1)
    a = InterleavedSample(
        sample_id="a",
        segments=[SpeechSegment(start_frame=0, end_frame=1), TextSegment(token_ids=[1], teacher_start=1), SpeechSegment(start_frame=5, end_frame=8)],
        teacher_ids=[0, 1, 2],
        student_positions=[0],
        teacher_positions=[0],
        target_ids=[1],
    )
    b = InterleavedSample(
        sample_id="b", segments=[SpeechSegment(start_frame=2, end_frame=4)], teacher_ids=[0], student_positions=[], teacher_positions=[], target_ids=[]
    )
    batch = collate_samples([a, b], [frames_a, frames_b])
    assert batch.span_lengths.tolist() == [1, 3, 2]
    assert batch.span_frames[..., 0].tolist() == [[0, 0, 0], [5, 6, 7], [102, 103, 0]]


def test_missing_or_short_frames_are_errors():
    with pytest.raises(ValueError, match="no frames"):
        collate_samples([sample_with_marker()])
    with pytest.raises(ValueError, match="utterance has 2"):
        collate_samples([sample_with_marker()], [torch.zeros(2, 3)])
