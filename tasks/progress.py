"""Progress of long stages: a progress bar in the Prefect UI and, through listeners, on the CLI.

    progress = StageProgress(spec, expected_shards=40)   # in write_sharded_artifact
    progress.advance(3)                                  # shards done so far (committed earlier or now)
    progress.finish()

    add_progress_listener(lambda label, done, total: ...) # the `salad run` progress bar

The Prefect progress artifact is keyed ``salad-<name>-progress``, so the Artifacts page shows the
latest run of each stage; updates are throttled to one API call per second.
"""

from __future__ import annotations

import time
from typing import Callable

from storage import StageSpec
from tasks.publish import in_prefect_run, prefect_key

ProgressListener = Callable[[str, int, "int | None"], None]  # (stage label, shards done, shards expected)
_listeners: list[ProgressListener] = []


def add_progress_listener(listener: ProgressListener) -> None:
    _listeners.append(listener)


def remove_progress_listener(listener: ProgressListener) -> None:
    _listeners.remove(listener)


class StageProgress:
    def __init__(self, spec: StageSpec, expected_shards: int | None, min_interval: float = 1.0):
        self.label = f"{spec.name}@{spec.fingerprint[:8]}"
        self.total = expected_shards
        self.done = 0
        self.min_interval = min_interval
        self._last_update = 0.0
        self.artifact_id = None
        if expected_shards and in_prefect_run():
            from prefect.artifacts import create_progress_artifact

            self.artifact_id = create_progress_artifact(
                0.0, key=prefect_key(f"{spec.name}-progress"), description=f"{self.label}: shards committed"
            )

    def advance(self, done: int) -> None:
        self.done = done
        for listener in list(_listeners):
            listener(self.label, done, self.total)
        if self.artifact_id is not None and time.monotonic() - self._last_update >= self.min_interval:
            self._update()

    def status_line(self, elapsed_s: float) -> str:
        """`embeddings@ab12cd34: 3/12 shards, 0.25 shards/s, ETA 36 s` — the periodic log line."""
        rate = self.done / elapsed_s if elapsed_s > 0 else 0.0
        total = f"/{self.total}" if self.total else ""
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate > 0 and self.total > self.done else ""
        return f"{self.label}: {self.done}{total} shards after {elapsed_s:.0f} s ({rate:.3g} shards/s){eta}"

    def finish(self) -> None:
        self.total = self.done  # the expectation may have been an upper bound (filtered rows)
        for listener in list(_listeners):
            listener(self.label, self.done, self.total)
        if self.artifact_id is not None:
            self._update()

    def _update(self) -> None:
        from prefect.artifacts import update_progress_artifact

        update_progress_artifact(self.artifact_id, min(100.0, 100.0 * self.done / max(self.total or 1, 1)))
        self._last_update = time.monotonic()
