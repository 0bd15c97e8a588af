"""Interleaved speech/text samples: records, the builder, the position map, text-only replay.

Usage:
    from salad_core.interleave import AlignedUtterance, InterleaveConfig, interleave_utterance
    sample = interleave_utterance(utterance, tokenizer, InterleaveConfig(), seed=0)
"""

from salad_core.interleave.builder import InterleaveConfig, interleave_utterance, speech_frame_span
from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import (
    AlignedUtterance,
    InterleavedSample,
    MarkerSegment,
    SpeechSegment,
    TextSegment,
)
from salad_core.interleave.text_only import text_only_sample
from salad_core.interleave.tokenize import tokenize_words

__all__ = [
    "AlignedUtterance",
    "InterleaveConfig",
    "InterleavedSample",
    "MarkerSegment",
    "SpeechSegment",
    "TextSegment",
    "interleave_utterance",
    "position_map",
    "speech_frame_span",
    "text_only_sample",
    "tokenize_words",
]
