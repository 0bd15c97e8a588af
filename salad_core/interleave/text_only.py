"""Text-only replay samples: the student reads the same text as the teacher.

Usage:
    from salad_core.interleave.text_only import text_only_sample
    sample = text_only_sample("doc-17", tokenizer.encode(text), max_positions=2048)

Replay batches (design.md: 1/3 of batches) limit forgetting. Expressing them as an
`InterleavedSample` with a single text segment lets the same collate function and the same loss
serve both batch kinds; the position map comes out as the identity (student i -> teacher i).
"""

from collections.abc import Sequence

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import InterleavedSample, TextSegment


def text_only_sample(sample_id: str, token_ids: Sequence[int], max_positions: int = 2048) -> InterleavedSample:
    """A sample with one text segment, student and teacher reading the same first `max_positions` tokens; ValueError when no token is left."""
    ids = [int(t) for t in token_ids[:max_positions]]
    if not ids:
        raise ValueError("a text-only sample needs at least one token")
    segments = [TextSegment(token_ids=ids, teacher_start=0)]
    student_positions, teacher_positions, target_ids = position_map(segments, ids)
    return InterleavedSample(
        sample_id=sample_id,
        segments=segments,
        teacher_ids=ids,
        student_positions=student_positions,
        teacher_positions=teacher_positions,
        target_ids=target_ids,
    )
