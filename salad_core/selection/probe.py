"""The probe set: a seeded, order-free sample of n speakable texts per cluster.

Usage:
    picker = ProbePicker(ProbeConfig(n_per_cluster=32, seed=0))
    for ids, clusters, positions in assignment_batches:       # any order, any batch size
        picker.add(ids, clusters, positions)
    for cluster, candidates in picker.candidates().items():   # smallest id hash first
        ...  # read the texts, then: picker.choose(cluster, [(id, text, position), ...])

Each cluster's documents are ranked by the same seeded hash of id as the k-means fit sample
(salad_core.clustering.sampling.id_hashes), so the probe does not depend on shard order and a
rerun picks the same documents. Only the `reserve` smallest hashes per cluster are held (bounded
memory); documents whose speakable cut is too short are passed over for the next ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from salad_core.clustering.sampling import id_hashes
from salad_core.selection.config import ProbeConfig
from salad_core.selection.speakable import speakable_cut

RESERVE_FACTOR = 4  # candidates held per wanted probe text, for documents too short to speak


@dataclass
class ProbeOutcome:
    """Per cluster: the chosen rows and what happened to the candidates passed over."""

    rows: list[dict] = field(default_factory=list)
    too_short: int = 0
    documents: int = 0


class ProbePicker:
    def __init__(self, config: ProbeConfig):
        self.config = config
        self.reserve = RESERVE_FACTOR * config.n_per_cluster
        self._held: dict[int, list[tuple[int, str, object]]] = {}
        self.documents: dict[int, int] = {}

    def add(self, ids: Sequence[str], clusters: Sequence[int] | np.ndarray, positions: Sequence[object]) -> None:
        """One batch of assignments; `positions` locate each row's text (e.g. (shard, row))."""
        clusters = np.asarray(clusters, dtype=np.int64)
        if not len(ids) == len(clusters) == len(positions):
            raise ValueError("ids, clusters and positions must have the same length")
        hashes = id_hashes(list(ids), self.config.seed)
        for h, i, c, p in zip(hashes.tolist(), ids, clusters.tolist(), positions):
            self.documents[c] = self.documents.get(c, 0) + 1
            held = self._held.setdefault(c, [])
            held.append((h, str(i), p))
            if len(held) > 2 * self.reserve:
                held.sort(key=lambda t: (t[0], t[1]))
                del held[self.reserve :]

    def candidates(self) -> dict[int, list[tuple[str, object]]]:
        """(id, position) per cluster, smallest hash first (ties by id)."""
        out = {}
        for c in sorted(self._held):
            held = sorted(self._held[c], key=lambda t: (t[0], t[1]))[: self.reserve]
            out[c] = [(i, p) for _, i, p in held]
        return out

    def choose(self, cluster: int, candidates: Sequence[tuple[str, str | None]]) -> ProbeOutcome:
        """The first n candidates (in hash order) whose speakable cut has at least min_words words."""
        outcome = ProbeOutcome(documents=self.documents.get(cluster, 0))
        for source_id, text in candidates:
            if len(outcome.rows) == self.config.n_per_cluster:
                break
            cut, words = speakable_cut(text, self.config.max_words)
            if words < self.config.min_words:
                outcome.too_short += 1
                continue
            outcome.rows.append({"id": probe_id(source_id), "text": cut, "cluster": cluster, "source_id": source_id, "words": words})
        return outcome


def probe_id(source_id: str) -> str:
    """A probe row's id: distinct from its document's, so a probe clip never shadows a selected one."""
    return f"probe:{source_id}"
