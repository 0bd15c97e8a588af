"""The student->teacher position map on hand-built examples (expected indices written by hand).

Run: .venv/bin/python -m pytest tests/test_interleave_position_map.py -q
"""

import pytest

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import MarkerSegment, SpeechSegment, TextSegment
from salad_core.interleave.text_only import text_only_sample

# Transcript of 5 words; word 1 is two tokens. Teacher tokens (index: id):
#   0:100 "a" | 1:101 2:102 " b" | 3:103 " c" | 4:104 " d" | 5:105 " e"
TEACHER = [100, 101, 102, 103, 104, 105]


def test_map_text_speech_text():
    # student: "a b" as text, " c d" as 3 frames, " e" as text
    segments = [
        TextSegment(token_ids=[100, 101, 102], teacher_start=0, word_start=0, word_end=2),
        SpeechSegment(start_frame=4, end_frame=7, word_start=2, word_end=4),
        TextSegment(token_ids=[105], teacher_start=5, word_start=4, word_end=5),
    ]
    # student positions: 0:100 1:101 2:102 3:frame 4:frame 5:frame 6:105
    # text-next: 0 (next 101 = teacher 1 -> teacher pos 0), 1 (next 102 -> teacher pos 1),
    #            5 (next 105 = teacher 5 -> teacher pos 4); 2 predicts a frame: not counted.
    assert position_map(segments, TEACHER) == ([0, 1, 5], [0, 1, 4], [101, 102, 105])


def test_map_with_switch_markers():
    S, E = 900, 901
    segments = [
        TextSegment(token_ids=[100, 101, 102], teacher_start=0),
        MarkerSegment(token_id=S),
        SpeechSegment(start_frame=0, end_frame=3),
        MarkerSegment(token_id=E),
        TextSegment(token_ids=[105], teacher_start=5),
    ]
    # 0:100 1:101 2:102 3:S 4,5,6:frames 7:E 8:105
    # text-next: 0->0 (101), 1->1 (102), 7->4 (105); 2 predicts S and 6 predicts E: not text content.
    assert position_map(segments, TEACHER) == ([0, 1, 7], [0, 1, 4], [101, 102, 105])


def test_map_speech_first():
    segments = [
        SpeechSegment(start_frame=0, end_frame=2),  # words "a b"
        TextSegment(token_ids=[103, 104, 105], teacher_start=3),
    ]
    # 0,1: frames, 2:103 3:104 4:105 -> 1->2 (103), 2->3 (104), 3->4 (105)
    assert position_map(segments, TEACHER) == ([1, 2, 3], [2, 3, 4], [103, 104, 105])


def test_first_teacher_token_is_never_a_target():
    segments = [TextSegment(token_ids=[100, 101], teacher_start=0)]
    assert position_map(segments, TEACHER[:2]) == ([0], [0], [101])


def test_text_that_disagrees_with_the_teacher_is_rejected():
    segments = [TextSegment(token_ids=[100, 999], teacher_start=0)]
    with pytest.raises(ValueError, match="differ from teacher"):
        position_map(segments, TEACHER)


def test_text_only_sample_is_identity_map():
    sample = text_only_sample("doc", [7, 8, 9, 10])
    assert sample.student_positions == [0, 1, 2]
    assert sample.teacher_positions == [0, 1, 2]
    assert sample.target_ids == [8, 9, 10]
    assert sample.teacher_ids == [7, 8, 9, 10]
    assert text_only_sample("doc", list(range(10)), max_positions=4).teacher_ids == [0, 1, 2, 3]
