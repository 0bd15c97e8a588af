"""Build one interleaved speech/text training sample from a word-aligned utterance.

Usage:
    from salad_core.interleave.builder import InterleaveConfig, interleave_utterance
    sample = interleave_utterance(utterance, tokenizer, InterleaveConfig(), seed=1234)
    # collate later with the utterance's frames: salad_core.model.batch.collate_samples

The student input alternates text runs (10-30 words) and speech runs (5-15 words), lengths drawn
from `random.Random(seed)`; the teacher input is the transcript of the covered words as text
(see `tokenize.py` for why both come from the same per-word tokens). A sample never exceeds
`max_positions` (frames + tokens + markers, and the teacher's tokens): the run that would cross the
cap is shortened word by word and the sample ends there; the teacher then sees only the covered
words. A speech run of words [a, b) takes the frames between the midpoints of the silences that
surround it (the utterance's first/last word edge at the ends), so consecutive runs tile the audio
without overlap and the pauses are split evenly between neighbours. A sample can come out with no
text-next position (e.g. a short utterance that is all speech); callers drop those
(`len(sample.target_ids) == 0`).
"""

import math
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from salad_core.interleave.position_map import position_map
from salad_core.interleave.records import (
    AlignedUtterance,
    InterleavedSample,
    MarkerSegment,
    SpeechSegment,
    TextSegment,
)
from salad_core.interleave.tokenize import tokenize_words


class InterleaveConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text_words: tuple[int, int] = (10, 30)  # inclusive bounds
    speech_words: tuple[int, int] = (5, 15)
    frame_rate: float = 12.5  # Mimi frames per second
    max_positions: int = 2048
    first_run: Literal["random", "text", "speech"] = "random"
    speech_start_id: int | None = None  # optional marker token before each speech run
    speech_end_id: int | None = None  # optional marker token after each speech run

    @model_validator(mode="after")
    def _check(self) -> "InterleaveConfig":
        for name in ("text_words", "speech_words"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"{name} must satisfy 1 <= low <= high, got {(lo, hi)}")
        return self


def speech_frame_span(utt: AlignedUtterance, word_start: int, word_end: int, frame_rate: float) -> tuple[int, int]:
    """Frames [start, end) of words [word_start, word_end), cut at the middle of surrounding pauses."""
    last = len(utt.words) - 1
    if word_start == 0:
        t0 = utt.word_starts[0]
    else:
        t0 = 0.5 * (utt.word_ends[word_start - 1] + utt.word_starts[word_start])
    if word_end - 1 == last:
        t1 = utt.word_ends[last]
    else:
        t1 = 0.5 * (utt.word_ends[word_end - 1] + utt.word_starts[word_end])
    start = min(max(math.floor(t0 * frame_rate + 0.5), 0), utt.n_frames - 1)
    end = min(max(math.floor(t1 * frame_rate + 0.5), start + 1), utt.n_frames)
    return start, end


def interleave_utterance(
    utt: AlignedUtterance,
    tokenizer,
    config: InterleaveConfig = InterleaveConfig(),
    seed: int | random.Random = 0,
) -> InterleavedSample:
    """An `InterleavedSample` for `utt`; same inputs and seed give the same sample."""
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    word_tokens = tokenize_words(utt.words, tokenizer)
    n_words, cap = len(word_tokens), config.max_positions
    n_markers = (config.speech_start_id is not None) + (config.speech_end_id is not None)

    if config.first_run == "random":
        is_text = rng.random() < 0.5
    else:
        is_text = config.first_run == "text"

    def n_tokens(a: int, b: int) -> int:
        return sum(len(t) for t in word_tokens[a:b])

    def student_cost(a: int, b: int, text: bool) -> int:
        if text:
            return n_tokens(a, b)
        start, end = speech_frame_span(utt, a, b, config.frame_rate)
        return end - start + n_markers

    segments, n_pos, n_teacher, w = [], 0, 0, 0
    while w < n_words:
        lo, hi = config.text_words if is_text else config.speech_words
        end = min(w + rng.randint(lo, hi), n_words)
        # shorten the run until it fits the context, for the student and for the teacher
        while end > w and (n_pos + student_cost(w, end, is_text) > cap or n_teacher + n_tokens(w, end) > cap):
            end -= 1
        if end == w:
            break
        if is_text:
            tokens = [t for word in word_tokens[w:end] for t in word]
            segments.append(TextSegment(token_ids=tokens, teacher_start=n_teacher, word_start=w, word_end=end))
        else:
            start_frame, end_frame = speech_frame_span(utt, w, end, config.frame_rate)
            if config.speech_start_id is not None:
                segments.append(MarkerSegment(token_id=config.speech_start_id))
            segments.append(SpeechSegment(start_frame=start_frame, end_frame=end_frame, word_start=w, word_end=end))
            if config.speech_end_id is not None:
                segments.append(MarkerSegment(token_id=config.speech_end_id))
        n_pos += student_cost(w, end, is_text)
        n_teacher += n_tokens(w, end)
        w, is_text = end, not is_text

    teacher_ids = [t for word in word_tokens[:w] for t in word]
    student_positions, teacher_positions, target_ids = position_map(segments, teacher_ids)
    return InterleavedSample(
        sample_id=utt.utterance_id,
        segments=segments,
        teacher_ids=teacher_ids,
        student_positions=student_positions,
        teacher_positions=teacher_positions,
        target_ids=target_ids,
    )
