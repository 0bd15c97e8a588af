"""The code version of every stage as the code is now: what the catalog compares artifacts with.

    current_code_versions()     # {"tokenize-2": "tokenize-2+9bf2ceff2fbf", "speech-2": "speech-2+…", …}

Each stage module declares its version as a module constant ``*_CODE_VERSION`` (a label plus a
hash of the code it runs, tasks/sharded_stage.py ``stage_version``); an artifact built with
another version of the same label was built by other code, so it is stale.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from storage.catalog import code_label

SKIP = {"train_worker"}  # imports DeepSpeed; its version is tasks.checkpoint_store.TRAIN_CODE_VERSION


@functools.cache  # the code of a running process does not change; importing every stage once is ~8 s
def current_code_versions() -> dict[str, str]:
    """Label → current code version of every stage module in `tasks` (do not mutate the result)."""
    import tasks

    versions: dict[str, str] = {}
    for found in pkgutil.iter_modules(tasks.__path__):
        if found.name in SKIP:
            continue
        module = importlib.import_module(f"tasks.{found.name}")
        for name, value in vars(module).items():
            if name.endswith("CODE_VERSION") and isinstance(value, str):
                versions.setdefault(code_label(value), value)
    return versions
