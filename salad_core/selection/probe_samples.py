"""Probe clips (word timings + Mimi codes) → interleaved samples and batches to score M(c) on.

Usage:
    built = probe_samples(rows, tokenizer, InterleaveConfig(), seed=0)   # rows: dicts, see below
    for batch, ids in probe_batches(built.samples, built.frames, built.ids, batch_size=16, pad_id=0):
        ...   # salad_core.selection.misalignment.score_batches takes exactly this stream

A row is ``{"id", "word_timings": [{"word", "start", "end"}, ...], "codes": flat int16,
"n_frames", "n_codebooks"}`` — the synthetic speech's timings joined with its codes. Each clip is
interleaved once, with a seed drawn from the seeded hash of its id (the same hash as every other
sample in the pipeline), so a clip's sample does not depend on which other clips are scored with
it. Clips without word timings, or whose sample has no text-next position, are not scored and are
listed in `skipped` with the reason (the misalignment artifact reports them), as are clips whose
timings are invalid (a word ending before it starts, words out of order).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from salad_core.mimi.codes import codes_array

from salad_core.clustering.sampling import id_hashes
from salad_core.interleave.builder import InterleaveConfig, interleave_utterance
from salad_core.interleave.records import AlignedUtterance, InterleavedSample


@dataclass
class ProbeSamples:
    ids: list[str] = field(default_factory=list)
    samples: list[InterleavedSample] = field(default_factory=list)
    frames: list[torch.Tensor] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # id -> reason


def codes_frames(row: dict, num_codebooks: int | None = None) -> torch.Tensor:
    """(n_frames, n_codebooks) int64 codes of a probe clip, checked against the checkpoint's codebook count."""
    return torch.from_numpy(codes_array(row, num_codebooks, source="probe clip").astype(np.int64))


def probe_samples(
    rows: Sequence[dict],
    tokenizer,
    config: InterleaveConfig = InterleaveConfig(),
    seed: int = 0,
    num_codebooks: int | None = None,
    vocab_size: int | None = None,
) -> ProbeSamples:
    """Interleaved samples of the clips; `num_codebooks` / `vocab_size` (the checkpoint's) are checked."""
    out = ProbeSamples()
    seeds = id_hashes([r["id"] for r in rows], seed)
    for row, row_seed in zip(rows, seeds.tolist()):
        timings = row.get("word_timings")
        if not timings:
            out.skipped[row["id"]] = "no word timings: the clip cannot be interleaved"
            continue
        frames = codes_frames(row, num_codebooks)
        try:
            utterance = AlignedUtterance(
                utterance_id=row["id"],
                words=[t["word"] for t in timings],
                word_starts=[t["start"] for t in timings],
                word_ends=[t["end"] for t in timings],
                n_frames=frames.shape[0],
            )
        except ValueError as error:
            out.skipped[row["id"]] = f"invalid word timings: {' '.join(str(error).split())[:200]}"
            continue
        sample = interleave_utterance(utterance, tokenizer, config, seed=row_seed)
        if not sample.target_ids:
            out.skipped[row["id"]] = "no text-next position in its interleaved sample"
            continue
        if vocab_size is not None and max(sample.teacher_ids) >= vocab_size:
            raise ValueError(
                f"clip {row['id']!r} tokenizes to id {max(sample.teacher_ids)} but the model has {vocab_size} embeddings: "
                "the tokenizer does not belong to this checkpoint"
            )
        out.ids.append(row["id"])
        out.samples.append(sample)
        out.frames.append(frames)
    return out


def probe_batches(
    samples: Sequence[InterleavedSample], frames: Sequence[torch.Tensor], ids: Sequence[str], batch_size: int, pad_id: int = 0
) -> Iterator[tuple[object, list[str]]]:
    """Collated batches of `batch_size` samples, shortest first so padding stays small."""
    from salad_core.model.batch import collate_samples

    order = sorted(range(len(samples)), key=lambda i: (len(samples[i].teacher_ids), ids[i]))
    for start in range(0, len(order), batch_size):
        part = order[start : start + batch_size]
        yield collate_samples([samples[i] for i in part], [frames[i] for i in part], pad_id=pad_id), [ids[i] for i in part]
