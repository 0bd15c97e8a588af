"""One way to run every stage that writes an artifact: reuse, resume, commit.

1. If the spec's fingerprint is committed, return it: no work at all.
2. Otherwise open a writer; shards committed by an earlier, crashed run are skipped
   (the producer is told which, so it can skip the *work* too, not just the write).
3. Commit once all shards are there.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable

import pyarrow as pa

from storage import ArtifactRef, ArtifactStore, StageSpec
from tasks.progress import StageProgress
from tasks.publish import publish_artifact
from tasks.run_context import prefect_run_context


def stage_logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        from prefect import get_run_logger

        return get_run_logger()
    except Exception:  # outside a Prefect run (plain Python, tests of core code)
        return logging.getLogger("salad")


def write_sharded_artifact(
    store: ArtifactStore,
    spec: StageSpec,
    produce: Callable[[set[int]], Iterable[tuple[int, pa.Table]]],
    stats: Callable[[], dict[str, Any]] | None = None,
    schema: pa.Schema | None = None,
    expected_shards: int | None = None,
) -> tuple[ArtifactRef, bool]:
    """Returns (ref, reused). ``produce(committed)`` yields (shard, table) for every shard index
    in order; for indices in ``committed`` it may yield ``None`` as the table (work skipped).
    ``expected_shards`` (an upper bound is fine) turns on the progress bar in the UI and CLI."""
    log = stage_logger()
    existing = store.find(spec)
    if existing is not None:
        log.info("%s@%s exists: reused, nothing recomputed", spec.name, spec.fingerprint)
        publish_artifact(store, existing, reused=True)
        return existing, True
    writer = store.writer(spec, prefect_run_context())
    committed = writer.committed_shards()
    if committed:
        log.info("%s@%s: resuming, %d shard(s) already committed", spec.name, spec.fingerprint, len(committed))
    started = time.perf_counter()
    progress = StageProgress(spec, expected_shards)
    num_shards = 0  # also the shard being produced or written when something fails
    try:
        for shard, table in produce(committed):
            if shard not in committed:
                if table is None:
                    raise RuntimeError(f"{spec.name}: producer skipped shard {shard}, which is not committed")
                if writer.write_shard(shard, table, schema=schema):
                    log.info("%s@%s: shard %d committed (%d rows, %.1fs elapsed)", spec.name, spec.fingerprint, shard, table.num_rows, time.perf_counter() - started)
                else:
                    log.info("%s@%s: shard %d was committed by another writer", spec.name, spec.fingerprint, shard)
            num_shards = shard + 1
            progress.advance(num_shards)
    except Exception as exc:
        log.error(
            "%s@%s failed at shard %d (%d shard(s) committed are kept; a re-run resumes there): %s",
            spec.name, spec.fingerprint, num_shards, len(committed) + len(writer.shards_written_here), exc,
        )
        raise
    progress.finish()
    ref = store.commit(writer, num_shards, stats() if stats else None)
    log.info("%s committed (%d shards, %d written by this run)", ref, num_shards, len(writer.shards_written_here))
    publish_artifact(store, ref, reused=False)
    return ref, False



def write_table_artifact(store: ArtifactStore, spec: StageSpec, table: pa.Table, stats: dict[str, Any] | None = None) -> ArtifactRef:
    """A small artifact as a single shard (quarantines, statistics, centroids)."""
    ref, _ = write_sharded_artifact(store, spec, lambda committed: [(0, table)], (lambda: stats or {}), schema=table.schema)
    return ref


def find_with_quarantine(store: ArtifactStore, spec: StageSpec, quarantine_spec: StageSpec) -> tuple[ArtifactRef, ArtifactRef] | None:
    """Both committed versions of a stage that writes rows and a quarantine (published as reused), or None.

    The quarantine is committed first, so a committed output without one is a broken store: raise.
    """
    found, quarantine = store.find(spec), store.find(quarantine_spec)
    if found and quarantine:
        stage_logger().info("%s@%s exists: reused, nothing recomputed", spec.name, spec.fingerprint)
        for ref in (found, quarantine):
            publish_artifact(store, ref, reused=True)
        return found, quarantine
    if found:
        raise RuntimeError(f"{found} is committed but its quarantine {quarantine_spec.name}@{quarantine_spec.fingerprint} is not")
    return None
