"""Content addresses for artifact versions.

A version's fingerprint hashes exactly what determines its content: the artifact name, its
parents' fingerprints, the stage parameters, the stage's code version and the models it used.
Same inputs, same code, same parameters ⇒ same fingerprint ⇒ the stored version is reused.
What does not change content (wall time, run ids, the git commit of unrelated code) stays out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

FINGERPRINT_LENGTH = 16  # hex characters: 64 bits, ample for one store's versions


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal values hash equally."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        raise ValueError("NaN cannot be part of a fingerprint")
    return value


def fingerprint(
    name: str,
    params: dict[str, Any],
    parent_fingerprints: list[str],
    code_version: str,
    models: dict[str, str] | None = None,
) -> str:
    """A version's content address: a hash of everything that determines its content.

    ``params`` must be JSON-able (pydantic models are dumped, NaN is refused); the order of
    ``parent_fingerprints`` does not matter. Equal inputs give an equal fingerprint, which is what
    lets a stage reuse a stored version instead of rebuilding it.
    """
    payload = {
        "name": name,
        "params": params,
        # parents are an unordered set of inputs; sorting makes the order they are listed in irrelevant
        "parents": sorted(parent_fingerprints),
        "code_version": code_version,
        "models": models or {},
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:FINGERPRINT_LENGTH]
