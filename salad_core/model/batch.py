"""Collate interleaved samples (plus each utterance's frames) into tensors for student and teacher.

Usage:
    from salad_core.model.batch import collate_samples
    batch = collate_samples(samples, frames=[latents_or_codes_per_sample], pad_id=0).to(device)
    hidden = speech_lm.hidden_states(**batch.student_inputs())

Layout (right padding everywhere, so default position ids 0..L-1 are right and causal attention
never lets a real position see a pad):
- student: `input_ids` (B, L) hold text/marker tokens (pad_id at frames and pads); `speech_mask`
  marks frame positions. The frames of every speech segment form one row of `span_frames`
  (S, F_max, D), spans ordered by sample then by position, so the adapter's outputs for the real
  frames, read row by row, fill `speech_mask` in row-major order.
- teacher: `teacher_ids` (B, Lt) and its attention mask.
- position map, flattened: `student_index` into B*L, `teacher_index` into B*Lt, `target_ids`, and
  `sample_index` (which sample each text-next position belongs to, for per-sample losses).
`frames[b]` is what the utterance's codec produced: float latents (T, 512) or integer codes
(T, n_q); `None` for text-only samples.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from salad_core.interleave.records import InterleavedSample, MarkerSegment, SpeechSegment, TextSegment


@dataclass
class DistillBatch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    speech_mask: torch.Tensor
    span_frames: torch.Tensor
    span_lengths: torch.Tensor
    teacher_ids: torch.Tensor
    teacher_attention_mask: torch.Tensor
    student_index: torch.Tensor
    teacher_index: torch.Tensor
    target_ids: torch.Tensor
    sample_index: torch.Tensor

    @property
    def n_samples(self) -> int:
        """Samples in the batch (B, the rows of `input_ids`)."""
        return self.input_ids.shape[0]

    def to(self, device: str | torch.device) -> "DistillBatch":
        """A copy of the batch with every tensor moved to `device`."""
        return DistillBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def student_inputs(self) -> dict[str, torch.Tensor]:
        """Keyword arguments for `SpeechLM.hidden_states` / `SpeechLM.forward`."""
        return dict(
            input_ids=self.input_ids,
            attention_mask=self.attention_mask,
            speech_mask=self.speech_mask,
            span_frames=self.span_frames,
            span_lengths=self.span_lengths,
        )


def _pad_rows(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, row in enumerate(rows):
        ids[b, : len(row)] = torch.as_tensor(list(row), dtype=torch.long)
        mask[b, : len(row)] = 1
    return ids, mask


def collate_samples(
    samples: Sequence[InterleavedSample],
    frames: Sequence[torch.Tensor | None] | None = None,
    pad_id: int = 0,
) -> DistillBatch:
    """Right-padded student and teacher id tensors plus speech masks and the speech spans' frames in sample order; frames are
    per sample (F, ...) or None for text. ValueError for an empty batch or a span past its utterance's frames."""
    if not samples:
        raise ValueError("cannot collate an empty batch")
    frames = list(frames) if frames is not None else [None] * len(samples)
    if len(frames) != len(samples):
        raise ValueError("give one frames tensor (or None) per sample")

    student_rows, speech_rows, spans = [], [], []
    for b, sample in enumerate(samples):
        ids, is_speech = [], []
        for seg in sample.segments:
            if isinstance(seg, TextSegment):
                ids += seg.token_ids
                is_speech += [False] * seg.length
            elif isinstance(seg, MarkerSegment):
                ids.append(seg.token_id)
                is_speech.append(False)
            elif isinstance(seg, SpeechSegment):
                if frames[b] is None:
                    raise ValueError(f"sample {sample.sample_id} has speech but no frames were given")
                if seg.end_frame > frames[b].shape[0]:
                    raise ValueError(f"sample {sample.sample_id}: span ends at frame {seg.end_frame}, utterance has {frames[b].shape[0]}")
                spans.append(frames[b][seg.start_frame : seg.end_frame])
                ids += [pad_id] * seg.length
                is_speech += [True] * seg.length
        student_rows.append(ids)
        speech_rows.append(is_speech)

    input_ids, attention_mask = _pad_rows(student_rows, pad_id)
    speech_mask = torch.zeros_like(input_ids, dtype=torch.bool)
    for b, row in enumerate(speech_rows):
        speech_mask[b, : len(row)] = torch.as_tensor(row, dtype=torch.bool)
    teacher_ids, teacher_attention_mask = _pad_rows([s.teacher_ids for s in samples], pad_id)

    if spans:
        span_lengths = torch.tensor([s.shape[0] for s in spans], dtype=torch.long)
        span_frames = spans[0].new_zeros((len(spans), int(span_lengths.max()), *spans[0].shape[1:]))
        for i, span in enumerate(spans):
            span_frames[i, : span.shape[0]] = span
    else:
        span_lengths = torch.zeros(0, dtype=torch.long)
        span_frames = torch.zeros(0, 0, 0)

    L, Lt = input_ids.shape[1], teacher_ids.shape[1]
    student_index, teacher_index, target_ids, sample_index = [], [], [], []
    for b, s in enumerate(samples):
        student_index += [b * L + i for i in s.student_positions]
        teacher_index += [b * Lt + j for j in s.teacher_positions]
        target_ids += s.target_ids
        sample_index += [b] * len(s.target_ids)

    def as_long(values: list[int]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.long)

    return DistillBatch(
        input_ids=input_ids,
        attention_mask=attention_mask,
        speech_mask=speech_mask,
        span_frames=span_frames,
        span_lengths=span_lengths,
        teacher_ids=teacher_ids,
        teacher_attention_mask=teacher_attention_mask,
        student_index=as_long(student_index),
        teacher_index=as_long(teacher_index),
        target_ids=as_long(target_ids),
        sample_index=as_long(sample_index),
    )
