"""Scratch space for stages, under one known folder that `salad artifacts gc` cleans.

A stage killed mid-way (Mimi writing fitted weights, the trainer's job files) used to leave
`/tmp/salad-mimi-*` folders of 65–129 MB that nothing removed. Scratch folders now live under
`$SALAD_SCRATCH` (default `<tmp>/salad-scratch`) and carry their process id, so a cleaner can tell
a dead process's leftovers from a live one's.

    with scratch_folder("mimi") as tmp: ...       # removed on exit, as tempfile does
    clean_scratch()                               # folders of processes that no longer run
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def scratch_root() -> Path:
    """The folder that holds every scratch folder: `$SALAD_SCRATCH`, else `<tmp>/salad-scratch`; created if missing."""
    root = Path(os.environ.get("SALAD_SCRATCH") or Path(tempfile.gettempdir()) / "salad-scratch")
    root.mkdir(parents=True, exist_ok=True)
    return root


def scratch_folder(purpose: str) -> tempfile.TemporaryDirectory:
    """A temporary folder under `scratch_root()`, named after this process and `purpose` so that
    `clean_scratch` can remove it once the process is gone; removed on exit as `tempfile`'s are."""
    return tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-{purpose}-", dir=scratch_root())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_scratch(root: Path | None = None) -> list[Path]:
    """Remove scratch folders whose process is gone; returns what was removed."""
    root = root or scratch_root()
    removed = []
    for folder in root.iterdir():
        pid = folder.name.split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
