"""Prefect task: a checkpoint + the probe's speech and codes → the versioned `misalignment` artifact.

    from tasks.misalignment import score_misalignment, read_misalignment
    ref = score_misalignment(checkpoint, probe_codes, probe_speech, probe_texts, MisalignmentConfig(device="cuda"), store_config)
    scores = read_misalignment(store, ref)        # .m {cluster: M(c)}, .intervals, .status, .per_sample

Output ``misalignment`` (one shard, one table, two kinds of rows told apart by ``kind``):
- ``kind = "cluster"``: ``cluster, m`` (M(c), null when no probe sample was scored),
  ``ci_low, ci_high`` (bootstrap interval), ``n_samples, n_positions, status`` (``scored`` or
  ``no_probe``);
- ``kind = "sample"``: one per probe clip, ``id, cluster, m`` (its mean KL over its text-next
  positions), ``n_positions``, ``n_samples = 1``, ``status`` (``scored``, or why it was not:
  no clip survived synthesis and the gate, no word timings, no text-next position).
Lineage names the checkpoint and the probe set: the parents are the checkpoint, the probe codes,
the probe speech and the probe texts, and the per-clip scores below. The device, batch size and
Ray settings are not part of the fingerprint.

Scoring runs in two steps, so that a large probe spreads over a Ray pool (``config.ray``, as
embedding and Mimi do; ``n_actors: 0``, the default, scores in this process):
1. ``misalignment_samples``: one shard per shard of the probe codes, ``id, cluster, loss,
   n_positions, status`` per clip (``loss`` the raw mean KL, null when the clip was not scored).
   Each actor loads the checkpoint once and writes and commits its shards itself.
2. ``misalignment``: M(c) and its interval from those rows, in id order, so the figures do not
   depend on how the clips were sharded or which actor scored them.

The checkpoint is opened with ``tasks.checkpoint_store.load_student(store, ref, device)`` (the
training stage's loader: ``.student`` SpeechLM, ``.teacher`` FrozenTeacher, ``.tokenizer``,
``.config`` TrainConfig); probe clips are cut into text and speech runs with the same word ranges,
markers and cap as its training samples. Clips with another number of codebooks than the
checkpoint reads, or a tokenizer whose ids exceed the model's vocabulary, are clear errors.
The scoring itself is ``score_probe`` (plain models in, tables out), usable without the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from prefect import task

from functools import partial

import numpy as np

from salad_core.interleave.builder import InterleaveConfig
from salad_core.selection.config import MisalignmentConfig
from salad_core.selection.misalignment import NO_PROBE, SCORED, checked_losses, cluster_misalignment_table, score_batches
from salad_core.selection.probe_samples import probe_batches, probe_samples
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.ray_stage import EXECUTION_MODULES, run_stage
from tasks.sharded_stage import ShardedStage, TableStage, stage_logger, stage_version

MISALIGNMENT = "misalignment"
MISALIGNMENT_SAMPLES = "misalignment_samples"
MISALIGNMENT_CODE_VERSION = stage_version("misalignment-3", __name__, exclude=("salad_core.selection.report", *EXECUTION_MODULES))
MISALIGNMENT_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("cluster", pa.int32()),
        ("id", pa.string()),
        ("m", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("n_samples", pa.int64()),
        ("n_positions", pa.int64()),
        ("status", pa.string()),
    ]
)
SAMPLES_SCHEMA = pa.schema([("id", pa.string()), ("cluster", pa.int32()), ("loss", pa.float64()), ("n_positions", pa.int64()), ("status", pa.string())])
NO_CLIP = "no clip: the text failed synthesis or the quality gate"
NO_POSITION = "no text-next position"


def score_probe_samples(
    student,
    teacher,
    tokenizer,
    clips: list[dict],
    texts: dict[str, int],
    config: MisalignmentConfig,
    interleave: InterleaveConfig | None = None,
    pad_id: int = 0,
    num_codebooks: int | None = None,
) -> pa.Table:
    """One `misalignment_samples` row per clip in `clips` (id, word_timings, codes, n_frames,
    n_codebooks): its raw mean KL and text-next positions, or why it was not scored. `texts` maps
    every probe text id to its cluster; a clip outside it, or a loss that cannot be a KL, is an error."""
    unknown = sorted({c["id"] for c in clips} - set(texts))
    if unknown:
        raise ValueError(f"{len(unknown)} probe clip(s) are not in the probe texts, e.g. {unknown[0]!r}: codes and texts come from different probes")
    vocab_size = min(student.llm.get_input_embeddings().num_embeddings, teacher.llm.get_input_embeddings().num_embeddings)
    built = probe_samples(clips, tokenizer, interleave or InterleaveConfig(), seed=config.seed, num_codebooks=num_codebooks, vocab_size=vocab_size)
    batches = probe_batches(built.samples, built.frames, built.ids, config.batch_size, pad_id=pad_id)
    scored = score_batches(student, teacher, batches, device=config.device, chunk_size=config.chunk_size)
    checked_losses(np.asarray(scored.loss, dtype=np.float64), np.asarray(scored.positions, dtype=np.int64), scored.sample_ids)
    rows = [
        {"id": i, "cluster": texts[i], "loss": float(loss) if n else None, "n_positions": int(n), "status": SCORED if n else NO_POSITION}
        for i, loss, n in zip(scored.sample_ids, scored.loss, scored.positions)
    ]
    rows += [{"id": i, "cluster": texts[i], "loss": None, "n_positions": 0, "status": reason} for i, reason in sorted(built.skipped.items())]
    return pa.Table.from_pylist(rows, schema=SAMPLES_SCHEMA)


def misalignment_table(samples: pa.Table, texts: dict[str, int], config: MisalignmentConfig) -> tuple[pa.Table, dict]:
    """The `misalignment` table and stats from every probe clip's sample row; probe texts without a
    row are reported as `NO_CLIP`. Rows are taken in id order: the figures do not depend on sharding."""
    rows = sorted(samples.to_pylist(), key=lambda r: r["id"])
    seen = {r["id"] for r in rows}
    if len(seen) != len(rows):
        raise ValueError(f"{len(rows) - len(seen)} probe clip(s) were scored twice: the per-clip scores are damaged")
    through = [r for r in rows if r["status"] in (SCORED, NO_POSITION)]  # what went through the models
    result = cluster_misalignment_table(
        [np.nan if r["loss"] is None else r["loss"] for r in through],
        [r["n_positions"] for r in through],
        [r["cluster"] for r in through],
        expected_clusters=set(texts.values()),
        n_boot=config.n_boot,
        confidence=config.confidence,
        seed=config.seed,
        sample_ids=[r["id"] for r in through],
    )
    out = [
        {
            "kind": "cluster",
            "cluster": r.cluster,
            "id": None,
            "m": r.m,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "n_samples": r.n_samples,
            "n_positions": r.n_positions,
            "status": r.status,
        }
        for r in result.clusters
    ]
    for r in through:
        m = None if r["status"] != SCORED else max(r["loss"], 0.0)
        out.append({"kind": "sample", "cluster": r["cluster"], "id": r["id"], "m": m, "n_samples": 1, "n_positions": r["n_positions"], "status": r["status"]})
    not_scored = {**{i: NO_CLIP for i in texts if i not in seen}, **{r["id"]: r["status"] for r in rows if r["status"] not in (SCORED, NO_POSITION)}}
    for i, reason in sorted(not_scored.items()):
        out.append({"kind": "sample", "cluster": texts[i], "id": i, "m": None, "n_samples": 1, "n_positions": 0, "status": reason})
    scored_m = result.m
    stats = {
        "clusters": len(result.clusters),
        "clusters_scored": len(scored_m),
        "clusters_without_probe": result.unscored,
        "samples_scored": sum(1 for r in through if r["status"] == SCORED),
        "samples_not_scored": {reason: sum(1 for r in not_scored.values() if r == reason) for reason in sorted(set(not_scored.values()))},
        "positions": int(sum(r["n_positions"] for r in through)),
        "mean_m": sum(scored_m.values()) / len(scored_m) if scored_m else None,
        "n_boot": config.n_boot,
        "confidence": config.confidence,
    }
    return pa.Table.from_pylist(out, schema=MISALIGNMENT_SCHEMA), stats


def score_probe(student, teacher, tokenizer, clips: list[dict], texts: dict[str, int], config: MisalignmentConfig, **layout) -> tuple[pa.Table, dict]:
    """The misalignment table for probe `clips` in one call and without the store: `score_probe_samples`
    (which `layout`, i.e. interleave, pad_id and num_codebooks, goes to) then `misalignment_table`."""
    return misalignment_table(score_probe_samples(student, teacher, tokenizer, clips, texts, config, **layout), texts, config)


def probe_clips(store: ArtifactStore, probe_codes: ArtifactRef, probe_speech: ArtifactRef, shard: int | None = None) -> list[dict]:
    """Each clip's word timings (from the speech, or its gated list) joined with its codes by id:
    every clip, or those of codes shard `shard`."""
    return join_timings(store, probe_codes, word_timings(store, probe_speech), probe_speech, shard)


def join_timings(store: ArtifactStore, probe_codes: ArtifactRef, timings: dict[str, list], probe_speech: ArtifactRef, shard: int | None = None) -> list[dict]:
    """The clips of `probe_codes` (or of its shard `shard`) with their word `timings` (read once by the caller)."""
    columns = ["id", "codes", "n_frames", "n_codebooks"]
    source = store.get(probe_codes)
    codes = (source.to_table(columns=columns) if shard is None else source.read_shard(shard, columns=columns)).to_pylist()
    missing = [c["id"] for c in codes if c["id"] not in timings]
    if missing:
        raise ValueError(f"{len(missing)} coded clip(s) are not in {probe_speech}, e.g. {missing[0]!r}: codes and speech come from different runs")
    return [{**c, "word_timings": timings[c["id"]]} for c in codes]


def word_timings(store: ArtifactStore, probe_speech: ArtifactRef) -> dict[str, list]:
    """Clip id → word timings of the probe's speech (or speech_gated) artifact."""
    speech = store.get(probe_speech)
    if "word_timings" not in speech.dataset().schema.names:
        raise ValueError(f"{speech.ref} has no word_timings column: give the probe's speech (or speech_gated) artifact")
    return dict(zip(*speech.to_table(columns=["id", "word_timings"]).to_pydict().values()))


def probe_texts_by_id(store: ArtifactStore, probe_texts: ArtifactRef) -> dict[str, int]:
    """Probe text id → its cluster."""
    return dict(zip(*store.get(probe_texts).to_table(columns=["id", "cluster"]).to_pydict().values()))


def misalignment_spec(
    checkpoint: ArtifactRef, probe_codes: ArtifactRef, probe_speech: ArtifactRef, probe_texts: ArtifactRef, config: MisalignmentConfig
) -> StageSpec:
    """The per-clip scores' spec: the checkpoint and the probe set, the scoring config without machine facts."""
    return StageSpec(
        name=MISALIGNMENT_SAMPLES,
        params=config.content_params(),
        code_version=MISALIGNMENT_CODE_VERSION,
        parents=[checkpoint, probe_codes, probe_speech, probe_texts],
    )


class MisalignmentSamplesStage(ShardedStage):
    """Shard i of the per-clip scores from shard i of the probe codes; the checkpoint loads once per
    process (per Ray actor), on the first shard with work."""

    schema = SAMPLES_SCHEMA

    def __init__(
        self,
        store: ArtifactStore,
        spec: StageSpec,
        checkpoint: ArtifactRef,
        probe_codes: ArtifactRef,
        probe_speech: ArtifactRef,
        probe_texts: ArtifactRef,
        config: MisalignmentConfig,
    ):
        self.codes = store.get(probe_codes)
        super().__init__(store, spec, len(self.codes.manifest.shards))
        self.checkpoint, self.probe_codes, self.probe_speech, self.probe_texts, self.config = checkpoint, probe_codes, probe_speech, probe_texts, config
        self.bundle = None
        self.texts: dict[str, int] = {}
        self.timings: dict[str, list] = {}
        self.interleave: InterleaveConfig | None = None

    def num_shards(self) -> int:
        """One scores shard per probe codes shard."""
        return len(self.codes.manifest.shards)

    def load_model(self) -> None:
        """The checkpoint's student, teacher and tokenizer, and the probe's texts; loaded once."""
        if self.bundle is not None:
            return
        from tasks.checkpoint_store import load_student  # the training stage's loader

        self.bundle = load_student(self.store, self.checkpoint, device=self.config.device)
        self.texts = probe_texts_by_id(self.store, self.probe_texts)
        self.timings = word_timings(self.store, self.probe_speech)  # once, not once per shard
        self.interleave = interleave_like_training(self.bundle.config, self.bundle.tokenizer)

    def process_shard(self, shard: int) -> tuple[pa.Table, None]:
        """The sample rows of the clips in codes shard `shard`, cut and scored as the checkpoint trained."""
        self.load_model()
        bundle = self.bundle
        clips = join_timings(self.store, self.probe_codes, self.timings, self.probe_speech, shard)
        pad_id = getattr(bundle.tokenizer, "pad_token_id", None) or 0
        table = score_probe_samples(
            bundle.student, bundle.teacher, bundle.tokenizer, clips, self.texts, self.config, self.interleave, pad_id, bundle.config.num_codebooks
        )
        return table, None


@task(name="score-misalignment")
def score_misalignment(
    checkpoint: ArtifactRef,
    probe_codes: ArtifactRef,
    probe_speech: ArtifactRef,
    probe_texts: ArtifactRef,
    config: MisalignmentConfig,
    store_config: StoreConfig,
) -> ArtifactRef:
    """M(c) with intervals for every probe cluster, scored with the checkpoint's student and teacher
    (on `config.ray`'s actors when it names some); reused when committed."""
    store = ArtifactStore.open(store_config)
    spec = misalignment_spec(checkpoint, probe_codes, probe_speech, probe_texts, config)
    build = partial(
        MisalignmentSamplesStage, spec=spec, checkpoint=checkpoint, probe_codes=probe_codes, probe_speech=probe_speech, probe_texts=probe_texts, config=config
    )
    samples = run_stage(build(store), config.ray, build).ref
    table_spec = StageSpec(name=MISALIGNMENT, params=spec.params, code_version=MISALIGNMENT_CODE_VERSION, parents=[*spec.parents, samples])

    def aggregate() -> tuple[pa.Table, dict]:
        table, stats = misalignment_table(store.get(samples).to_table(), probe_texts_by_id(store, probe_texts), config)
        if stats["clusters_without_probe"]:
            stage_logger().warning("misalignment: clusters without a scored probe sample: %s", stats["clusters_without_probe"])
        return table, stats

    return TableStage(store, table_spec, aggregate).run().ref


def interleave_like_training(train_config, tokenizer) -> InterleaveConfig:
    """The probe is cut into runs exactly as the checkpoint's training samples were (tasks/train_worker.py)."""
    from salad_core.teacher.tokenizer import speech_marker_ids

    start_id, end_id = speech_marker_ids(tokenizer) if train_config.use_speech_markers else (None, None)
    return InterleaveConfig(
        text_words=train_config.text_words,
        speech_words=train_config.speech_words,
        max_positions=train_config.max_positions,
        speech_start_id=start_id,
        speech_end_id=end_id,
    )


@dataclass
class MisalignmentScores:
    m: dict[int, float]
    intervals: dict[int, tuple[float | None, float | None]]
    status: dict[int, str]
    per_sample: pa.Table


def read_misalignment(store: ArtifactStore, ref: ArtifactRef) -> MisalignmentScores:
    """M(c), intervals and status per cluster (scored clusters only in `.m`) and the per-sample rows of a `misalignment` version."""
    table = store.get(ref).to_table()
    if "kind" not in table.schema.names or "m" not in table.schema.names:
        raise ValueError(f"{ref} is not a misalignment artifact (no kind/m columns)")
    clusters = [r for r in table.to_pylist() if r["kind"] == "cluster"]
    return MisalignmentScores(
        m={r["cluster"]: r["m"] for r in clusters if r["status"] == SCORED},
        intervals={r["cluster"]: (r["ci_low"], r["ci_high"]) for r in clusters},
        status={r["cluster"]: r["status"] for r in clusters},
        per_sample=table.filter(pc.equal(table.column("kind"), "sample")),
    )


__all__ = [
    "MISALIGNMENT",
    "MISALIGNMENT_SAMPLES",
    "NO_CLIP",
    "NO_PROBE",
    "MisalignmentScores",
    "read_misalignment",
    "score_misalignment",
    "score_probe",
    "score_probe_samples",
]
