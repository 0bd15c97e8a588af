"""The map from student positions to teacher positions that predict the same text token.

Usage:
    from salad_core.interleave.position_map import position_map
    student_pos, teacher_pos, targets = position_map(segments)

Rule: student position i is kept when position i+1 holds a text token that is teacher token k
with k >= 1; it is paired with teacher position k-1 (the teacher predicts token k there, having
seen exactly the words before it). Positions whose next element is a speech frame or a switch
marker are not text-next and are left out; so is teacher token 0, which nothing predicts.
Because this only reads each text token's teacher index, the same rule serves interleaved samples
and text-only replay samples (where it gives the identity map i -> i).
"""

from collections.abc import Sequence

from salad_core.interleave.records import MarkerSegment, Segment, SpeechSegment, TextSegment


def teacher_index_per_position(segments: Sequence[Segment]) -> list[int | None]:
    """For each student position: the teacher token index it holds, or None (frame or marker)."""
    out: list[int | None] = []
    for seg in segments:
        if isinstance(seg, TextSegment):
            out.extend(seg.teacher_start + j for j in range(seg.length))
        elif isinstance(seg, (SpeechSegment, MarkerSegment)):
            out.extend([None] * seg.length)
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown segment {type(seg)}")
    return out


def position_map(segments: Sequence[Segment], teacher_ids: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """(student_positions, teacher_positions, target_ids) for every text-next student position."""
    for seg in segments:
        if isinstance(seg, TextSegment):
            expected = list(teacher_ids[seg.teacher_start : seg.teacher_start + seg.length])
            if list(seg.token_ids) != expected:
                raise ValueError(f"text segment tokens {seg.token_ids} differ from teacher tokens {expected} at teacher index {seg.teacher_start}")
    index = teacher_index_per_position(segments)
    student, teacher, targets = [], [], []
    for i in range(len(index) - 1):
        k = index[i + 1]
        if k is None or k == 0:
            continue
        student.append(i)
        teacher.append(k - 1)
        targets.append(int(teacher_ids[k]))
    return student, teacher, targets
