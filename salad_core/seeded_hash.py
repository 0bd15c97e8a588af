"""The one seeded hash of an id: every "pick by a hash of the id" in the project goes through it.

    seeded_hash("doc-17", seed=0, purpose="fit-sample")        # an int in [0, 2**64)
    seeded_hashes(ids, seed=0, purpose="fit-sample")           # np.uint64 array, same values

Why hash ids rather than draw random numbers: a row's fate (in the fit sample, in the probe, its
voice, its place in a sample) depends on its id and the seed alone, so it is the same whatever
order the shards arrive in, on any machine, and a resumed run picks exactly the rows the
interrupted one did. `purpose` keeps unrelated choices independent: the rows sampled for one
thing are not the rows with the smallest hash for another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def seeded_hash(key: str, seed: int, purpose: str) -> int:
    """A uniform 64-bit integer from (purpose, seed, key): the first 8 bytes of blake2b, little-endian."""
    salt = f"salad-{purpose}:{seed}:".encode()
    return int.from_bytes(hashlib.blake2b(salt + str(key).encode(), digest_size=8).digest(), "little")


def seeded_hashes(keys: Sequence[str], seed: int, purpose: str) -> np.ndarray:
    """`seeded_hash` of every key, as a uint64 array."""
    return np.fromiter((seeded_hash(k, seed, purpose) for k in keys), dtype=np.uint64, count=len(keys))
