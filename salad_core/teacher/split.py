"""Which documents are held out: a stable hash of the document id, never a random draw.

Usage:
    from salad_core.teacher.split import is_held_out
    held = is_held_out("<urn:uuid:...>", fraction=0.05)

Why a hash: the split must not move when the corpus is re-read in another order, re-sharded,
filtered or extended, so a document held out today is held out in every later run (and the
tokenizer, trained on the training split only, never sees held-out text). SHA-256 is the same
on every machine and Python version, unlike ``hash()``.
"""

import hashlib

_SCALE = float(2**64)


def is_held_out(doc_id: str, fraction: float) -> bool:
    """True for about ``fraction`` of all ids, always the same ones."""
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE < fraction
