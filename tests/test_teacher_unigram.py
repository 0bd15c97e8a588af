"""Unigram baseline golden values and the id-hash held-out split."""

from __future__ import annotations

import math

import pytest
import torch

from salad_core.teacher.split import is_held_out
from salad_core.teacher.unigram import unigram_log_probs, unigram_perplexity


def test_unigram_perplexity_golden():
    # counts [2, 1, 0] over V=3 -> add-one probabilities [3/6, 2/6, 1/6]
    train = torch.tensor([0, 0, 1])
    assert torch.allclose(unigram_log_probs(train, 3).exp(), torch.tensor([0.5, 1 / 3, 1 / 6], dtype=torch.float64))
    # targets 0 and 2: exp(-(ln 1/2 + ln 1/6) / 2) = sqrt(12)
    assert unigram_perplexity(train, torch.tensor([0, 2]), vocab_size=3) == pytest.approx(math.sqrt(12), rel=1e-12)
    # a uniform training split gives perplexity V on anything
    assert unigram_perplexity(torch.arange(10), torch.tensor([[3, 7], [1, 1]]), vocab_size=10) == pytest.approx(10.0)


def test_unigram_rejects_ids_beyond_vocab():
    with pytest.raises(ValueError, match="beyond vocab_size"):
        unigram_log_probs(torch.tensor([0, 5]), vocab_size=4)


def test_held_out_split_is_a_stable_hash():
    ids = [f"<urn:uuid:{i:08d}>" for i in range(4000)]
    held = [i for i in ids if is_held_out(i, 0.05)]
    assert 150 < len(held) < 250
    # golden: the same ids on every machine and Python, whatever the order they are read in
    assert [i for i in reversed(ids) if is_held_out(i, 0.05)] == held[::-1]
    assert held[:5] == [f"<urn:uuid:{i:08d}>" for i in (53, 84, 105, 124, 132)] and len(held) == 182  # salad_core.seeded_hash, purpose "held-out"
    # a larger fraction holds out a superset
    assert set(held) <= {i for i in ids if is_held_out(i, 0.2)}
