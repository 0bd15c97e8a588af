"""Progress of long stages: a progress bar in the Prefect UI and, through listeners, on the CLI.

    progress = StageProgress(spec, expected_shards=40)   # in write_sharded_artifact
    progress.advance(3, rows=1200)                       # shards (and rows) done so far, committed earlier or now
    progress.finish()

    add_progress_listener(lambda label, done, total: ...) # the `salad run` progress bar

    train = TrainProgress(spec, steps=60, stage=1)       # the training driver, per logged step of the workers
    train.record(parse_train_line("step 12/60 tokens 49152 loss 3.1000 kl 3.0 nll 3.2 910 tok/s lr 1.00e-03/5.00e-05"))

The Prefect progress artifact is keyed ``salad-<name>-progress`` (the Artifacts page shows the
latest run of each stage); its description is the status line (shards and rows done, rate, ETA),
so a stage whose shard count is unknown up front (synthesis of a streamed selection) still shows
what it has done. Updates are throttled to one API call per second. Training adds a table of its
logged steps (loss, tokens/s), ``salad-train-stage<N>-live``, republished at most every
``TABLE_EVERY_S`` while it runs, and one log line at least every 30 s (``tasks.sharded_stage``'s
heartbeat).
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from storage import StageSpec
from tasks.publish import in_prefect_run, prefect_key

ProgressListener = Callable[[str, int, "int | None"], None]  # (stage label, shards done, shards expected)
_listeners: list[ProgressListener] = []
TABLE_EVERY_S = 30.0
UPDATE_EVERY_S = 1.0  # at most one progress API call per stage per second
# The training workers' log lines (tasks/train_worker.StoreHooks.log), read by the driver from the
# launcher's output: parsing them leaves the worker's code, and so its checkpoints' version, alone.
_NUMBER = r"([-+0-9.eE]+|nan|inf)"
TRAIN_LINE = re.compile(rf"\bstep (\d+)/\d+ tokens (\d+) loss {_NUMBER} kl {_NUMBER} nll {_NUMBER} {_NUMBER} tok/s")
EVAL_LINE = re.compile(rf"\beval step (\d+): M {_NUMBER} F {_NUMBER}")


def parse_train_line(line: str) -> dict[str, Any] | None:
    """The figures of one logged training or evaluation step, or None for any other line."""
    if m := TRAIN_LINE.search(line):
        step, tokens, loss, kl, nll, rate = m.groups()
        return {"kind": "train", "step": int(step), "tokens": int(tokens), "loss": float(loss), "kl": float(kl), "nll": float(nll), "tokens_per_s": float(rate)}
    if m := EVAL_LINE.search(line):
        return {"kind": "eval", "step": int(m.group(1)), "M": float(m.group(2)), "F": float(m.group(3))}
    return None


def add_progress_listener(listener: ProgressListener) -> None:
    """Have `listener(label, done, expected)` called on every stage's progress in this process (the CLI's bar)."""
    _listeners.append(listener)


def remove_progress_listener(listener: ProgressListener) -> None:
    """Stop calling `listener`, which must have been added."""
    _listeners.remove(listener)


class StageProgress:
    def __init__(self, spec: StageSpec, expected_shards: int | None, min_interval: float | None = None, unit: str = "shards"):
        self.label = f"{spec.name}@{spec.fingerprint[:8]}"
        self.total = expected_shards
        self.done = 0
        self.rows: int | None = None
        self.unit = unit
        self.min_interval = UPDATE_EVERY_S if min_interval is None else min_interval
        self.started = time.perf_counter()
        self._last_update = 0.0
        self.artifact_id = None
        if in_prefect_run():
            from prefect.artifacts import create_progress_artifact

            self.artifact_id = create_progress_artifact(0.0, key=prefect_key(f"{spec.name}-progress"), description=f"{self.label}: started")

    def advance(self, done: int, rows: int | None = None) -> None:
        """`done` shards (and `rows` rows) so far, committed earlier or now: the listeners hear of it at once,
        the Prefect UI at most every `min_interval` seconds."""
        self.done = done
        if rows is not None:
            self.rows = rows
        for listener in list(_listeners):
            listener(self.label, done, self.total)
        if self.artifact_id is not None and time.monotonic() - self._last_update >= self.min_interval:
            self._update()

    def status_line(self, elapsed_s: float | None = None) -> str:
        """`embeddings@ab12cd34: 3/12 shards after 12 s (0.25 shards/s), 1,200 rows (100 rows/s), ETA 36 s` — the periodic log line."""
        elapsed_s = time.perf_counter() - self.started if elapsed_s is None else elapsed_s
        rate = self.done / elapsed_s if elapsed_s > 0 else 0.0
        total = f"/{self.total}" if self.total else ""
        rows = f", {self.rows:,} rows ({self.rows / elapsed_s:,.3g} rows/s)" if self.rows is not None and elapsed_s > 0 else ""
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate > 0 and self.total > self.done else ""
        return f"{self.label}: {self.done}{total} {self.unit} after {elapsed_s:.0f} s ({rate:.3g} {self.unit}/s){rows}{eta}"

    def flush(self) -> None:
        """Publish now, whatever the throttle (a stage about to pause shows what it has done)."""
        if self.artifact_id is not None:
            self._update()

    def finish(self) -> None:
        """Done: the total becomes what was done (the expectation may have been an upper bound), and the
        listeners and the Prefect UI are told at once."""
        self.total = self.done  # the expectation may have been an upper bound (filtered rows)
        for listener in list(_listeners):
            listener(self.label, self.done, self.total)
        if self.artifact_id is not None:
            self._update()

    def _update(self) -> None:
        from prefect.artifacts import update_progress_artifact

        percent = 100.0 * self.done / self.total if self.total else 0.0
        update_progress_artifact(self.artifact_id, min(100.0, percent), description=self.status_line())
        self._last_update = time.monotonic()


class TrainProgress(StageProgress):
    """Training steps as progress, plus the latest loss and tokens/s in the status line and a live table."""

    COLUMNS = ("step", "tokens", "loss", "kl", "nll", "tokens_per_s", "M", "F")

    def __init__(self, spec: StageSpec, steps: int, stage: int, min_interval: float | None = None):
        super().__init__(spec, steps, min_interval, unit="steps")
        self.table_key = prefect_key(f"train-stage{stage}-live")
        self.records: list[dict[str, Any]] = []
        self.latest: dict[str, Any] = {}
        self._last_table = 0.0

    def record(self, record: dict[str, Any]) -> None:
        """One logged record of the worker (kind train or eval, step, and its figures)."""
        self.records.append({"kind": record.get("kind"), **{k: record[k] for k in self.COLUMNS if k in record}})
        if record.get("kind") == "train":
            self.latest = record
        self.advance(int(record["step"]))
        if time.monotonic() - self._last_table >= TABLE_EVERY_S:
            self.publish_table()

    def status_line(self, elapsed_s: float | None = None) -> str:
        """The stage's status line plus the latest training loss, tokens/s and tokens seen."""
        line = super().status_line(elapsed_s)
        if "loss" in self.latest:
            line += f"; loss {self.latest['loss']:.4f}, {self.latest.get('tokens_per_s', 0):,.0f} tokens/s, {self.latest.get('tokens', 0):,} tokens"
        return line

    def publish_table(self) -> None:
        """The logged steps as the live Prefect table; a no-op outside a Prefect run or before the first record."""
        self._last_table = time.monotonic()
        if not self.records or not in_prefect_run():
            return
        from prefect.artifacts import create_table_artifact

        rows = [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()} for r in self.records]
        create_table_artifact(rows, key=self.table_key, description=self.status_line())

    def finish(self) -> None:
        """Finish the progress, then publish the final table of logged steps."""
        super().finish()
        self.publish_table()
