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
the probe speech and the probe texts. The device and batch size are not part of the fingerprint.

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

from salad_core.interleave.builder import InterleaveConfig
from salad_core.selection.config import MisalignmentConfig
from salad_core.selection.misalignment import NO_PROBE, SCORED, cluster_misalignment_table, score_batches
from salad_core.selection.probe_samples import probe_batches, probe_samples
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.publish import publish_artifact
from tasks.sharded_stage import stage_logger, stage_version, write_table_artifact

MISALIGNMENT = "misalignment"
MISALIGNMENT_CODE_VERSION = stage_version("misalignment-2", __name__, exclude=("salad_core.selection.report",))
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
NO_CLIP = "no clip: the text failed synthesis or the quality gate"


def score_probe(
    student,
    teacher,
    tokenizer,
    clips: list[dict],
    texts: dict[str, int],
    config: MisalignmentConfig,
    interleave: InterleaveConfig | None = None,
    pad_id: int = 0,
    num_codebooks: int | None = None,
) -> tuple[pa.Table, dict]:
    """The misalignment table for probe `clips` (id, word_timings, codes, n_frames, n_codebooks);
    `texts` maps every probe text id to its cluster (ids without a clip are reported, not scored)."""
    clip_ids = {c["id"] for c in clips}
    unknown = sorted(clip_ids - set(texts))
    if unknown:
        raise ValueError(f"{len(unknown)} probe clip(s) are not in the probe texts, e.g. {unknown[0]!r}: codes and texts come from different probes")
    vocab_size = min(student.llm.get_input_embeddings().num_embeddings, teacher.llm.get_input_embeddings().num_embeddings)
    built = probe_samples(clips, tokenizer, interleave or InterleaveConfig(), seed=config.seed, num_codebooks=num_codebooks, vocab_size=vocab_size)
    batches = probe_batches(built.samples, built.frames, built.ids, config.batch_size, pad_id=pad_id)
    scored = score_batches(student, teacher, batches, device=config.device, chunk_size=config.chunk_size)
    result = cluster_misalignment_table(
        scored.loss,
        scored.positions,
        [texts[i] for i in scored.sample_ids],
        expected_clusters=set(texts.values()),
        n_boot=config.n_boot,
        confidence=config.confidence,
        seed=config.seed,
        sample_ids=scored.sample_ids,
    )
    rows = [
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
    for i, loss, n in zip(scored.sample_ids, scored.loss, scored.positions):
        rows.append(
            {
                "kind": "sample",
                "cluster": texts[i],
                "id": i,
                "m": None if n == 0 else max(loss, 0.0),
                "n_samples": 1,
                "n_positions": n,
                "status": SCORED if n else "no text-next position",
            }
        )
    not_scored = {**{i: NO_CLIP for i in texts if i not in clip_ids}, **built.skipped}
    for i, reason in sorted(not_scored.items()):
        rows.append({"kind": "sample", "cluster": texts[i], "id": i, "m": None, "n_samples": 1, "n_positions": 0, "status": reason})
    scored_m = result.m
    stats = {
        "clusters": len(result.clusters),
        "clusters_scored": len(scored_m),
        "clusters_without_probe": result.unscored,
        "samples_scored": sum(1 for n in scored.positions if n),
        "samples_not_scored": {reason: sum(1 for r in not_scored.values() if r == reason) for reason in sorted(set(not_scored.values()))},
        "positions": int(sum(scored.positions)),
        "mean_m": sum(scored_m.values()) / len(scored_m) if scored_m else None,
        "n_boot": config.n_boot,
        "confidence": config.confidence,
    }
    return pa.Table.from_pylist(rows, schema=MISALIGNMENT_SCHEMA), stats


def probe_clips(store: ArtifactStore, probe_codes: ArtifactRef, probe_speech: ArtifactRef) -> list[dict]:
    """Each clip's word timings (from the speech, or its gated list) joined with its codes by id."""
    codes = store.get(probe_codes).to_table(columns=["id", "codes", "n_frames", "n_codebooks"]).to_pylist()
    speech = store.get(probe_speech)
    if "word_timings" not in speech.dataset().schema.names:
        raise ValueError(f"{speech.ref} has no word_timings column: give the probe's speech (or speech_gated) artifact")
    timings = dict(zip(*speech.to_table(columns=["id", "word_timings"]).to_pydict().values()))
    missing = [c["id"] for c in codes if c["id"] not in timings]
    if missing:
        raise ValueError(f"{len(missing)} coded clip(s) are not in {speech.ref}, e.g. {missing[0]!r}: codes and speech come from different runs")
    return [{**c, "word_timings": timings[c["id"]]} for c in codes]


def misalignment_spec(
    checkpoint: ArtifactRef, probe_codes: ArtifactRef, probe_speech: ArtifactRef, probe_texts: ArtifactRef, config: MisalignmentConfig
) -> StageSpec:
    return StageSpec(
        name=MISALIGNMENT, params=config.content_params(), code_version=MISALIGNMENT_CODE_VERSION, parents=[checkpoint, probe_codes, probe_speech, probe_texts]
    )


@task(name="score-misalignment")
def score_misalignment(
    checkpoint: ArtifactRef,
    probe_codes: ArtifactRef,
    probe_speech: ArtifactRef,
    probe_texts: ArtifactRef,
    config: MisalignmentConfig,
    store_config: StoreConfig,
) -> ArtifactRef:
    """M(c) with intervals for every probe cluster, scored with the checkpoint's student and teacher."""
    store = ArtifactStore.open(store_config)
    spec = misalignment_spec(checkpoint, probe_codes, probe_speech, probe_texts, config)
    existing = store.find(spec)
    if existing:
        stage_logger().info("%s@%s exists: reused, nothing scored", spec.name, spec.fingerprint)
        publish_artifact(store, existing, reused=True)
        return existing
    from tasks.checkpoint_store import load_student  # the training stage's loader

    bundle = load_student(store, checkpoint, device=config.device)
    texts = dict(zip(*store.get(probe_texts).to_table(columns=["id", "cluster"]).to_pydict().values()))
    pad_id = getattr(bundle.tokenizer, "pad_token_id", None) or 0
    table, stats = score_probe(
        bundle.student,
        bundle.teacher,
        bundle.tokenizer,
        probe_clips(store, probe_codes, probe_speech),
        texts,
        config,
        interleave_like_training(bundle.config, bundle.tokenizer),
        pad_id,
        bundle.config.num_codebooks,
    )
    if stats["clusters_without_probe"]:
        stage_logger().warning("misalignment: clusters without a scored probe sample: %s", stats["clusters_without_probe"])
    return write_table_artifact(store, spec, table, stats)


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


__all__ = ["MISALIGNMENT", "NO_CLIP", "NO_PROBE", "MisalignmentScores", "read_misalignment", "score_misalignment", "score_probe"]
