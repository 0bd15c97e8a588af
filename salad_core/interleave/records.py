"""Typed records for interleaved speech/text samples.

Usage:
    from salad_core.interleave.records import AlignedUtterance, InterleavedSample
    utt = AlignedUtterance(utterance_id="u1", words=["Hello", "world"],
                           word_starts=[0.10, 0.55], word_ends=[0.50, 0.90], n_frames=13)
    sample.n_positions, sample.student_positions, sample.teacher_positions, sample.target_ids

A sample is stored as plain lists and small segment records (no tensors) so the task layer can
write it to Parquet/JSON and the model layer can collate it later with the utterance's frames.
The student sees `segments` in order; the teacher sees `teacher_ids`. The three parallel lists
`student_positions / teacher_positions / target_ids` are the position map: at student position
`student_positions[k]` the next token is the text token `target_ids[k]`, which the teacher
predicts at `teacher_positions[k]` from the same preceding words (design.md, section 1).
"""

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AlignedUtterance(BaseModel):
    """One utterance with word timings (seconds) and the number of 12.5 Hz codec frames it has."""

    model_config = ConfigDict(extra="forbid")

    utterance_id: str
    words: list[str]
    word_starts: list[float]
    word_ends: list[float]
    n_frames: int

    @model_validator(mode="after")
    def _check(self) -> "AlignedUtterance":
        n = len(self.words)
        if len(self.word_starts) != n or len(self.word_ends) != n:
            raise ValueError("words, word_starts and word_ends must have the same length")
        for i, (s, e) in enumerate(zip(self.word_starts, self.word_ends)):
            if e < s:
                raise ValueError(f"word {i} ends ({e}) before it starts ({s})")
            if i and s < self.word_starts[i - 1]:
                raise ValueError(f"word {i} starts before word {i - 1}")
        if self.n_frames < 1:
            raise ValueError("an utterance needs at least one frame")
        return self


class TextSegment(BaseModel):
    """Text tokens of words [word_start, word_end); token j is teacher token teacher_start + j."""

    kind: Literal["text"] = "text"
    token_ids: list[int]
    teacher_start: int
    word_start: int | None = None
    word_end: int | None = None

    @property
    def length(self) -> int:
        """Student positions this segment occupies: one per text token."""
        return len(self.token_ids)


class SpeechSegment(BaseModel):
    """Codec frames [start_frame, end_frame) of the utterance, standing for words [word_start, word_end)."""

    kind: Literal["speech"] = "speech"
    start_frame: int
    end_frame: int
    word_start: int | None = None
    word_end: int | None = None

    @property
    def length(self) -> int:
        """Student positions this span occupies: one per codec frame."""
        return self.end_frame - self.start_frame

    @model_validator(mode="after")
    def _check(self) -> "SpeechSegment":
        if not 0 <= self.start_frame < self.end_frame:
            raise ValueError(f"empty or negative frame span [{self.start_frame}, {self.end_frame})")
        return self


class MarkerSegment(BaseModel):
    """A modality-switch token; it has no teacher counterpart, so it is never a target."""

    kind: Literal["marker"] = "marker"
    token_id: int

    @property
    def length(self) -> int:
        """A marker always occupies exactly one student position."""
        return 1


Segment = Annotated[Union[TextSegment, SpeechSegment, MarkerSegment], Field(discriminator="kind")]


class InterleavedSample(BaseModel):
    """Student segments, teacher tokens and the position map between them."""

    model_config = ConfigDict(extra="forbid")

    sample_id: str
    segments: list[Segment]
    teacher_ids: list[int]
    student_positions: list[int]
    teacher_positions: list[int]
    target_ids: list[int]

    @property
    def n_positions(self) -> int:
        """Length of the student sequence: the sum of its segments' positions (text tokens, speech frames, markers)."""
        return sum(s.length for s in self.segments)

    @property
    def has_speech(self) -> bool:
        """Whether any segment is speech; False for a text-only sample."""
        return any(isinstance(s, SpeechSegment) for s in self.segments)

    @model_validator(mode="after")
    def _check_map(self) -> "InterleavedSample":
        n = len(self.student_positions)
        if len(self.teacher_positions) != n or len(self.target_ids) != n:
            raise ValueError("the position map lists must have the same length")
        return self
