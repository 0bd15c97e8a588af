"""What code produced an artifact.

Two different things, kept apart on purpose:
* the stage's *code version*, part of the fingerprint: a hash of the source files that
  implement the stage (plus an explicit version string to force a bump), so editing the stage
  invalidates its outputs while committing unrelated code does not;
* the repository's *git commit*, recorded in the manifest for provenance only.
"""

from __future__ import annotations

import hashlib
import inspect
import subprocess
from functools import lru_cache
from pathlib import Path
from types import ModuleType


def source_hash(*modules: ModuleType | str | Path) -> str:
    """Hash of the source text of modules (or files); order-independent, 12 hex chars."""
    paths = {(Path(inspect.getfile(m)) if isinstance(m, ModuleType) else Path(m)).resolve() for m in modules}
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    return hashlib.sha256("".join(sorted(digests)).encode()).hexdigest()[:12]


def stage_code_version(version: str, *modules: ModuleType | str | Path) -> str:
    return f"{version}+{source_hash(*modules)}" if modules else version


@lru_cache(maxsize=1)
def git_revision() -> dict[str, str | bool | None]:
    """The checkout's commit and whether it had uncommitted changes; None outside git."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(status)}
