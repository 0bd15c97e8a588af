"""Running a sharded stage's shards on a pool of Ray actors that write and commit them themselves.

    from tasks.ray_stage import run_stage
    stage = EmbedStage(store, spec, corpus, config)
    result = run_stage(stage, config.ray, partial(EmbedStage, spec=spec, corpus=corpus, config=config))

With ``n_actors: 0`` (the default) this is ``stage.run()``: every shard in this process, as on a
laptop. Otherwise each actor builds the stage once from ``build(store)`` (one model per actor)
and, for each shard index the driver hands it, reads the input shard from the store, computes it
with the stage's ``process_shard``, and writes and commits the output shard itself, quarantine
first. The driver never holds a shard's rows, so at scale it is not a funnel: it claims shard
indices (two runs of one version share the work, as in-process), keeps
``max_in_flight_per_actor`` shards queued per actor, retries a shard whose actor died (its node
lost) or hung past ``call_timeout_s`` on a replacement actor, and commits the manifest through the
same ``ShardedStage.run()`` as in-process. A shard's commit record is create-if-absent, so a
retried or raced shard is committed exactly once, and the artifact is the same however it ran:
same fingerprint (the Ray settings are not in it), same rows, the same bytes when the model is
deterministic.

The workers must reach the store. On a cluster of more than one node (or through Ray Client)
that means S3, with credentials in each node's environment as on the driver; a local-folder store
is refused there unless ``shared_filesystem: true`` says that every node mounts it at the same
path. A relative local path is made absolute first (workers do not share the driver's cwd).

Only ``process_shard`` stages run here; synthesis, which streams its input, has its own pool
(tasks/tts.py). Kill tests hold a worker at a known point: with $SALAD_WORKER_HOLD_FILE set on the
driver, the first worker to finish computing shard N of artifact X, where the file holds
``{"artifact": X, "shard": N, "signal": path}``, writes ``path`` (its node id and pid) before
committing the shard and then never returns; a retry of that shard passes (``path`` exists).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa

from salad_core.ray_config import RayStageConfig
from storage import ArtifactStore, StoreConfig
from tasks.ray_pool import CallTimedOut, OrderedActorStream, actor_factory, ray_session, start_actors
from tasks.sharded_stage import CLAIM_POLL_S, ShardedStage, ShardResult, StageResult

# How a stage runs, never what it computes: stages leave these out of their code version.
EXECUTION_MODULES = ("tasks.ray_stage", "salad_core.ray_config")
WORKER_HOLD_ENV = "SALAD_WORKER_HOLD_FILE"
ACTOR_START_TIMEOUT_S = 600.0  # actors that cannot be placed (too few CPUs/GPUs) fail the stage instead of hanging

Build = Callable[[ArtifactStore], ShardedStage]


def run_stage(stage: ShardedStage, config: RayStageConfig, build: Build) -> StageResult:
    """`stage.run()` in this process (n_actors 0), or its shards on `config.n_actors` Ray actors."""
    if config.n_actors == 0:
        return stage.run()
    if existing := stage.find_existing():  # before Ray: a reuse needs none
        return existing
    with ray_session(config):
        store_config = worker_store_config(stage.store.objects.config, config)
        return RayStageDriver(stage, config, build, store_config).run()


def worker_store_config(store: StoreConfig, config: RayStageConfig) -> StoreConfig:
    """The store as the workers must open it; refuses a local folder that other nodes cannot see."""
    import ray

    if store.is_s3:
        return store
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    client = (config.address or "").startswith("ray://")
    if (len(nodes) > 1 or client) and not config.shared_filesystem:
        where = "is reached through Ray Client" if client else f"has {len(nodes)} nodes"
        raise ValueError(
            f"the store {store.uri!r} is a local folder but the Ray cluster {where}: the workers write their shards "
            "themselves and cannot reach this machine's disk. Use an S3 store (store.uri=s3://bucket/prefix), or set "
            "ray.shared_filesystem=true if every node mounts this path at the same place."
        )
    return store.model_copy(update={"uri": str(Path(store.uri).resolve())})


class ShardWorker:
    """One actor: builds the stage once (its model), then computes, writes and commits the shards it is given.

    A stage that loads its model lazily may define ``load_model()``: the actor calls it when it starts.
    """

    def __init__(self, store_config: StoreConfig, build: Build, hold_file: str | None = None) -> None:
        store = ArtifactStore.open(store_config)
        self.stage = build(store)
        load_model = getattr(self.stage, "load_model", None)
        if load_model is not None:  # now, so that a shard's call timeout never includes the model load
            load_model()
        self.stage.writer = store.writer(self.stage.spec)
        q_spec = self.stage.quarantine_spec
        self.stage.quarantine_writer = store.writer(q_spec) if q_spec else None
        self.hold_file = hold_file

    def ready(self) -> bool:
        """Answers once the actor is built (its model loaded): the driver waits on it before handing out shards."""
        return True

    def run_shard(self, shard: int) -> dict[str, Any]:
        """Compute and commit one shard; ``written`` is False when another writer committed it first."""
        import ray

        stage = self.stage
        written, rows, quarantined = False, 0, False
        if not stage.writer.is_committed(shard):
            result = ShardResult(shard, *stage.process_shard(shard))
            self._hold_if_asked(shard)
            written = stage._write(result)  # the base's commit order: quarantine shard, then output shard
            rows, quarantined = result.rows.num_rows, result.quarantined is not None
        return {"written": written, "rows": rows, "quarantined": quarantined, "node": ray.get_runtime_context().get_node_id()}

    def stats(self) -> dict[str, Any]:
        """This actor's stage figures, merged over the actors by the driver."""
        return self.stage.stats()

    def close(self) -> None:
        """Releases this actor's writer leases so gc need not wait for them to expire."""
        for writer in (self.stage.writer, self.stage.quarantine_writer):
            if writer is not None:
                writer.release()

    def _hold_if_asked(self, shard: int) -> None:
        if not self.hold_file or not os.path.exists(self.hold_file):
            return
        import ray

        hold = json.loads(Path(self.hold_file).read_text())
        if hold.get("artifact") == self.stage.spec.name and hold.get("shard") == shard and not os.path.exists(hold["signal"]):
            node = ray.get_runtime_context().get_node_id()
            Path(hold["signal"]).write_text(json.dumps({"node": node, "pid": os.getpid()}))
            while True:
                time.sleep(1)


def _run_shard(actor: Any, shard: int) -> Any:
    return actor.run_shard.remote(shard)


class RayStageDriver(ShardedStage):
    """The driver's side: hands shard indices to the actors; `ShardedStage.run()` commits the version."""

    def __init__(self, stage: ShardedStage, config: RayStageConfig, build: Build, store_config: StoreConfig) -> None:
        super().__init__(stage.store, stage.spec, stage.expected_shards)
        self.stage, self.config, self.build, self.store_config = stage, config, build, store_config
        self.schema, self.quarantine_schema = stage.schema, stage.quarantine_schema
        self.outcomes: dict[int, dict[str, Any]] = {}
        self.retried: list[int] = []
        self.actors: list = []
        self.stream: OrderedActorStream | None = None

    def num_shards(self) -> int:
        """The stage's shard count: the driver hands out exactly these indices."""
        return self.stage.num_shards()

    def run(self) -> StageResult:
        """Starts the actors, runs the base loop with shards computed on them, and always stops them."""
        import ray

        init_args = (self.store_config, self.build, os.environ.get(WORKER_HOLD_ENV))
        self.actors = start_actors(ShardWorker, self.config, *init_args)
        try:
            try:
                ray.get([a.ready.remote() for a in self.actors], timeout=ACTOR_START_TIMEOUT_S)
            except ray.exceptions.RayActorError as exc:  # build() raised on a worker: say why, once
                cause = [line for line in str(exc).splitlines() if line.strip()][-1]
                raise RuntimeError(f"{self.spec.name}: the stage's Ray actors could not be built: {cause}") from exc
            except ray.exceptions.GetTimeoutError as exc:
                raise RuntimeError(
                    f"{self.spec.name}: {len(self.actors)} actor(s) of {self.config.num_cpus_per_actor:g} CPU / "
                    f"{self.config.num_gpus_per_actor:g} GPU were not started within {ACTOR_START_TIMEOUT_S:g} s: the cluster lacks the resources"
                ) from exc
            self.log.info(
                "%s@%s on Ray: %d actor(s) × %.2g CPU / %.2g GPU",
                self.spec.name,
                self.spec.fingerprint,
                len(self.actors),
                self.config.num_cpus_per_actor,
                self.config.num_gpus_per_actor,
            )
            self.stream = OrderedActorStream(
                self.actors, self.config.max_in_flight_per_actor, self.config.call_timeout_s, actor_factory(ShardWorker, self.config, *init_args)
            )
            return super().run()
        finally:
            self._close_actors()

    def produce(self, committed: set[int]) -> Iterator[ShardResult]:
        """Claimed shards go to the actors as they free up (unless an earlier version's copy fits, see
        tasks/shard_reuse.py); the rest are committed already, or another run's."""
        skipped, copies, deferred = [], [], []

        def claimed() -> Iterator[int]:
            for shard in range(self.num_shards()):
                key = self.keyed(shard, self.stage.shard_input_digest(shard))
                if shard in committed or self.writer.is_committed(shard):
                    skipped.append(ShardResult(shard, None))
                elif not self.writer.claim(shard):
                    deferred.append(shard)
                elif copy := self.copied(shard, key):
                    copies.append(copy)
                else:
                    yield shard

        for shard, outcome in self.stream.map(_run_shard, claimed()):
            yield self._settle(shard, outcome)
        yield from skipped + copies
        for shard in deferred:  # another live run's: wait for it, take it over if that run dies
            self.log_waiting(shard)
            while not self.writer.is_committed(shard) and not self.writer.claim(shard):
                time.sleep(CLAIM_POLL_S)
            done = self.writer.is_committed(shard)
            yield ShardResult(shard, None) if done else self._settle(shard, self.stream.call(_run_shard, shard, actor_index=shard))

    def _settle(self, shard: int, outcome: Any) -> ShardResult:
        """The shard's result once an actor committed it, retrying it while its actors die or hang."""
        import ray

        attempt = 1
        while not isinstance(outcome, dict):
            if isinstance(outcome, ray.exceptions.RayTaskError):  # the stage itself raised: not a worker's fault
                raise outcome.as_instanceof_cause()
            if attempt >= self.config.max_attempts_per_shard:
                raise RuntimeError(f"{self.spec.name}: shard {shard} failed {attempt} times on Ray actors; last: {_first_line(outcome)}")
            kind = "hung" if isinstance(outcome, CallTimedOut) else "was lost"
            self.log.warning("%s@%s: shard %d %s (%s); retrying it", self.spec.name, self.spec.fingerprint, shard, kind, _first_line(outcome))
            self.retried.append(shard)
            outcome = self.stream.call(_run_shard, shard, actor_index=shard + attempt)
            attempt += 1
        self.outcomes[shard] = outcome
        empty = self.schema.empty_table() if self.schema is not None else pa.table({})
        quarantine = self.quarantine_schema.empty_table() if outcome["quarantined"] else None
        return ShardResult(shard, empty, quarantine)  # rows stay in the store; _write below reports the actor's commit

    def _write(self, result: ShardResult) -> bool:
        if result.copied_from:  # copied by the driver from an earlier version: written as in-process
            return super()._write(result)
        outcome = self.outcomes[result.shard]
        if outcome["written"]:
            self.log.info("%s@%s: shard %d committed by an actor (%d rows)", self.spec.name, self.spec.fingerprint, result.shard, outcome["rows"])
        return bool(outcome["written"])

    def stats(self) -> dict[str, Any]:
        """The actors' merged stage figures plus how the pool ran (actors, nodes, retries, timeouts, settings)."""
        import ray

        try:
            per_actor = ray.get([a.stats.remote() for a in self.actors], timeout=60)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            per_actor = []
        nodes = Counter(o["node"] for o in self.outcomes.values() if o["written"])
        return {
            **merge_actor_stats(per_actor),
            "ray": {
                "n_actors": len(self.actors),
                "nodes_used": len(nodes),
                "shards_retried": len(self.retried),
                "calls_timed_out": self.stream.calls_timed_out if self.stream else 0,
                "config": self.config.model_dump(mode="json"),
            },
        }

    def _close_actors(self) -> None:
        import ray

        try:  # release the workers' leases now rather than letting them expire
            ray.get([a.close.remote() for a in self.actors], timeout=30)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            pass
        for actor in self.actors:
            ray.kill(actor)


def merge_actor_stats(per_actor: list[dict[str, Any]]) -> dict[str, Any]:
    """One stats dict for the manifest: ``*_this_run`` numbers summed over the actors, the rest the first actor's."""
    merged: dict[str, Any] = {}
    for stats in per_actor:
        for key, value in stats.items():
            if key not in merged:
                merged[key] = value
            elif key.endswith("_this_run") and isinstance(value, (int, float)) and isinstance(merged[key], (int, float)):
                merged[key] = round(merged[key] + value, 6)
    return merged


def _first_line(exc: object) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:500]
