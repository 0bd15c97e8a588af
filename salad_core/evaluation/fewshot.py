"""Few-shot examples: a seeded choice per item, never the item, as many as fit the context.

Usage:
    from salad_core.evaluation.fewshot import choose_shots, pack_shots, fewshot_prefix
    shots = choose_shots(item, pool, n_shots=5, seed=1234)           # same shots on every machine
    shots = pack_shots(shots, fits=lambda s: n_positions(s) <= 2048)  # drop from the end until it fits
    context = fewshot_prefix(shots) + query_text(item)

The pool is the benchmark's own items (our files hold one split). "Never the item itself" means
neither its id nor an item with the same query text (benchmarks hold duplicates under other ids).
The choice depends only on (seed, item id) and the pool, not on batch order or the other items
scored with it. Shots are joined as lm-evaluation-harness joins them: solved examples separated
by a blank line, then a blank line before the item.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from salad_core.evaluation.items import McItem
from salad_core.evaluation.prompts import FEWSHOT_DELIMITER, query_text, shot_text


def choose_shots(item: McItem, pool: Sequence[McItem], n_shots: int, seed: int) -> list[McItem]:
    """Up to `n_shots` examples from `pool`, never the item itself nor one with the same query; deterministic per (seed, item id) for a given pool order."""
    if n_shots <= 0:
        return []
    own_query = query_text(item)
    candidates = [p for p in pool if p.id != item.id and query_text(p) != own_query]
    rng = random.Random(f"salad-fewshot:{seed}:{item.id}")
    return rng.sample(candidates, min(n_shots, len(candidates)))


def pack_shots(shots: list[McItem], fits: Callable[[list[McItem]], bool]) -> list[McItem]:
    """The longest prefix of `shots` for which `fits` holds (possibly none)."""
    for k in range(len(shots), 0, -1):
        if fits(shots[:k]):
            return shots[:k]
    return []


def fewshot_prefix(shots: Sequence[McItem]) -> str:
    """The shots' full texts, each followed by FEWSHOT_DELIMITER, to put before the query; empty for zero shots."""
    return "".join(shot_text(s) + FEWSHOT_DELIMITER for s in shots)
