"""Length-bucketed padded batches for Mimi: every clip once, bounded batches, whole frames.

Run: .venv/bin/python -m pytest tests/test_mimi_batching.py -q
"""

import numpy as np
import pytest

from salad_core.mimi.batching import pad_batch, padded_length, plan_batches
from salad_core.mimi.config import SAMPLES_PER_FRAME, frames_for_samples


@pytest.mark.parametrize("n, frames", [(0, 0), (1, 1), (1920, 1), (1921, 2), (24_000, 13), (240_000, 125)])
def test_frames_for_samples_rounds_partial_frames_up(n, frames):
    assert frames_for_samples(n) == frames


def test_plan_covers_every_clip_once_and_respects_limits():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 24_000 * 20, size=200).tolist()
    max_items, max_samples = 8, 24_000 * 60
    batches = plan_batches(lengths, max_items, max_samples)
    assert sorted(i for b in batches for i in b) == list(range(200))
    for batch in batches:
        assert len(batch) <= max_items
        assert len(batch) == 1 or len(batch) * padded_length(max(lengths[i] for i in batch)) <= max_samples


def test_plan_groups_similar_lengths_to_save_padding():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1_000, 24_000 * 20, size=64).tolist()
    batches = plan_batches(lengths, max_items=8, max_padded_samples=10**9)
    padded = sum(len(b) * padded_length(max(lengths[i] for i in b)) for b in batches)
    in_given_order = [list(range(i, i + 8)) for i in range(0, 64, 8)]
    padded_unsorted = sum(len(b) * padded_length(max(lengths[i] for i in b)) for b in in_given_order)
    assert padded < 0.8 * padded_unsorted
    assert padded < 1.2 * sum(padded_length(n) for n in lengths)


def test_clip_longer_than_the_budget_gets_its_own_batch():
    batches = plan_batches([100, 10_000_000, 200], max_items=16, max_padded_samples=24_000)
    assert [1] in batches and sorted(i for b in batches for i in b) == [0, 1, 2]


def test_pad_batch_zero_pads_to_whole_frames():
    a, b = np.ones(3000, np.float32), np.full(100, 2.0, np.float32)
    batch = pad_batch([a, b])
    assert batch.shape == (2, 2 * SAMPLES_PER_FRAME) and batch.dtype == np.float32
    assert (batch[0, :3000] == 1).all() and (batch[0, 3000:] == 0).all()
    assert (batch[1, :100] == 2).all() and (batch[1, 100:] == 0).all()


def test_batching_defaults_chunk_on_cpu_and_batch_whole_clips_elsewhere():
    import pytest
    from pydantic import ValidationError

    from salad_core.mimi import MimiConfig

    assert (MimiConfig().batch_items, MimiConfig().chunk) == (2, 32)
    assert (MimiConfig(device="cuda").batch_items, MimiConfig(device="cuda").chunk) == (32, None)
    assert MimiConfig(device="cpu", max_batch_items=8, chunk_frames=4).chunk == 4
    assert MimiConfig(dtype="bfloat16").chunk is None  # moshi's streaming cache does not take bf16 under autocast
    with pytest.raises(ValidationError, match="chunk_frames needs dtype float32"):
        MimiConfig(dtype="bfloat16", chunk_frames=32)
