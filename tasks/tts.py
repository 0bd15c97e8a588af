"""Prefect task: a text artifact (`id`, `text`) → a speech artifact, synthesised on a Ray actor pool.

    from tasks.tts import synthesize_speech
    out = synthesize_speech(corpus_ref, SynthesisConfig(limit=20), store_config)    # in a flow
    out = synthesize_speech.fn(corpus_ref, SynthesisConfig(limit=20), store_config) # plain Python
    out.speech, out.quarantine, out.shards_written

Output ``<output_name>`` (default ``speech``): ``id, text, voice, sample_rate, audio`` (16-bit
FLAC bytes at 24 kHz), ``duration_s, word_timings`` (list of {word, start, end}, null when the
backend cannot time words), plus the input's `keep_columns` (e.g. ``cluster``). Rows that fail
``check_text`` or fail synthesis after retries go to ``<output_name>_quarantine`` (``id, text``
truncated, ``reason, error``); the rest continues.

How it runs: each actor holds one backend (``RowSynthesizer``); the driver streams the input,
sends rows in small batches to the least-busy actor, and puts results back in input order
before writing a shard. Output shard i always holds the same rows (fixed-size re-sharding of
the selected input rows; with a `cluster` column, grouped so that no shard mixes clusters), so
a killed run resumes with only the missing shards. A shard whose rows an earlier version of the
same artifact already spoke, with the same code and settings, is copied from it, not
synthesised (tasks/shard_reuse.py): regenerating a few clusters of a selection pays only for them. The TTS model
identity (``model_info()`` without machine facts: paths, device) is part of the fingerprint. The
driver builds the backend once, on CPU, to learn it, so an unchanged rerun finds its version
without starting Ray; when there is work, every actor's identity must equal the driver's (a node
with another espeak-ng or other weights would make other audio under the same fingerprint).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa
from prefect import task
from pydantic import BaseModel, Field

import salad_core.tts
from salad_core.model_identity import model_entry
from salad_core.records.quarantine import quarantine_schema
from salad_core.tts import TTSConfig
from salad_core.tts.factory import make_backend
from salad_core.tts.flac import encoder_source_files
from salad_core.tts.row_selection import grouped_rows, hashed_sample, selected_rows, shard_rows
from salad_core.tts.rows import (
    CRASHED_WORKER_REASON,
    HUNG_WORKER_REASON,
    RowSynthesizer,
    quarantine_record,
    speech_schema,
)
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from storage.artifact import Artifact
from storage.code_version import source_hash
from tasks.ray_pool import CallTimedOut, OrderedActorStream, actor_factory, ray_session, start_actors
from tasks.shard_reuse import rows_digest
from tasks.sharded_stage import ShardResult, ShardedStage, find_committed, stage_logger, stage_version
from tasks.tts_config import SynthesisConfig

_TTS_DIR = Path(salad_core.tts.__file__).parent
_GATE_MODULES = {"quality.py", "asr.py"}  # the quality gate's code; editing it must not re-synthesise
# the quality gate's code is the gate's: editing it must not re-synthesise; the FLAC encoder is a third-party library
SPEECH_CODE_VERSION = stage_version("speech-2", __name__, exclude=("salad_core.tts.quality", "salad_core.tts.asr")) + "+" + source_hash(*encoder_source_files())
REQUIRED_COLUMNS = ("id", "text")


class SynthesisOutputs(BaseModel):
    speech: ArtifactRef
    quarantine: ArtifactRef
    reused: bool = Field(description="True when both versions existed and nothing was synthesised.")
    shards_written: list[int] = Field(default_factory=list, description="Shards synthesised by this run.")
    shards_resumed: list[int] = Field(default_factory=list, description="Shards committed by an earlier, interrupted run.")
    shards_copied: list[int] = Field(
        default_factory=list, description="Shards copied from an earlier version that spoke the same rows (selective regeneration)."
    )


def model_identity(info: dict) -> dict[str, str]:
    """The manifest's `models` entry: a readable id plus a hash of everything but machine facts."""
    return model_entry("tts", f"{info.get('backend')}:{info.get('model_id')}@{info.get('revision')}", info)


def synthesis_spec(text: ArtifactRef, config: SynthesisConfig, info: dict, keep: list[str]) -> StageSpec:
    """The speech spec: the content parameters and kept input columns, `text` as parent, and the TTS
    model's identity (from `info`) in `models`, so another model makes another version."""
    params = {**config.content_params(), "kept_columns": keep}
    return StageSpec(name=config.output_name, params=params, code_version=SPEECH_CODE_VERSION, parents=[text], models=model_identity(info))


def input_fields(source: Artifact, config: SynthesisConfig) -> list[pa.Field]:
    """The kept columns present in the input, with their types; fails clearly when id/text are missing."""
    schema = source.dataset().schema
    missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
    if missing:
        raise ValueError(f"{source.ref} has no column(s) {missing}: synthesis needs a text artifact with 'id' and 'text'")
    return [schema.field(c) for c in config.keep_columns if c in schema.names and c not in REQUIRED_COLUMNS]


class SynthesisStage(ShardedStage):
    """Streams input rows through the actor pool; output shard i always holds the same selected rows."""

    def __init__(
        self, store: ArtifactStore, spec: StageSpec, source: Artifact, config: SynthesisConfig, stream: OrderedActorStream, extra: list[pa.Field]
    ) -> None:
        super().__init__(store, spec)
        self.source, self.config, self.stream = source, config, stream
        self.extra = extra
        self.columns = [*REQUIRED_COLUMNS, *(f.name for f in extra)]
        self.schema = speech_schema(extra)
        self.quarantine_schema = quarantine_schema(extra)
        self.total_shards = 0
        self.rows_selected = 0
        self.shards_written: list[int] = []
        self.shards_resumed: list[int] = []
        self.copies: dict[int, ShardResult] = {}
        self.group = "cluster" if config.shard_by_cluster and "cluster" in self.columns else None
        self.rows_spoken = self.rows_quarantined = self.crashed_rows = self.rows_copied = 0
        self.audio_seconds = 0.0
        self.reasons: Counter[str] = Counter()
        self.started = time.perf_counter()

    # -- input --------------------------------------------------------------------------------
    def _rows(self) -> Iterator[dict[str, Any]]:
        chosen = None
        if self.config.sample_seed is not None:
            ids = (i for b in self.source.iter_batches(columns=["id"]) for i in b.column("id").to_pylist())
            chosen = hashed_sample(ids, self.config.limit, self.config.sample_seed)
        rows = selected_rows(self.source.iter_batches(batch_size=256, columns=self.columns), self.config.limit, chosen)
        # grouping reads the whole selection first: a text selection is small next to its audio
        yield from grouped_rows(rows, self.group) if self.group else rows

    def _calls(self, committed: set[int]) -> Iterator[tuple[int, list[dict], bool]]:
        """(shard, rows, last batch of the shard?) for every shard that still needs work (neither
        committed nor copied from an earlier version that spoke the same rows)."""
        per_call = self.config.ray.rows_per_call
        for shard, rows in shard_rows(self._rows(), self.config.shard_rows, group=self.group):
            self.total_shards = shard + 1
            self.rows_selected += len(rows)
            key = self.keyed(shard, rows_digest(rows, self.columns))
            if shard in committed:
                continue
            if copy := self.copied(shard, key):
                self.copies[shard] = copy
                continue
            for start in range(0, len(rows), per_call):
                yield shard, rows[start : start + per_call], start + per_call >= len(rows)

    # -- the stage's producer ------------------------------------------------------------------
    def produce(self, committed: set[int]) -> Iterator[ShardResult]:
        """Every shard in order: rows still to speak go through the actor pool in batches (results back
        in input order); committed shards are yielded as resumed and copied ones in their place. An
        empty selection still yields one empty shard, so the version is committed."""
        next_shard, records = 0, []
        calls = self.stream.map(lambda actor, item: actor.run.remote(item[1]), self._calls(committed))
        for (shard, rows, last), result in calls:
            records.extend(self._records(rows, result))
            if not last:
                continue
            for resumed in range(next_shard, shard):
                yield self._resumed(resumed, committed)
            yield self._finish_shard(shard, records)
            next_shard, records = shard + 1, []
        for resumed in range(next_shard, self.total_shards):
            yield self._resumed(resumed, committed)
        if self.total_shards == 0:  # nothing selected: an empty version, still committed
            self.total_shards = 1
            yield ShardResult(0, None) if 0 in committed else self._finish_shard(0, [])

    def _resumed(self, shard: int, committed: set[int]) -> ShardResult:
        if shard in self.copies:
            return self.copies.pop(shard)
        if shard not in committed:
            raise RuntimeError(f"shard {shard} was neither computed nor committed (a bug in the shard order)")
        self.shards_resumed.append(shard)
        return ShardResult(shard, None)

    def account_copied(self, rows: pa.Table, quarantined: pa.Table | None) -> None:
        """Counts a copied shard's rows, spoken and quarantined, apart from those spoken in this run."""
        self.rows_copied += rows.num_rows + (quarantined.num_rows if quarantined is not None else 0)

    def _records(self, rows: list[dict], result: Any) -> list[dict]:
        if isinstance(result, list):
            return result
        # the whole call failed (the actor died, or a bug): find the row responsible, one row per call
        self.log.warning("a synthesis call of %d rows failed (%s); retrying its rows one by one", len(rows), _first_line(result))
        records, crashed = isolate_rows(
            rows,
            lambda row, i: self.stream.call(lambda actor, r: actor.run.remote([r]), row, actor_index=i),
            self.config.quarantine_text_chars,
        )
        self.crashed_rows += crashed
        if self.crashed_rows > self.config.max_crashed_rows:
            reasons = [r["error"] for r in records if r.get("reason") in (CRASHED_WORKER_REASON, HUNG_WORKER_REASON)]
            raise RuntimeError(
                f"{self.crashed_rows} rows killed their synthesis worker (max_crashed_rows="
                f"{self.config.max_crashed_rows}); the pool looks broken, last error: {reasons[-1]}"
            )
        return records

    def _finish_shard(self, shard: int, records: list[dict]) -> ShardResult:
        spoken, failed = [], []
        for record in records:
            (spoken if record.pop("ok") else failed).append(record)
        for record in failed:
            record["stage"] = self.spec.name
        self.shards_written.append(shard)
        self.rows_spoken += len(spoken)
        self.rows_quarantined += len(failed)
        self.audio_seconds += sum(r["duration_s"] for r in spoken)
        self.reasons.update(r["reason"].split(":", 1)[0] for r in failed)
        return ShardResult(shard, pa.Table.from_pylist(spoken, schema=self.schema), pa.Table.from_pylist(failed, schema=self.quarantine_schema))

    def stats(self) -> dict[str, Any]:
        """This run's counts (shards, rows selected, spoken, quarantined and copied, reasons, crashed
        workers, timed-out calls, speed) and the Ray settings."""
        wall = time.perf_counter() - self.started
        return {
            "rows_selected": self.rows_selected,
            "shards": self.total_shards,
            "shards_written_this_run": len(self.shards_written),
            "shards_resumed": len(self.shards_resumed),
            "rows_copied_from_earlier_versions": self.rows_copied,
            "rows_spoken_this_run": self.rows_spoken,
            "rows_quarantined_this_run": self.rows_quarantined,
            "quarantine_reasons_this_run": dict(self.reasons.most_common()),
            "rows_that_crashed_a_worker": self.crashed_rows,
            "calls_timed_out": self.stream.calls_timed_out,
            "audio_seconds_this_run": round(self.audio_seconds, 3),
            "wall_seconds_this_run": round(wall, 3),
            "audio_seconds_per_wall_second": round(self.audio_seconds / wall, 2) if wall > 0 else None,
            "ray": self.config.ray.model_dump(mode="json"),
        }


def isolate_rows(rows: list[dict], call_one: Callable[[dict, int], Any], text_chars: int) -> tuple[list[dict], int]:
    """Records for `rows` computed one row per call; a row whose call still fails is quarantined.

    Returns (records in row order, number of rows whose call failed).
    """
    records, failed = [], 0
    for i, row in enumerate(rows):
        result = call_one(row, i)
        if isinstance(result, list):
            records.extend(result)
        else:
            failed += 1
            reason = HUNG_WORKER_REASON if isinstance(result, CallTimedOut) else CRASHED_WORKER_REASON
            records.append(quarantine_record(row, reason, _first_line(result), text_chars))
    return records, failed


def _first_line(exc: object) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def driver_model_info(config: TTSConfig) -> dict:
    """The backend's identity, from one instance built here on CPU (device is not part of it)."""
    try:
        backend = make_backend(config.model_copy(update={"device": "cpu"}))
    except Exception as exc:  # bad voice, missing weights, no espeak-ng: say so before any Ray
        raise RuntimeError(f"the TTS backend could not be built: {_first_line(exc)}") from exc
    return backend.model_info()


def check_pool_identity(actors: list, expected: dict) -> None:
    """Every actor must load the model the fingerprint was computed for."""
    import ray

    try:
        infos = ray.get([a.model_info.remote() for a in actors])
    except ray.exceptions.RayActorError as exc:  # the backend's constructor raised on a worker node
        cause = [line for line in str(exc).splitlines() if line.strip()][-1]
        raise RuntimeError(f"the synthesis actors could not build the TTS backend: {cause}") from exc
    want = model_identity(expected)
    differ = [model_identity(i) for i in infos if model_identity(i) != want]
    if differ:
        raise RuntimeError(f"the synthesis actors load other models than the driver ({want}): {differ}")


@task(name="synthesize-speech")
def synthesize_speech(text: ArtifactRef, config: SynthesisConfig, store_config: StoreConfig) -> SynthesisOutputs:
    """Speak the rows of a text artifact into a speech artifact (and its quarantine)."""
    import ray

    store = ArtifactStore.open(store_config)
    log = stage_logger()
    source = store.get(text)
    extra = input_fields(source, config)
    info = driver_model_info(config.tts)
    speech_spec = synthesis_spec(source.ref, config, info, [f.name for f in extra])
    if found := find_committed(store, speech_spec, with_quarantine=True):  # before Ray: a reuse needs none
        return SynthesisOutputs(speech=found.ref, quarantine=found.quarantine, reused=True)
    with ray_session(config.ray) as started_here:
        pool = config.ray
        log.info(
            "Ray %s: %d actor(s) × %.2g CPU / %.2g GPU",
            "started" if started_here else "already running",
            pool.n_actors,
            pool.num_cpus_per_actor,
            pool.num_gpus_per_actor,
        )
        init_args = (config.tts, config.retries_per_row, config.quarantine_text_chars)
        actors = start_actors(RowSynthesizer, pool, *init_args)
        try:
            check_pool_identity(actors, info)
            if info.get("random_weights"):
                log.warning("TTS model has RANDOM weights (test mode): the audio is noise, not speech")
            stream = OrderedActorStream(actors, pool.max_in_flight_per_actor, pool.call_timeout_s, actor_factory(RowSynthesizer, pool, *init_args))
            stage = SynthesisStage(store, speech_spec, source, config, stream, extra)
            result = stage.run()
        finally:
            for actor in actors:
                ray.kill(actor)
    return SynthesisOutputs(
        speech=result.ref,
        quarantine=result.quarantine,
        reused=result.reused,
        shards_written=stage.shards_written,
        shards_resumed=stage.shards_resumed,
        shards_copied=result.shards_copied,
    )
