"""Which documents are held out: a stable hash of the document id, never a random draw.

Usage:
    from salad_core.teacher.split import is_held_out
    held = is_held_out("<urn:uuid:...>", fraction=0.05)

Why a hash: the split must not move when the corpus is re-read in another order, re-sharded,
filtered or extended, so a document held out today is held out in every later run (and the
tokenizer, trained on the training split only, never sees held-out text). The project's seeded
hash (salad_core.seeded_hash) is the same on every machine and Python version, unlike ``hash()``.
"""

from salad_core.seeded_hash import seeded_hash

_SCALE = float(2**64)


def is_held_out(doc_id: str, fraction: float) -> bool:
    """True for about ``fraction`` of all ids, always the same ones."""
    return seeded_hash(doc_id, 0, "held-out") / _SCALE < fraction
