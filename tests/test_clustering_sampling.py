"""The fit sample chosen by a seeded hash of the document id: stable, order-free, near its fraction.

Run: .venv/bin/python -m pytest tests/test_clustering_sampling.py -q
"""

import numpy as np
import pytest

from salad_core.clustering import FitSampleCollector, id_hashes, in_fit_sample, sample_for_fit

IDS = [f"<urn:uuid:{i:06d}>" for i in range(20_000)]


def vectors_for(ids):
    """A vector that encodes its id, so a sample can be checked row by row."""
    numbers = np.array([int(i[10:16]) for i in ids], dtype=np.float32)
    return np.stack([numbers, -numbers], axis=1)


def batches(ids, size):
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield chunk, vectors_for(chunk)


def test_hash_is_pinned_across_machines_and_versions():
    # blake2b of "salad-fit-sample:<seed>:<id>"; changing these changes every stored fit sample
    assert id_hashes(["<urn:uuid:0>", "doc-1"], 0).tolist() == [4969757134923833513, 5738028498110017822]
    assert id_hashes(["doc-1"], 1).tolist() == [2708845190492816621]


@pytest.mark.parametrize("fraction", [0.01, 0.1, 0.5])
def test_sample_size_is_near_the_requested_fraction(fraction):
    chosen = in_fit_sample(IDS, fraction, seed=0).sum()
    expected = fraction * len(IDS)
    assert abs(chosen - expected) < 4 * np.sqrt(expected * (1 - fraction)) + 1


def test_membership_is_a_property_of_the_id_alone():
    mask = in_fit_sample(IDS, 0.2, seed=3)
    reversed_mask = in_fit_sample(IDS[::-1], 0.2, seed=3)[::-1]
    assert np.array_equal(mask, reversed_mask)
    assert not np.array_equal(mask, in_fit_sample(IDS, 0.2, seed=4))
    assert in_fit_sample(IDS, 1.0, seed=0).all()


def test_streamed_sample_does_not_depend_on_shard_order_or_batch_size():
    ids_a, vectors_a = sample_for_fit(batches(IDS, 1000), fraction=0.3, max_vectors=500, seed=0)
    shuffled = list(np.random.default_rng(0).permutation(IDS))
    ids_b, vectors_b = sample_for_fit(batches(shuffled, 333), fraction=0.3, max_vectors=500, seed=0)
    assert ids_a == ids_b and np.array_equal(vectors_a, vectors_b)
    assert len(ids_a) == 500 and np.array_equal(vectors_a, vectors_for(ids_a))


def test_cap_keeps_the_smallest_hashes_among_the_eligible():
    ids, _ = sample_for_fit(batches(IDS, 700), fraction=0.5, max_vectors=100, seed=0)
    hashes = id_hashes(IDS, 0)
    eligible = np.flatnonzero(in_fit_sample(IDS, 0.5, seed=0))
    expected = [IDS[i] for i in eligible[np.argsort(hashes[eligible])][:100]]
    assert ids == expected


def test_collector_holds_at_most_twice_the_cap():
    collector = FitSampleCollector(fraction=1.0, max_vectors=50, seed=0)
    for chunk, vectors in batches(IDS[:2000], 40):
        collector.add(chunk, vectors)
        assert collector._held <= 2 * 50 + 40
    assert len(collector.result()[0]) == 50


def test_no_cap_keeps_every_eligible_row():
    ids, vectors = sample_for_fit(batches(IDS[:1000], 128), fraction=1.0, max_vectors=None)
    assert sorted(ids) == IDS[:1000] and vectors.shape == (1000, 2)
