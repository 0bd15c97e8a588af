"""A pretrained checkpoint on local disk: where it is and which exact files it holds.

Usage:
    from salad_core.teacher.checkpoint import resolve_checkpoint, checkpoint_hashes
    folder = resolve_checkpoint("Qwen/Qwen2.5-3B")      # an HF cache snapshot, or a plain folder
    hashes = checkpoint_hashes(folder)                  # {"config.json": "<sha256>", ...}

Nothing is ever downloaded: a repo id must already be in the HF cache (HF_HUB_OFFLINE=1). The
hashes identify the checkpoint in artifact fingerprints without copying gigabytes of weights
into the store. In an HF cache every large file is a symlink to ``blobs/<sha256 of its bytes>``,
so its hash is read from the link name for free; other files are hashed in full.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

# The files that decide what the model computes; README, licence and the like do not.
CHECKPOINT_PATTERNS = (
    "config.json",
    "generation_config.json",
    "*.safetensors",
    "*.safetensors.index.json",
    "*.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json")
_SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_NAME = re.compile(r"^[0-9a-f]{40}$")


def resolve_checkpoint(path: str) -> Path:
    """A local folder as is; otherwise the cached snapshot of the HF repo id ``path``."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return folder.resolve()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(path, local_files_only=True))
    except Exception as err:
        raise FileNotFoundError(
            f"teacher checkpoint {path!r} is neither a local folder nor in the Hugging Face cache (downloads are disabled: copy the model there first)"
        ) from err


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes; an HF cache blob link gives it without reading the file."""
    if path.is_symlink():
        target = Path(path.resolve()).name
        if _SHA256_NAME.match(target):
            return target
    stat = path.stat()
    return _hash_contents(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _hash_contents(path: str, size: int, mtime_ns: int) -> str:
    """Hashing GBs of weights takes seconds: done once per process per unchanged file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_hashes(folder: Path) -> dict[str, str]:
    """{file name: sha256} for the files that define the checkpoint, sorted by name."""
    files = sorted({p for pattern in CHECKPOINT_PATTERNS for p in folder.glob(pattern) if p.is_file()})
    if not any(p.name == "config.json" for p in files):
        raise FileNotFoundError(f"{folder} has no config.json: not a model checkpoint folder")
    return {p.name: file_sha256(p) for p in files}


def snapshot_revision(folder: Path) -> str | None:
    """The commit an HF cache snapshot folder is named after, else None (a plain folder)."""
    return folder.name if _COMMIT_NAME.match(folder.name) else None
