"""One way to run every stage that writes an artifact: reuse, resume, commit — written once.

A stage is a short class (datatrove's pipeline step is the model): it says what it writes
(`spec`, and `quarantine_schema` when bad rows are kept aside) and fills one hole,
`process_shard(i) -> (rows, quarantined rows)` with `num_shards()`, or, for a streaming input
whose shard boundaries appear as it is read, `produce(committed)`. `ShardedStage.run()` owns the rest:

1. Reuse: if the output and its quarantine are committed, publish them as reused and stop — no
   model is loaded, no input is read.
2. Resume: shards committed by an earlier (crashed) run, or by a concurrent run of the same
   version, are skipped: their *work*, not only their write.
3. Per shard, the quarantine rows are committed before the output rows; at the end the
   quarantine version is committed before the output version, so a committed output always has
   its quarantine, and a reader of one never waits for the other.
4. Progress to the Prefect UI and the CLI bar, a log line at least every 30 s, and on failure a
   note naming stage, fingerprint and shard added to the original exception.

    class Embed(ShardedStage):
        def num_shards(self): return len(self.source.manifest.shards)
        def process_shard(self, i): return embed(self.source.read_shard(i)), None
    result = Embed(store, spec).run()     # result.ref, result.quarantine, result.reused
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

from storage import ArtifactRef, ArtifactStore, ArtifactWriter, DamagedArtifact, IncompleteArtifact, StageSpec, StoreUnavailable
from storage.code_version import module_code_version
from tasks.alerts import check_quarantine_rate
from tasks.progress import StageProgress
from tasks.publish import publish_artifact
from tasks.run_context import prefect_run_context
from tasks.shard_reuse import SHARD_KEYS, ShardIndex, shard_key

# Modules that move data but never change it: editing them re-versions nothing (the store's own
# integrity checks and the shard loop are tested on their own).
PLUMBING = (
    "storage",
    "tasks.publish",
    "tasks.progress",
    "tasks.sharded_stage",
    "tasks.run_context",
    "tasks.ray_pool",
    "tasks.shard_reuse",
    "tasks.alerts",
    "tasks.ray_stage",
    "salad_core.ray_config",
)
# Kill tests hold a stage at a known point instead of racing it: with SALAD_HOLD_FILE set, a stage
# that has just committed shard N of artifact X, where the file holds {"artifact": X, "shard": N,
# "signal": path}, writes `path` and waits to be killed. No file (the default): no hold.
HOLD_ENV = "SALAD_HOLD_FILE"
LOG_EVERY_S = 30.0
CLAIM_POLL_S = 1.0  # how often a run waits on a shard another live run is computing


def stage_version(version: str, module: str, exclude: tuple[str, ...] = ()) -> str:
    """A stage's code version: `version` + a hash of every project module `module` imports,
    transitively, less the plumbing and the presentation-only modules in `exclude`. Bump
    `version` to force new versions without a code change."""
    return module_code_version(version, module, exclude=(*PLUMBING, *exclude))


def stage_logger() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger inside a run (the lines reach the UI), the `salad` logger outside one."""
    try:
        from prefect import get_run_logger

        return get_run_logger()
    except Exception:  # outside a Prefect run (plain Python, tests of core code)
        return logging.getLogger("salad")


def quarantine_name(name: str) -> str:
    """The quarantine artifact's name beside artifact `name`: one convention for every stage."""
    return f"{name}_quarantine"


@dataclass
class ShardResult:
    """What a stage produced for one shard; `rows is None` means: committed earlier, work skipped."""

    shard: int
    rows: pa.Table | None
    quarantined: pa.Table | None = None
    copied_from: str | None = None  # name@fingerprint:shard of an earlier version with the same shard key


@dataclass
class StageResult:
    ref: ArtifactRef
    quarantine: ArtifactRef | None
    reused: bool
    shards_written: list[int] = field(default_factory=list)
    shards_resumed: list[int] = field(default_factory=list)
    shards_copied: list[int] = field(default_factory=list)


class ShardedStage:
    """Base of every stage that writes an artifact (and optionally its quarantine), shard by shard."""

    schema: pa.Schema | None = None  # output schema, needed when a shard may be empty
    quarantine_schema: pa.Schema | None = None  # set to keep a `<name>_quarantine` artifact

    def __init__(self, store: ArtifactStore, spec: StageSpec, expected_shards: int | None = None):
        self.store, self.spec, self.expected_shards = store, spec, expected_shards
        self.log = stage_logger()
        self.writer: ArtifactWriter | None = None
        self.quarantine_writer: ArtifactWriter | None = None
        self.shard_keys: dict[int, str] = {}
        self._copy_index: ShardIndex | None = None

    # -- what a stage fills in ------------------------------------------------------------------
    def num_shards(self) -> int:
        """How many output shards the version has (known before any is computed)."""
        raise NotImplementedError(f"{type(self).__name__} must implement num_shards() or produce()")

    def process_shard(self, shard: int) -> tuple[pa.Table, pa.Table | None]:
        """(rows, quarantined rows or None) of shard `shard`, computed from its input alone; the base writes them."""
        raise NotImplementedError(f"{type(self).__name__} must implement process_shard() or produce()")

    def shard_input_digest(self, shard: int) -> str | None:
        """Optional: a digest of everything shard `shard` reads (its input rows). A stage that gives
        one lets a new version copy that shard from an earlier version with the same rows instead
        of computing it (see tasks/shard_reuse.py); None (the default) always computes."""
        return None

    def account_copied(self, rows: pa.Table, quarantined: pa.Table | None) -> None:
        """Optional: count a copied shard's rows in the stage's stats, as if it had computed them."""

    def produce(self, committed: set[int]) -> Iterator[ShardResult]:
        """Every shard index once; by default `process_shard` for those not yet committed.

        A shard another live run of this version is working on (its claim) is left to it and
        waited for at the end — taken over if that run dies — so concurrent runs share the work.
        """
        deferred = []
        for shard in range(self.num_shards()):
            key = self.keyed(shard, self.shard_input_digest(shard))
            if shard in committed or self.writer.is_committed(shard):
                yield ShardResult(shard, None)
            elif self.writer.claim(shard):
                yield self.copied(shard, key) or ShardResult(shard, *self.process_shard(shard))
            else:
                deferred.append((shard, key))
        for shard, key in deferred:
            self.log_waiting(shard)
            while not self.writer.is_committed(shard) and not self.writer.claim(shard):
                time.sleep(CLAIM_POLL_S)
            if self.writer.is_committed(shard):
                yield ShardResult(shard, None)
            else:
                yield self.copied(shard, key) or ShardResult(shard, *self.process_shard(shard))

    def log_waiting(self, shard: int) -> None:
        """Says why a run pauses on a shard: another run's (on another machine, up to the lease's TTL after it died)."""
        self.log.info(
            "%s@%s: shard %d is being computed by another live run of this version; waiting for it (taken over if that run dies)",
            self.spec.name, self.spec.fingerprint, shard,
        )  # fmt: skip

    def keyed(self, shard: int, input_digest: str | None) -> str | None:
        """Records shard `shard`'s key (from its input digest) in this version's stats; returns it."""
        if input_digest is None:
            return None
        key = self.shard_keys[shard] = shard_key(self.spec, input_digest)
        return key

    def copied(self, shard: int, key: str | None) -> ShardResult | None:
        """Shard `shard` copied from an earlier committed version with the same key, or None."""
        if key is None:
            return None
        if self._copy_index is None:
            self._copy_index = ShardIndex(self.store, self.spec, self.quarantine_schema is not None, self.log)
        found = self._copy_index.find(key)
        if found is None:
            return None
        self.account_copied(found.rows, found.quarantined)
        return ShardResult(shard, found.rows, found.quarantined, copied_from=found.source)

    def final_quarantine(self) -> pa.Table | None:
        """For stages that know their quarantine only at the end: one table, committed as shard 0."""
        return None

    def stats(self) -> dict[str, Any]:
        """The stage's own figures for the manifest (counts, reasons), merged with the base's."""
        return {}

    # -- the loop, written once -----------------------------------------------------------------
    @property
    def quarantine_spec(self) -> StageSpec | None:
        """The `<name>_quarantine` spec (same params and parents), or None for a stage without quarantine."""
        if self.quarantine_schema is None:
            return None
        return self.spec.model_copy(update={"name": quarantine_name(self.spec.name)})

    def find_existing(self) -> StageResult | None:
        """The committed version of this spec with its quarantine, published as reused; None when there is none."""
        return find_committed(self.store, self.spec, with_quarantine=self.quarantine_schema is not None)

    def run(self) -> StageResult:
        """The committed version: reused if there, else every shard not yet committed is computed (or copied),
        written quarantine first, and the manifest committed; a failure keeps the committed shards and says so."""
        if existing := self.find_existing():
            return existing
        spec, q_spec = self.spec, self.quarantine_spec
        self.writer = self.store.writer(spec, prefect_run_context())
        self.quarantine_writer = self.store.writer(q_spec, prefect_run_context()) if q_spec else None
        committed = self.writer.committed_shards()
        if committed:
            self.log.info("%s@%s: resuming, %d shard(s) already committed", spec.name, spec.fingerprint, len(committed))
        progress = StageProgress(spec, self.expected_shards)
        started = time.perf_counter()
        heartbeat = Heartbeat(lambda: self.log.info(progress.status_line(time.perf_counter() - started)))
        written: list[int] = []
        resumed: list[int] = []
        copied: list[int] = []
        per_shard_quarantine = False
        rows_done = 0
        shard, writing, seen = -1, False, set()
        try:
            for result in self.produce(committed):
                shard = result.shard
                seen.add(shard)
                if result.rows is None:
                    if not self.writer.is_committed(shard):
                        raise RuntimeError(f"{spec.name}: the stage skipped shard {shard}, which is not committed")
                    resumed.append(shard)
                else:
                    per_shard_quarantine |= result.quarantined is not None
                    writing = True
                    if self._write(result):
                        (copied if result.copied_from else written).append(shard)
                        rows_done += result.rows.num_rows
                    writing = False
                progress.advance(len(seen), rows=rows_done)
                if result.rows is not None and self._hold_requested(shard):
                    progress.flush()  # a held stage shows every shard it committed
                    self._hold_if_asked(shard)
            num_shards = max(seen) + 1 if seen else 0
            heartbeat.stop()
            progress.finish()
            stats = {**self.stats(), "shards_written_this_run": len(written), "shards_resumed": len(resumed)}
            if self.shard_keys:
                stats["shards_copied"] = len(copied)
                stats[SHARD_KEYS] = {str(i): k for i, k in sorted(self.shard_keys.items())}
            if q_spec is not None:
                stats["quarantine"] = f"{q_spec.name}@{q_spec.fingerprint}"
            quarantine = self._commit_quarantine(num_shards, per_shard_quarantine, stats)
            ref = self.store.commit(self.writer, num_shards, stats)
        except Exception as exc:
            heartbeat.stop()
            done = len(committed) + len(written)
            failed_at = shard if writing else shard + 1  # the stage raises while producing the next shard, or writing this one
            exc.add_note(f"stage {spec.name}@{spec.fingerprint} failed at shard {failed_at}; {done} committed shard(s) are kept; {_what_next(exc)}")
            self.log.error("%s@%s failed at shard %d (%d shard(s) committed are kept): %s", spec.name, spec.fingerprint, failed_at, done, exc)
            for writer in (self.writer, self.quarantine_writer):
                if writer is not None:
                    writer.release()  # gc may clean this attempt's leftovers once the grace time has passed
            raise
        self.log.info("%s committed (%d shards, %d written by this run)", ref, num_shards, len(written))
        if quarantine is not None:
            kept, put_aside = self.store.manifest(ref.name, ref.fingerprint).num_rows, self.store.manifest(quarantine.name, quarantine.fingerprint).num_rows
            check_quarantine_rate(spec.name, quarantine, kept, put_aside)
        for r in (quarantine, ref):
            if r is not None:
                publish_artifact(self.store, r, reused=False)
        return StageResult(ref, quarantine, reused=False, shards_written=written, shards_resumed=resumed, shards_copied=copied)

    def _write(self, result: ShardResult) -> bool:
        """Quarantine shard first, then the output shard; False if another writer committed it."""
        shard = result.shard
        if self.writer.is_committed(shard):
            return False
        if result.quarantined is not None:
            if self.quarantine_writer is None:
                raise RuntimeError(f"{self.spec.name}: quarantined rows but the stage declares no quarantine_schema")
            if not self.quarantine_writer.is_committed(shard):
                self.quarantine_writer.write_shard(shard, result.quarantined, schema=self.quarantine_schema)
        if self.writer.write_shard(shard, result.rows, schema=self.schema):
            how = f"copied from {result.copied_from}" if result.copied_from else "computed"
            self.log.info("%s@%s: shard %d committed (%d rows, %s)", self.spec.name, self.spec.fingerprint, shard, result.rows.num_rows, how)
            return True
        self.log.info("%s@%s: shard %d was committed by another writer", self.spec.name, self.spec.fingerprint, shard)
        return False

    def _commit_quarantine(self, num_shards: int, per_shard: bool, stats: dict[str, Any]) -> ArtifactRef | None:
        if self.quarantine_writer is None:
            return None
        # a resumed run may have computed no shard itself: the committed quarantine shards say which form it has
        if per_shard or len(self.quarantine_writer.committed_shards()) > 1:
            q_shards = num_shards
        else:
            q_shards = 1
            if not self.quarantine_writer.is_committed(0):
                table = self.final_quarantine()
                if table is None:
                    table = self.quarantine_schema.empty_table()
                self.quarantine_writer.write_shard(0, table, schema=self.quarantine_schema)
        return self.store.commit(self.quarantine_writer, q_shards, stats)

    def _hold_requested(self, shard: int) -> bool:
        path = os.environ.get(HOLD_ENV)
        return bool(path) and os.path.exists(path)

    def _hold_if_asked(self, shard: int) -> None:
        """Test hook: after committing the shard named in $SALAD_HOLD_FILE, signal and wait to be killed."""
        path = os.environ.get(HOLD_ENV)
        if not path or not os.path.exists(path):
            return
        import json

        hold = json.loads(Path(path).read_text())
        if hold.get("artifact") == self.spec.name and hold.get("shard") == shard:
            Path(hold["signal"]).write_text(f"{self.spec.name}@{self.spec.fingerprint}:{shard}\n")
            while True:
                time.sleep(1)


def _what_next(exc: BaseException) -> str:
    """What a person should do after this failure: a re-run resumes only when the inputs are sound."""
    if isinstance(exc, DamagedArtifact):
        return f"an input version is damaged ({exc}): run `salad artifacts verify --repair`, then re-run"
    if isinstance(exc, IncompleteArtifact):
        return "the uncommitted version was moved aside: a re-run rebuilds it from scratch"
    if isinstance(exc, StoreUnavailable):
        return "the store did not answer: a re-run resumes after the committed shards"
    if isinstance(exc, (ValueError, FileNotFoundError)):
        return "fix the input named above, then re-run (it resumes after the committed shards)"
    return "a re-run with the same inputs resumes after them"


class Heartbeat:
    """Logs the stage's progress every LOG_EVERY_S while it runs, also in the middle of a long shard
    (an embedding shard took minutes on a loaded machine with nothing printed)."""

    def __init__(self, beat: Callable[[], None], every_s: float | None = None):
        import threading

        every_s = every_s or LOG_EVERY_S
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(beat, every_s), name="stage heartbeat", daemon=True)
        self._thread.start()

    def _run(self, beat: Callable[[], None], every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                beat()
            except Exception:  # noqa: BLE001 - a progress line must never fail the stage
                pass

    def stop(self) -> None:
        """No more progress lines (the stage finished or failed)."""
        self._stop.set()


class _FunctionStage(ShardedStage):
    """A stage given as a generator of (shard, table): the older functional form, kept for small stages."""

    def __init__(self, store, spec, produce, stats, schema, expected_shards):
        super().__init__(store, spec, expected_shards)
        self._produce, self._stats, self.schema = produce, stats, schema

    def produce(self, committed: set[int]) -> Iterator[ShardResult]:
        """The given generator's shards; those in `committed` count as skipped whatever it yields for them."""
        for shard, table in self._produce(committed):
            yield ShardResult(shard, None if shard in committed else table)

    def stats(self) -> dict[str, Any]:
        """The given stats function's figures (none without one)."""
        return self._stats() if self._stats else {}


def write_sharded_artifact(
    store: ArtifactStore,
    spec: StageSpec,
    produce: Callable[[set[int]], Iterable[tuple[int, pa.Table | None]]],
    stats: Callable[[], dict[str, Any]] | None = None,
    schema: pa.Schema | None = None,
    expected_shards: int | None = None,
) -> tuple[ArtifactRef, bool]:
    """Returns (ref, reused). ``produce(committed)`` yields (shard, table) for every shard index in
    order; for indices in ``committed`` it may yield ``None`` as the table (work skipped)."""
    result = _FunctionStage(store, spec, produce, stats, schema, expected_shards).run()
    return result.ref, result.reused


class TableStage(ShardedStage):
    """A one-shard stage whose table is built only when the version is not committed yet.

    ref = TableStage(store, spec, lambda: (centroids_table, {"fit_rows": n})).run().ref
    """

    def __init__(self, store: ArtifactStore, spec: StageSpec, build: Callable[[], tuple[pa.Table, dict[str, Any]]]):
        super().__init__(store, spec, expected_shards=1)
        self.build = build
        self._stats: dict[str, Any] = {}

    def num_shards(self) -> int:
        """Always one shard: the table is small."""
        return 1

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """Builds the table now (only when the version is not committed) and takes its schema."""
        table, self._stats = self.build()
        self.schema = table.schema
        return table, None

    def stats(self) -> dict[str, Any]:
        """The figures `build` returned with the table."""
        return self._stats


def write_table_artifact(store: ArtifactStore, spec: StageSpec, table: pa.Table, stats: dict[str, Any] | None = None) -> ArtifactRef:
    """A small, already computed table as a one-shard artifact (quarantines, statistics, checkpoint tables)."""
    return TableStage(store, spec, lambda: (table, stats or {})).run().ref


def find_committed(store: ArtifactStore, spec: StageSpec, with_quarantine: bool = False) -> StageResult | None:
    """The committed version of `spec` (and of its quarantine), published as reused; None if not committed.

    The reuse check of every stage, before any model is loaded or input read. The quarantine is
    committed first, so a committed output without one is a damaged store: raise.
    """
    found = store.find(spec)
    if found is None:
        return None
    quarantine = None
    if with_quarantine:
        q_name = quarantine_name(spec.name)
        quarantine = store.find(spec.model_copy(update={"name": q_name}))
        if quarantine is None:
            raise RuntimeError(f"{found} is committed but its quarantine {q_name} is not (the store is damaged)")
    stage_logger().info("%s@%s exists: reused, nothing recomputed", spec.name, spec.fingerprint)
    for ref in (quarantine, found):
        if ref is not None:
            publish_artifact(store, ref, reused=True)
    return StageResult(found, quarantine, reused=True)
