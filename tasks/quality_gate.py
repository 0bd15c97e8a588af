"""Prefect task: a speech artifact → the rows that pass the quality gate, and a quarantine of those that do not.

    from tasks.quality_gate import gate_speech
    from tasks.quality_gate_config import QualityGateConfig
    out = gate_speech(speech_ref, QualityGateConfig(), store_config)          # in a flow
    out = gate_speech.fn(speech_ref, QualityGateConfig(), store_config)       # plain Python
    out.gated, out.quarantine, out.quality, out.clusters

Per row (``salad_core.tts.quality``): seconds per word within bounds, share of silent frames,
share of clipped samples, NaN/inf, and (only with a local CTC ASR model, ``asr_model_path``)
the character error rate of an ASR round trip; without one the manifest says ASR was not run.
Outputs, all named after the input (``speech`` → ``speech_…``):

* ``_quality``: one row of metrics and reasons per input row; sharded like the input, so a long
  ASR pass resumes where it stopped.
* ``_gated``: the input rows that pass, every column but ``audio``; shard i comes from input
  shard i. The audio stays in the input artifact, stored once: tokenize with
  ``tokenize_speech(speech, config, store, keep=gated)`` to encode exactly the passing rows.
* ``_gate_quarantine``: ``id, text`` (truncated), ``reason, error`` of every row that does not.
* ``_gate_clusters``: when rows carry a ``cluster`` column, failure rate and mean CER per
  cluster; with ``max_cluster_failure_rate`` set, clusters above it are dropped entirely (the
  paper drops clusters whose synthesis has a high CER).

The checks run in this process: decoding and the NumPy metrics cost milliseconds per row; a CTC
ASR model on CPU costs about as much as the synthesis itself (put it on a GPU with `asr_device`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from pydantic import BaseModel, Field

from salad_core.records.quarantine import quarantine_row, quarantine_schema
from salad_core.tts.asr import model_files_sha256
from salad_core.tts.flac import decode_flac
from salad_core.tts.quality import character_error_rate, judge_audio
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from storage.artifact import Artifact
from tasks.alerts import check_quarantine_rate
from tasks.publish import publish_artifact
from tasks.quality_gate_config import QualityGateConfig
from tasks.sharded_stage import ShardedStage, stage_logger, stage_version, write_table_artifact

GATE_CODE_VERSION = stage_version("quality-gate-2", __name__)
CLUSTER = "cluster"
ASR_NOT_RUN = "not run: no asr_model_path configured"
METRIC_FIELDS = [
    pa.field("duration_s", pa.float64()),
    pa.field("words", pa.int64()),
    pa.field("seconds_per_word", pa.float64()),
    pa.field("silence_ratio", pa.float64()),
    pa.field("clipping_ratio", pa.float64()),
    pa.field("non_finite_samples", pa.int64()),
    pa.field("peak", pa.float64()),
    pa.field("cer", pa.float64()),  # null when ASR did not run
]


class GateOutputs(BaseModel):
    gated: ArtifactRef
    quarantine: ArtifactRef
    quality: ArtifactRef
    clusters: ArtifactRef | None = Field(default=None, description="Per-cluster rates; None when rows have no cluster.")
    reused: bool
    rows_passed: int
    rows_failed: int


def gate_specs(speech: Artifact, config: QualityGateConfig) -> dict[str, StageSpec]:
    """The gate's specs for `speech`: `quality` (per-row verdicts, keyed without the cluster rule, so
    changing it re-splits without re-judging) and `gated`, `quarantine`, `clusters` on top of it.
    An ASR model enters by the hash of its files, not by its path on this machine."""
    params, models = config.content_params(), {}
    if config.asr_model_path:
        # what the model is, not where this machine keeps it: the same files in another folder, the same version
        params["asr_model_path"] = "<local CTC model>"
        sha = model_files_sha256(Path(config.asr_model_path))
        models = {"asr": f"ctc@{sha[:16]}", "asr_files_sha256": sha}
    name = speech.ref.name
    # per-row verdicts do not depend on the cluster rule: changing it re-splits without re-judging
    row_params = {k: v for k, v in params.items() if k != "max_cluster_failure_rate"}
    quality = StageSpec(name=f"{name}_quality", params=row_params, code_version=GATE_CODE_VERSION, parents=[speech.ref], models=models)
    specs = {"quality": quality}
    quality_ref = ArtifactRef(name=quality.name, fingerprint=quality.fingerprint)
    for key, suffix in (("gated", "gated"), ("quarantine", "gate_quarantine"), ("clusters", "gate_clusters")):
        specs[key] = StageSpec(name=f"{name}_{suffix}", params=params, code_version=GATE_CODE_VERSION, parents=[speech.ref, quality_ref], models=models)
    return specs


def truncate(text: str | None, chars: int) -> str | None:
    """`text` cut to `chars` characters with its full length noted; None and shorter texts unchanged."""
    if text is None or len(text) <= chars:
        return text
    return text[:chars] + f"… [{len(text)} characters]"


class QualityPass(ShardedStage):
    """Metrics and verdict for every row, shard by shard (the expensive, resumable part)."""

    def __init__(self, store: ArtifactStore, spec: StageSpec, source: Artifact, config: QualityGateConfig, has_cluster: bool) -> None:
        super().__init__(store, spec, len(source.manifest.shards))
        self.source, self.config, self.has_cluster = source, config, has_cluster
        self.columns = ["id", "text", "audio", "sample_rate"] + ([CLUSTER] if has_cluster else [])
        cluster_field = [source.dataset().schema.field(CLUSTER)] if has_cluster else []
        self.schema = pa.schema(
            [
                pa.field("id", pa.string()),
                pa.field("text", pa.string()),
                pa.field("passed", pa.bool_()),
                pa.field("reasons", pa.list_(pa.string())),
                *METRIC_FIELDS,
                pa.field("asr_text", pa.string()),
                *cluster_field,
            ]
        )
        self._asr = None

    @property
    def asr(self):
        """The local CTC recognizer, loaded on first use; None when no `asr_model_path` is configured."""
        if self._asr is None and self.config.asr_model_path:
            from salad_core.tts.asr import LocalCTCRecognizer

            self._asr = LocalCTCRecognizer(self.config.asr_model_path, self.config.asr_device, self.config.asr_batch_size)
        return self._asr

    def num_shards(self) -> int:
        """One quality shard per speech shard."""
        return len(self.source.manifest.shards)

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """The verdicts of speech shard `shard`; the quality pass has no quarantine of its own."""
        return self.judge_shard(self.source.read_shard(shard, self.columns)), None

    def shard_input_digest(self, shard: int) -> str | None:
        """The speech shard's bytes: a shard copied from an earlier speech version (selective
        regeneration) is judged once; its verdicts are copied with it (ASR is the costly part)."""
        return self.source.manifest.shards[shard].sha256

    def stats(self) -> dict[str, Any]:
        """Whether ASR ran and with which model, recorded in the quality manifest."""
        return {"asr": ASR_NOT_RUN} if not self.config.asr_model_path else {"asr": {"model": self.config.asr_model_path}}

    def judge_shard(self, table: pa.Table) -> pa.Table:
        """One verdict row per row of `table` (`id, text, audio, sample_rate`, and `cluster` when kept).
        Undecodable audio or a sample rate other than the row's fails outright; the rest go through
        `judge_audio`, with a CER when ASR is configured (clips transcribed per sample rate)."""
        rows = table.to_pylist()
        decoded: list[tuple[np.ndarray, int] | str] = []
        for row in rows:
            try:
                audio, sr = decode_flac(row["audio"], source=f"row {row['id']}")
                decoded.append((audio, sr) if sr == row["sample_rate"] else f"stored at {sr} Hz, the row says {row['sample_rate']} Hz")
            except ValueError as exc:
                decoded.append(f"undecodable audio: {exc}")
        transcripts: dict[int, str] = {}
        if self.asr is not None:
            for sr in sorted({d[1] for d in decoded if not isinstance(d, str)}):
                same_rate = [i for i, d in enumerate(decoded) if not isinstance(d, str) and d[1] == sr]
                texts = self.asr.transcribe([decoded[i][0] for i in same_rate], sample_rate=sr)
                transcripts.update(zip(same_rate, texts))
        out = []
        for i, (row, audio) in enumerate(zip(rows, decoded)):
            record = {"id": row["id"], "text": truncate(row["text"], self.config.quarantine_text_chars), "asr_text": transcripts.get(i)}
            if self.has_cluster:
                record[CLUSTER] = row[CLUSTER]
            if isinstance(audio, str):
                record.update(passed=False, reasons=[audio])
            else:
                cer = character_error_rate(row["text"], transcripts[i]) if i in transcripts else None
                verdict = judge_audio(audio[0], audio[1], row["text"], self.config.thresholds, cer=cer)
                record.update(passed=verdict.passed, reasons=verdict.reasons, **verdict.metrics)
            out.append(record)
        return pa.Table.from_pylist(out, schema=self.schema)


def cluster_table(quality: pa.Table, max_failure_rate: float | None) -> pa.Table:
    """Rows, failures, failure rate and mean CER per cluster; `dropped` marks clusters above the limit."""
    grouped = quality.group_by(CLUSTER).aggregate([("id", "count"), ("passed", "sum"), ("cer", "mean")])
    rows = grouped.column("id_count")
    failed = pc.subtract(rows, pc.cast(grouped.column("passed_sum"), pa.int64()))
    rate = pc.divide(pc.cast(failed, pa.float64()), pc.cast(rows, pa.float64()))
    dropped = pc.greater(rate, max_failure_rate) if max_failure_rate is not None else pa.array([False] * len(rows))
    table = pa.table(
        {CLUSTER: grouped.column(CLUSTER), "rows": rows, "failed": failed, "failure_rate": rate, "mean_cer": grouped.column("cer_mean"), "dropped": dropped}
    )
    return table.sort_by(CLUSTER)


@task(name="quality-gate")
def gate_speech(speech: ArtifactRef, config: QualityGateConfig, store_config: StoreConfig) -> GateOutputs:
    """Judge every synthesised row; keep the good ones, quarantine the rest with their reasons."""
    store = ArtifactStore.open(store_config)
    log = stage_logger()
    source = store.get(speech)
    names = source.dataset().schema.names
    missing = [c for c in ("id", "text", "audio", "sample_rate") if c not in names]
    if missing:
        raise ValueError(f"{source.ref} has no column(s) {missing}: the gate needs a speech artifact")
    has_cluster = CLUSTER in names
    specs = gate_specs(source, config)
    wanted = ["gated", "quarantine"] + (["clusters"] if has_cluster else [])
    found = {k: store.find(specs[k]) for k in ["quality", *wanted]}
    if all(found.values()):
        log.info("%s@%s exists: reused, nothing judged", specs["gated"].name, specs["gated"].fingerprint)
        for ref in found.values():
            publish_artifact(store, ref, reused=True)
        gated = store.get(found["gated"]).manifest
        return GateOutputs(**found, reused=True, rows_passed=gated.num_rows, rows_failed=gated.stats.get("rows_failed", 0))

    quality_ref = QualityPass(store, specs["quality"], source, config, has_cluster).run().ref
    asr_stats = {"asr": store.get(quality_ref).manifest.stats.get("asr")}
    verdicts = store.get(quality_ref).to_table(columns=["id", "passed", "reasons", "cer", *([CLUSTER] if has_cluster else [])])

    clusters_ref, dropped = None, set()
    if has_cluster:
        clusters = cluster_table(verdicts, config.max_cluster_failure_rate)
        dropped = {c for c, d in zip(clusters.column(CLUSTER).to_pylist(), clusters.column("dropped").to_pylist()) if d}
        clusters_ref = write_table_artifact(store, specs["clusters"], clusters, {"dropped_clusters": sorted(dropped, key=str)})
    keep, reasons_per_row = row_decisions(verdicts, dropped, config.max_cluster_failure_rate, has_cluster)
    stats = gate_stats(verdicts, keep, dropped, asr_stats, has_cluster)

    quarantine_rows = store.get(quality_ref).to_table(columns=["id", "text", *([CLUSTER] if has_cluster else [])]).to_pylist()
    quarantine = pa.Table.from_pylist(
        [
            quarantine_row(row["id"], specs["quarantine"].name, reasons_per_row[i], excerpt_of=row["text"], **({CLUSTER: row[CLUSTER]} if has_cluster else {}))
            for i, row in enumerate(quarantine_rows)
            if not keep[i]
        ],
        schema=quarantine_schema([verdicts.schema.field(CLUSTER)] if has_cluster else []),
    )
    quarantine_ref = write_table_artifact(store, specs["quarantine"], quarantine, stats)  # committed before the pass list
    check_quarantine_rate(specs["quarantine"].name, quarantine_ref, stats["rows_passed"], stats["rows_in"] - stats["rows_passed"])
    stats["quarantine"] = str(quarantine_ref)
    gated_ref = GatedRows(store, specs["gated"], source, keep, stats).run().ref
    log.info("quality gate: %d of %d rows pass (%s)", stats["rows_passed"], stats["rows_in"], stats["failure_reasons"])
    return GateOutputs(
        gated=gated_ref,
        quarantine=quarantine_ref,
        quality=quality_ref,
        clusters=clusters_ref,
        reused=False,
        rows_passed=stats["rows_passed"],
        rows_failed=stats["rows_in"] - stats["rows_passed"],
    )


class GatedRows(ShardedStage):
    """Shard i of the pass list: the rows of speech shard i that passed, without their audio."""

    def __init__(self, store: ArtifactStore, spec: StageSpec, source: Artifact, keep: list[bool], stats: dict[str, Any]) -> None:
        super().__init__(store, spec, len(source.manifest.shards))
        self.source, self.keep, self._stats = source, keep, stats
        self.offsets = np.cumsum([0] + [s.rows for s in source.manifest.shards])
        self.schema = pa.schema([f for f in source.dataset().schema if f.name != "audio"])

    def num_shards(self) -> int:
        """One pass-list shard per speech shard: shard i holds the passing rows of speech shard i."""
        return len(self.source.manifest.shards)

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """The kept rows of speech shard `shard`, every column but `audio`; no quarantine here."""
        mask = pa.array(self.keep[self.offsets[shard] : self.offsets[shard + 1]], pa.bool_())
        return self.source.read_shard(shard, columns=self.schema.names).filter(mask), None

    def stats(self) -> dict[str, Any]:
        """The gate's stats as `gate_speech` computed them (rows in and passed, reasons, ASR, clusters)."""
        return self._stats


def row_decisions(verdicts: pa.Table, dropped: set, max_failure_rate: float | None, has_cluster: bool) -> tuple[list[bool], list[str]]:
    """Per row: kept?, and the reason text when not (its own failures, or its cluster's)."""
    passed = verdicts.column("passed").to_pylist()
    reasons = verdicts.column("reasons").to_pylist()
    clusters = verdicts.column(CLUSTER).to_pylist() if has_cluster else [None] * len(passed)
    keep, texts = [], []
    for ok, why, cluster in zip(passed, reasons, clusters):
        why = list(why or [])
        if has_cluster and cluster in dropped:
            why.append(f"cluster {cluster} dropped: its failure rate is above {max_failure_rate:.0%}")
        keep.append(ok and not (has_cluster and cluster in dropped))
        texts.append("; ".join(why))
    return keep, texts


def gate_stats(verdicts: pa.Table, keep: list[bool], dropped: set, asr_stats: dict, has_cluster: bool) -> dict[str, Any]:
    """The gate's manifest stats: rows in, passed and failed (by their own checks, and in all with
    dropped clusters), failure reasons by kind, ASR and its mean CER, and per-cluster failure rates
    (up to 256 clusters) with the clusters dropped."""
    reasons = Counter(r.split(":", 1)[0] for rs in verdicts.column("reasons").to_pylist() for r in (rs or []))
    cer = [c for c in verdicts.column("cer").to_pylist() if c is not None]
    stats: dict[str, Any] = {
        "rows_in": verdicts.num_rows,
        "rows_passed": sum(keep),
        "rows_failed": verdicts.num_rows - sum(keep),
        "rows_failed_checks": verdicts.num_rows - sum(verdicts.column("passed").to_pylist()),
        "failure_reasons": dict(reasons.most_common()),
        **asr_stats,
    }
    if cer:
        stats["asr"] = {**asr_stats["asr"], "mean_cer": round(float(np.mean(cer)), 4), "rows": len(cer)}
    if has_cluster:
        table = cluster_table(verdicts, None)
        if table.num_rows <= 256:  # more clusters: see the _gate_clusters artifact
            stats["cluster_failure_rates"] = {str(c): round(r, 4) for c, r in zip(table.column(CLUSTER).to_pylist(), table.column("failure_rate").to_pylist())}
        stats["dropped_clusters"] = sorted(map(str, dropped))
    return stats
