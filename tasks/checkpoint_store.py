"""Training checkpoints as versioned artifacts, and loading a trained student back.

    from tasks.checkpoint_store import load_student
    bundle = load_student(store, "checkpoint@3f2a", device="cpu")
    bundle.student      # SpeechLM in eval mode, codes_to_latents set from the Mimi weights of its data
    bundle.teacher      # FrozenTeacher (the original text LLM)
    bundle.tokenizer    # the teacher's tokenizer (also the student's)
    bundle.config       # TrainConfig the checkpoint was trained with

A checkpoint version (name `checkpoint`) has two shards of checkpoint tensor rows
(salad_core/training/tensor_table.py): shard 0 the student's weights (bit-exact, loaded without
any pickle), shard 1 DeepSpeed's engine state (optimizer moments, partitioned per process under
ZeRO) as opaque files, verified against their SHA-256 before DeepSpeed reads them (DeepSpeed
reads them with torch.load, so the hash check is what stands between a tampered file and it).
The manifest's parents are the exact data artifacts, the teacher, tokenizer, Mimi weights and the
parent checkpoint; its params are the run (config, mixture, data refs, world size) plus the step
and kind; its stats hold the data position, tokens seen, the table digests and the metrics so far.
Same run and step => same fingerprint => a rerun finds the checkpoint instead of training again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import AutoConfig, PreTrainedTokenizerFast

from salad_core.mimi import MimiConfig, MimiTokenizer
from salad_core.model import AdapterConfig, SpeechAdapter, SpeechLM, llm_from_config
from salad_core.objective.teacher import FrozenTeacher
from salad_core.training.config import TrainConfig
from salad_core.training.tensor_table import (
    TENSOR_SCHEMA,
    TamperedCheckpoint,
    files_to_table,
    table_digest,
    table_to_files,
    table_to_tensors,
    tensors_to_table,
)
from storage import ArtifactRef, ArtifactStore, StageSpec
from tasks.scratch import scratch_folder
from tasks.sharded_stage import stage_version, write_sharded_artifact
from tasks.teacher import load_teacher

CHECKPOINT = "checkpoint"
METRICS = "train_metrics"
# what the trainer process runs: the worker and everything it imports (training, model, objective,
# interleaving, this checkpoint format, the teacher loader), so an edit to any of them re-trains
TRAIN_CODE_VERSION = stage_version("train-2", "tasks.train_worker")
STUDENT_SHARD, ENGINE_SHARD = 0, 1


class SourceRefs(BaseModel):
    """The artifacts of one mixture source: speech = codes + the audio artifact with transcripts; text = corpus."""

    model_config = ConfigDict(extra="forbid")

    codes: ArtifactRef | None = None
    transcripts: ArtifactRef | None = None
    corpus: ArtifactRef | None = None

    def refs(self) -> list[ArtifactRef]:
        """The artifacts this source names, those set, in codes, transcripts, corpus order."""
        return [r for r in (self.codes, self.transcripts, self.corpus) if r is not None]


class RunIdentity(BaseModel):
    """What decides a training run's weights: config, data, teacher, parent checkpoint, world size."""

    model_config = ConfigDict(extra="forbid")

    config: TrainConfig
    data: dict[str, SourceRefs]
    teacher: ArtifactRef
    tokenizer: ArtifactRef
    mimi_weights: ArtifactRef | None = None
    mimi_model: str | None = None  # the codes' models["mimi"]: which codec made them
    parent: ArtifactRef | None = None
    world_size: int
    precision: str = "fp32"  # resolved (auto -> bf16 on GPU, fp32 on CPU): it decides the weights
    # taken once, where the run is planned, so the launched processes name versions exactly as the planner
    code_version: str = Field(default_factory=lambda: TRAIN_CODE_VERSION)

    def params(self) -> dict[str, Any]:
        """The run's manifest params: train config content, data refs per source, world size, precision, parent checkpoint."""
        return {
            "train": self.config.content_params(),
            "data": {
                name: {k: str(v) for k, v in (("codes", s.codes), ("transcripts", s.transcripts), ("corpus", s.corpus)) if v}
                for name, s in sorted(self.data.items())
            },
            "world_size": self.world_size,
            "precision": self.precision,
            "parent_checkpoint": str(self.parent) if self.parent else None,
        }

    def parents(self) -> list[ArtifactRef]:
        """The run's lineage: data artifacts, teacher, tokenizer, Mimi weights and parent checkpoint, each once."""
        refs = [r for s in self.data.values() for r in s.refs()] + [self.teacher, self.tokenizer]
        refs += [r for r in (self.mimi_weights, self.parent) if r is not None]
        seen, out = set(), []
        for r in refs:
            if str(r) not in seen:
                seen.add(str(r))
                out.append(ArtifactRef(name=r.name, fingerprint=r.fingerprint))
        return out

    def models(self) -> dict[str, str]:
        """The codec that made the speech codes (`mimi`), when known: another codec is another version."""
        return {"mimi": self.mimi_model} if self.mimi_model else {}

    def checkpoint_spec(self, step: int, kind: str) -> StageSpec:
        """The spec of this run's checkpoint at `step` (`kind` as the trainer names it, e.g. `final`): same run,
        step and kind, same fingerprint, so a rerun finds the checkpoint instead of training again."""
        return StageSpec(
            name=CHECKPOINT, params={**self.params(), "step": step, "kind": kind}, code_version=self.code_version, parents=self.parents(), models=self.models()
        )

    def metrics_spec(self) -> StageSpec:
        """The spec of this run's training-metrics table (one version per run, not per step)."""
        return StageSpec(name=METRICS, params=self.params(), code_version=self.code_version, parents=self.parents(), models=self.models())


def write_checkpoint(
    store: ArtifactStore,
    spec: StageSpec,
    student_state: dict[str, torch.Tensor],
    engine_files: dict[str, bytes],
    stats: dict[str, Any],
) -> ArtifactRef:
    """Commit one checkpoint version (reused as is when the same spec is already committed)."""
    student = tensors_to_table(student_state, part="student")
    engine = files_to_table(engine_files, part="engine")
    stats = {
        **stats,
        "student_digest": table_digest(student),
        "engine_digest": table_digest(engine),
        "student_tensors": len(student_state),
        "engine_files": sorted(engine_files),
    }
    ref, _ = write_sharded_artifact(
        store, spec, lambda committed: [(STUDENT_SHARD, student), (ENGINE_SHARD, engine)], lambda: stats, schema=TENSOR_SCHEMA, expected_shards=2
    )
    return ref


def _read(store: ArtifactStore, ref: ArtifactRef | str, shard: int) -> tuple[pa.Table, dict, str]:
    artifact = store.get(ref)
    if artifact.manifest.name != CHECKPOINT:
        raise ValueError(f"{artifact.ref} is not a training checkpoint (artifact name {artifact.manifest.name!r})")
    try:
        table = artifact.read_shard(shard)
    except (pa.ArrowInvalid, OSError) as err:
        raise TamperedCheckpoint(f"{artifact.ref} shard {shard} is not a readable Parquet tensor table (a pickle or torch.save file?): refused: {err}") from err
    return table, artifact.manifest.stats, str(artifact.ref)


def read_student_state(store: ArtifactStore, ref: ArtifactRef | str) -> dict[str, torch.Tensor]:
    """The student's weights of checkpoint `ref`, bit-exact and without any pickle; ValueError when `ref`
    is not a checkpoint, TamperedCheckpoint when the stored table fails its checks or manifest digest."""
    table, stats, label = _read(store, ref, STUDENT_SHARD)
    return table_to_tensors(table, f"{label} (student weights)", stats["student_digest"])


def read_engine_files(store: ArtifactStore, ref: ArtifactRef | str) -> dict[str, bytes]:
    """DeepSpeed's engine-state files of checkpoint `ref`, verified against the manifest's digest before
    DeepSpeed's torch.load sees them; TamperedCheckpoint on any mismatch."""
    table, stats, label = _read(store, ref, ENGINE_SHARD)
    return table_to_files(table, f"{label} (engine state)", stats["engine_digest"])


def load_code_decoder(store: ArtifactStore, mimi_weights: ArtifactRef | None, num_codebooks: int, device: str | torch.device = "cpu"):
    """The frozen quantizer that turns stored codes into latents: fitted weights from the store, else the real checkpoint."""
    config = MimiConfig(num_codebooks=num_codebooks)
    if mimi_weights is None:
        tokenizer = MimiTokenizer.load(config.model_copy(update={"weights": "real"}))
    else:
        blob = store.get(mimi_weights).to_table(columns=["safetensors"]).column("safetensors")[0].as_py()
        with scratch_folder("mimi") as tmp:
            path = Path(tmp) / "mimi.safetensors"
            path.write_bytes(blob)
            tokenizer = MimiTokenizer.load(config.model_copy(update={"weights": "auto", "weights_path": str(path)}))
    return tokenizer.code_decoder().to(device)


def student_from_state(state: dict[str, torch.Tensor], llm_config_json: str, adapter: dict, codes_to_latents=None) -> SpeechLM:
    """A SpeechLM built from `llm_config_json` and `adapter` in the float dtype of `state`, with `state`
    loaded; ValueError when the weights do not fit the config (only tied weights may be missing)."""
    fields = json.loads(llm_config_json)
    llm_config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    floats = {t.dtype for t in state.values() if t.is_floating_point()}
    dtype = floats.pop() if len(floats) == 1 else torch.float32
    student = SpeechLM(llm_from_config(llm_config, dtype=dtype), SpeechAdapter(AdapterConfig(**adapter)).to(dtype), codes_to_latents)
    missing, unexpected = student.load_state_dict(state, strict=False)
    tied = {"llm." + k for k in (getattr(student.llm, "all_tied_weights_keys", None) or {})} if llm_config.tie_word_embeddings else set()
    if unexpected or set(missing) - tied:
        raise ValueError(f"checkpoint weights do not fit their config: missing {sorted(set(missing) - tied)[:5]}, unexpected {sorted(unexpected)[:5]}")
    return student


@dataclass
class StudentBundle:
    student: SpeechLM
    teacher: FrozenTeacher
    tokenizer: PreTrainedTokenizerFast
    config: TrainConfig
    ref: ArtifactRef
    stats: dict


def load_student(store: ArtifactStore, ref: ArtifactRef | str, device: str | torch.device = "cpu") -> StudentBundle:
    """A trained student (eval mode), its frozen teacher, tokenizer and config, from a checkpoint version."""
    artifact = store.get(ref)
    stats, params = artifact.manifest.stats, artifact.manifest.params
    config = TrainConfig.model_validate({**params["train"], "cpu_threads": None})
    state = read_student_state(store, artifact.ref)
    teacher_ref = ArtifactRef.model_validate(stats["teacher"])
    mimi_ref = ArtifactRef.model_validate(stats["mimi_weights"]) if stats.get("mimi_weights") else None
    decoder = load_code_decoder(store, mimi_ref, config.num_codebooks, device) if stats.get("has_speech", True) else None
    student = student_from_state(state, stats["llm_config"], stats["adapter"], decoder).to(device).eval()
    teacher_llm, tokenizer = load_teacher(store, teacher_ref, device=device)
    return StudentBundle(student=student, teacher=FrozenTeacher(teacher_llm), tokenizer=tokenizer, config=config, ref=artifact.ref, stats=stats)
