"""One way to name a model in a manifest: a readable label and a hash of its portable identity.

    model_entry("tts", "espeak:espeak-ng@1.51", backend.model_info())
    # {"tts": "espeak:espeak-ng@1.51", "tts_info_sha256": "3f1c…"}

Why drop machine facts: the same weights loaded from /models/a on one node and /mnt/b on another,
or run on CPU here and CUDA there, make the same rows, so they must make the same fingerprint
(a model's *files* are identified by their hash, never by where they lie).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

MACHINE_KEYS = frozenset({"local_paths", "local_path", "path", "weights_file", "device"})


def portable_info(info: dict[str, Any]) -> dict[str, Any]:
    """`info` without the facts of the machine it was read on."""
    return {k: v for k, v in info.items() if k not in MACHINE_KEYS}


def info_sha256(info: dict[str, Any]) -> str:
    """Hash of the portable identity (sorted-key JSON, the same on every machine)."""
    text = json.dumps(portable_info(info), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def model_entry(role: str, label: str, info: dict[str, Any]) -> dict[str, str]:
    """The manifest's `models` entry for one model: {role: label, role_info_sha256: 16 hex digits}."""
    return {role: label, f"{role}_info_sha256": info_sha256(info)[:16]}
