"""Prefect task: a speech corpus (folder + TSV, LibriHeavy, Emilia) -> the `utterances` artifact.

    from tasks.speech_ingest import ingest_speech
    out = ingest_speech(SpeechSourceConfig(kind="folder", folder="data/clips"), store_config)      # in a flow
    out = ingest_speech.fn(config, store_config)                                                   # plain Python
    out.utterances, out.quarantine

``utterances``: ``id, source, speaker, text, audio`` (16-bit FLAC, 24 kHz mono), ``sample_rate,
duration_s, word_timings`` (list of {word, start, end} or null), ``timings_source``: "source"
when the corpus carries word timings (e.g. a LibriHeavy supervision alignment), else "aligner"
when ``aligner_model_path`` names a local CTC model (forced alignment, ``salad_core.alignment``),
else null. The aligner's files hash and architecture are model identifiers of the version, so a
different aligner model is a new version; its device is not. Undecodable audio, missing files,
empty transcripts and transcripts that cannot be aligned to their audio go to
``utterances_quarantine`` (``id, source, reason``; the reason names the file or tar member).

Shard i always holds reader items [i*shard_rows, (i+1)*shard_rows) (readers are deterministic),
so a killed run resumes with the missing shards only; its quarantine shard i is written with it
and committed first, so an `utterances` version never lacks its quarantine.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pyarrow as pa
from prefect import task
from pydantic import BaseModel

from salad_core.ctc_model import model_identity
from salad_core.speech_sources import (
    QUARANTINE_SCHEMA,
    UTTERANCE_SCHEMA,
    SpeechSourceConfig,
    UtteranceBuilder,
    input_files,
    read_items,
    reason_kind,
)
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.sharded_stage import ShardResult, ShardedStage, stage_version

UTTERANCES = "utterances"
SPEECH_INGEST_CODE_VERSION = stage_version("speech-ingest-2", __name__)


class SpeechIngestOutputs(BaseModel):
    utterances: ArtifactRef
    quarantine: ArtifactRef
    reused: bool
    shards_written: list[int] = []


def speech_ingest_spec(config: SpeechSourceConfig) -> StageSpec:
    """The `utterances` spec: the source's content parameters and its input files; an aligner model
    enters by its architecture and files' hash, not by where this machine keeps it."""
    params = {**config.content_params(), "inputs": input_files(config)}
    models = {}
    if config.aligner_model_path:
        identity = model_identity(config.aligner_model_path, role="aligner model")
        models = {  # what the model is, not where this machine keeps it: the same files elsewhere, the same version
            "aligner": f"ctc:{identity['architecture']}@{identity['files_sha256'][:16]}",
            "aligner_files_sha256": identity["files_sha256"],
        }
    return StageSpec(name=UTTERANCES, params=params, code_version=SPEECH_INGEST_CODE_VERSION, models=models)


class SpeechIngestStage(ShardedStage):
    """Reads the source's items in order, `shard_rows` per shard; bad items go to the quarantine."""

    schema = UTTERANCE_SCHEMA
    quarantine_schema = QUARANTINE_SCHEMA

    def __init__(self, store: ArtifactStore, spec: StageSpec, config: SpeechSourceConfig):
        super().__init__(store, spec)
        self.config = config
        self.builder = UtteranceBuilder(config)
        self.shards_written: list[int] = []
        self.rows_kept = self.rows_quarantined = 0
        self.audio_seconds = 0.0
        self.reasons: Counter[str] = Counter()
        self.timings_from: Counter[str] = Counter()
        self.started = time.perf_counter()

    def produce(self, committed: set[int]) -> Iterator[ShardResult]:
        """Every shard in reader order, `shard_rows` items each (at least one shard, empty if the source
        is); committed shards are skipped but still read past, so shard i always holds the same items."""
        items = read_items(self.config)
        shard = 0
        while True:
            chunk = list(islice(items, self.config.shard_rows))
            if not chunk and shard > 0:
                break
            yield ShardResult(shard, None) if shard in committed else self._build_shard(shard, chunk)
            shard += 1
            if not chunk:
                break

    def _build_shard(self, shard: int, chunk: list) -> ShardResult:
        rows, refused = [], []
        for item in chunk:
            row, bad = self.builder.build(item)
            if row is not None:
                rows.append(row)
            else:
                refused.append(bad)
        self.shards_written.append(shard)
        self.rows_kept += len(rows)
        self.rows_quarantined += len(refused)
        self.audio_seconds += sum(r["duration_s"] for r in rows)
        self.timings_from.update(r["timings_source"] for r in rows if r["timings_source"] is not None)
        self.reasons.update(reason_kind(r["reason"]) for r in refused)
        return ShardResult(shard, pa.Table.from_pylist(rows, schema=UTTERANCE_SCHEMA), pa.Table.from_pylist(refused, schema=QUARANTINE_SCHEMA))

    def stats(self) -> dict[str, Any]:
        """This run's counts (rows kept and quarantined, reasons, word-timing sources, audio and wall
        seconds) and the rule that gave word timings."""
        wall = time.perf_counter() - self.started
        return {
            "rows_kept_this_run": self.rows_kept,
            "rows_quarantined_this_run": self.rows_quarantined,
            "rows_with_word_timings_this_run": sum(self.timings_from.values()),
            "rows_with_source_timings_this_run": self.timings_from["source"],
            "rows_with_aligner_timings_this_run": self.timings_from["aligner"],
            "quarantine_reasons_this_run": dict(self.reasons.most_common()),
            "audio_seconds_this_run": round(self.audio_seconds, 3),
            "wall_seconds_this_run": round(wall, 3),
            "word_timings": self._timings_rule(),
        }

    def _timings_rule(self) -> str:
        if self.config.aligner_model_path:
            return f"from the source when it has them, else forced aligner {self.config.aligner_model_path}"
        return "from the source only; no forced aligner configured"


@task(name="ingest-speech")
def ingest_speech(config: SpeechSourceConfig, store_config: StoreConfig) -> SpeechIngestOutputs:
    """Read a speech corpus into `utterances` (and `utterances_quarantine`)."""
    store = ArtifactStore.open(store_config)
    stage = SpeechIngestStage(store, speech_ingest_spec(config), config)
    result = stage.run()
    return SpeechIngestOutputs(utterances=result.ref, quarantine=result.quarantine, reused=result.reused, shards_written=stage.shards_written)
