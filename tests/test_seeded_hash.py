"""The one seeded id hash: pinned values, independence of purposes and seeds, uniformity."""

import numpy as np

from salad_core.clustering.sampling import id_hashes
from salad_core.seeded_hash import seeded_hash, seeded_hashes


def test_pinned_values_same_on_every_machine():
    # the fit sample's hash predates this module: its values are kept (clustered stores stay valid)
    assert seeded_hash("doc-1", 0, "fit-sample") == 5738028498110017822
    assert seeded_hash("doc-1", 1, "fit-sample") == 2708845190492816621
    assert seeded_hash("doc-1", 0, "voice") == 11680001486108366105
    assert id_hashes(["doc-1"], 0).tolist() == [5738028498110017822]


def test_purposes_and_seeds_are_independent_and_uniform():
    ids = [f"row-{i}" for i in range(20_000)]
    a, b, c = seeded_hashes(ids, 0, "voice"), seeded_hashes(ids, 0, "row-sample"), seeded_hashes(ids, 1, "voice")
    assert a.dtype == np.uint64 and a.tolist()[:3] == [seeded_hash(i, 0, "voice") for i in ids[:3]]
    smallest = lambda h: set(np.argsort(h)[:1000].tolist())  # noqa: E731 - the rows a bottom-k sample would take
    assert len(smallest(a) & smallest(b)) < 150 and len(smallest(a) & smallest(c)) < 150  # ~50 expected by chance
    deciles = np.histogram(a.astype(np.float64) / 2.0**64, bins=10, range=(0, 1))[0]
    assert deciles.min() > 1800 and deciles.max() < 2200
