"""The seeded mixture of sources: which source each micro-batch comes from, and where each stands.

Usage:
    from salad_core.training.mixture import Mixture
    mixture = Mixture({"natural": (speech, 2.0), "text": (text, 1.0)}, budget=2048, max_rows=8, seed=0)
    source_name, items = mixture.next_micro_batch()
    state = mixture.state()          # JSON: RNG state, per-source position, micro-batches drawn
    mixture.restore(state)           # the same stream continues from there

Every data-parallel process builds the same global stream and keeps the micro-batches whose
index is its rank modulo the world size, so the data order (and the saved position) does not
depend on which process saved the checkpoint.
"""

from __future__ import annotations

import random

from salad_core.training.rows import TrainingDataError
from salad_core.training.sources import Item, _RowSource, pack, restore_all


class Mixture:
    def __init__(self, sources: dict[str, tuple[_RowSource, float]], budget: int, max_rows: int, seed: int):
        if not sources:
            raise TrainingDataError("the data mixture has no sources")
        self.sources = {name: src for name, (src, _) in sources.items()}
        self.names = list(sources)
        self.weights = [float(w) for _, (_, w) in sources.items()]
        self.budget, self.max_rows = budget, max_rows
        self.seed = seed
        self.rng = random.Random(seed)
        self.drawn = 0
        self.counts = {name: 0 for name in self.names}

    def next_micro_batch(self) -> tuple[str, list[Item]]:
        """The next micro-batch: a source drawn by weight with the seeded RNG, packed to the position budget; advances the draw
        count that `state()` records."""
        name = self.rng.choices(self.names, weights=self.weights)[0]
        items = pack(self.sources[name], self.budget, self.max_rows)
        self.drawn += 1
        self.counts[name] += 1
        return name, items

    def state(self) -> dict:
        """The RNG state is (seed, draws): one draw per micro-batch, replayed on restore (compact JSON)."""
        return {
            "rng_seed": self.seed,
            "micro_batches": self.drawn,
            "counts": dict(self.counts),
            "sources": {name: src.position for name, src in self.sources.items()},
        }

    def restore(self, state: dict) -> None:
        """Return to a `state()` by replaying the recorded draws from the seed and restoring each source's position;
        TrainingDataError when the seed differs or a source is missing."""
        if int(state["rng_seed"]) != self.seed:
            raise TrainingDataError(f"data position was saved with mixture seed {state['rng_seed']}, this run uses {self.seed}")
        self.rng = random.Random(self.seed)
        self.drawn = int(state["micro_batches"])
        for _ in range(self.drawn):
            self.rng.choices(self.names, weights=self.weights)
        self.counts = {name: int(state["counts"].get(name, 0)) for name in self.names}
        restore_all(list(self.sources.values()), state["sources"])
