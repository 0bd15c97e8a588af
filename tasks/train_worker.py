"""One training process, as started by the `deepspeed` launcher (never in the Prefect worker's process).

    deepspeed --num_gpus 2 --master_port 29500 --module tasks.train_worker --job job.json
    (tasks/train.py writes job.json and runs this; on CPU `--num_gpus N` starts N gloo processes)

It opens the store, reads the data artifacts (codes joined by id with their transcripts and word
timings; corpus text for replay), builds the student from the teacher's weights (or the parent
checkpoint's, Stage II), and runs salad_core.training.train_loop on a DeepSpeed engine. At each
checkpoint step every process writes DeepSpeed's engine state to a local folder; process 0
commits the checkpoint artifact (student weights as tensor tables + the engine files, with the data
position and metrics so far). Started again after a crash it resumes from the newest committed
checkpoint of the same run: same weights, optimizer, LR schedule and data position.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import deepspeed
import pyarrow as pa
import torch
import torch.distributed as dist
from pydantic import BaseModel, ConfigDict

from salad_core.interleave.builder import InterleaveConfig
from salad_core.objective.scaling import fit_scaling_law
from salad_core.objective.teacher import FrozenTeacher
from salad_core.teacher.tokenizer import speech_marker_ids
from salad_core.training.deepspeed_config import deepspeed_config, resolve_precision
from salad_core.training.mixture import Mixture
from salad_core.training.rows import TrainingDataError
from salad_core.training.schedule import wsd_factor
from salad_core.training.sources import SpeechSource, TextSource
from salad_core.training.student import DistillModule, build_student, enable_activation_checkpointing, export_state, param_groups
from salad_core.training.trainer import TrainState, checkpoint_steps, collate_items, train_loop
from salad_core.training.plot import scaling_plot_png
from salad_core.training.launch import remove_deepspeed_shm_buffers
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.checkpoint_store import (
    RunIdentity,
    load_code_decoder,
    read_engine_files,
    read_student_state,
    write_checkpoint,
)
from tasks.sharded_stage import stage_logger, write_table_artifact

CODES_COLUMNS = ["id", "codes", "n_frames", "n_codebooks"]
TRANSCRIPT_COLUMNS = ["id", "text", "word_timings"]
PLOT = "train_scaling_plot"
PLOT_SCHEMA = pa.schema([("png", pa.binary()), ("fit_json", pa.string())])
METRICS_SCHEMA = pa.schema([("kind", pa.string()), ("step", pa.int64()), ("tokens", pa.int64()), ("metric", pa.string()), ("value", pa.float64())])


class TrainJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run: RunIdentity
    store: StoreConfig
    workdir: str


# ---------------------------------------------------------------------------------------- data


class SpeechRows:
    """Codes rows joined by id with their audio artifact's transcript and word timings."""

    def __init__(self, store: ArtifactStore, codes: ArtifactRef, transcripts: ArtifactRef):
        self.codes, self.audio = store.get(codes), store.get(transcripts)
        self.label = f"{self.codes.ref} (+ {self.audio.ref})"
        for artifact, needed in ((self.codes, CODES_COLUMNS), (self.audio, TRANSCRIPT_COLUMNS)):
            names = [f["name"] for f in artifact.manifest.schema_fields]
            missing = [c for c in needed if c not in names]
            if missing:
                what = "word timings" if "word_timings" in missing else "columns"
                raise TrainingDataError(
                    f"{artifact.ref} has no {what} {missing}: a speech source needs codes {CODES_COLUMNS} and transcripts {TRANSCRIPT_COLUMNS}"
                )
        if self.audio.ref.fingerprint not in {p.fingerprint for p in self.codes.manifest.parents}:
            raise TrainingDataError(f"{self.codes.ref} was not made from {self.audio.ref} (not among its parents): wrong transcripts for these codes")
        self.num_shards = len(self.codes.manifest.shards)
        self._index: dict[str, dict] | None = None

    def _transcripts(self, shard: int, ids: list[str]) -> dict[str, dict]:
        if len(self.audio.manifest.shards) == self.num_shards:  # tokenize writes shard i from input shard i
            rows = {r["id"]: r for r in self.audio.read_shard(shard, columns=TRANSCRIPT_COLUMNS).to_pylist()}
            if all(i in rows for i in ids):
                return rows
        if self._index is None:
            self._index = {r["id"]: r for r in self.audio.to_table(columns=TRANSCRIPT_COLUMNS).to_pylist()}
        return self._index

    def read_shard(self, shard: int) -> list[dict]:
        """Codes shard `shard` as training rows, each with its transcript's `text` and `word_timings`;
        a codes row without a transcript row raises TrainingDataError."""
        rows = self.codes.read_shard(shard, columns=CODES_COLUMNS).to_pylist()
        transcripts = self._transcripts(shard, [r["id"] for r in rows])
        out = []
        for row in rows:
            t = transcripts.get(row["id"])
            if t is None:
                raise TrainingDataError(f"{self.label}: codes row {row['id']!r} has no transcript row")
            out.append({**row, "text": t["text"], "word_timings": t["word_timings"]})
        return out


class TextRows:
    def __init__(self, store: ArtifactStore, corpus: ArtifactRef):
        self.corpus = store.get(corpus)
        self.label = str(self.corpus.ref)
        self.num_shards = len(self.corpus.manifest.shards)

    def read_shard(self, shard: int) -> list[dict]:
        """Corpus shard `shard` as `id, text` rows."""
        return self.corpus.read_shard(shard, columns=["id", "text"]).to_pylist()


def build_data(store: ArtifactStore, run: RunIdentity, tokenizer):
    """The run's training mixture (its speech and text sources, weighted as configured) and the
    held-out batch from the first speech source (None without one or with no held-out fraction).
    Raises TrainingDataError when a mixture source lacks the artifacts it needs."""
    cfg = run.config
    start_id, end_id = speech_marker_ids(tokenizer) if cfg.use_speech_markers else (None, None)
    interleave = InterleaveConfig(
        text_words=cfg.text_words, speech_words=cfg.speech_words, max_positions=cfg.max_positions, speech_start_id=start_id, speech_end_id=end_id
    )
    sources, held_out_source = {}, None
    for src in cfg.mixture:
        refs = run.data.get(src.name)
        if refs is None:
            raise TrainingDataError(f"mixture source {src.name!r} has no data artifacts (an empty mixture source)")
        if src.kind == "speech":
            if refs.codes is None or refs.transcripts is None:
                raise TrainingDataError(f"speech source {src.name!r} needs codes and transcripts artifacts")
            source = SpeechSource(
                src.name, SpeechRows(store, refs.codes, refs.transcripts), tokenizer, interleave, cfg.num_codebooks, cfg.seed, cfg.held_out_fraction
            )
            held_out_source = held_out_source or source
        else:
            if refs.corpus is None:
                raise TrainingDataError(f"text source {src.name!r} needs a corpus artifact")
            source = TextSource(src.name, TextRows(store, refs.corpus), tokenizer, cfg.max_positions, tokenizer.eos_token_id)
        sources[src.name] = (source, src.weight)
    mixture = Mixture(sources, cfg.micro_batch_positions, cfg.max_rows, cfg.seed)
    held_out = None
    if held_out_source is not None and cfg.held_out_fraction > 0:
        held_out = collate_items(held_out_source.held_out_items(cfg.held_out_samples), tokenizer.pad_token_id)
    return mixture, held_out


# ------------------------------------------------------------------------------------- process


class Watchdog:
    """Stop when the launcher or the task that started it is gone (kill -9 of `deepspeed` leaves its
    children running otherwise, training on as orphans next to the rerun that resumes the run)."""

    def __init__(self):
        self.pids = []
        if os.environ.get("SALAD_TRAIN_WATCH") == "1":
            parent = os.getppid()
            self.pids = [parent, _ppid(parent), int(os.environ.get("SALAD_TRAIN_OWNER_PID", "0"))]

    def alive(self) -> bool:
        """False once the launcher, its parent or the owning task is gone; always True unless `SALAD_TRAIN_WATCH=1`."""
        return all(_running(p) for p in self.pids if p > 1)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class StoreHooks:
    def __init__(self, store, run: RunIdentity, rank: int, workdir: Path, student_info: dict, watchdog: Watchdog, log: list):
        self.store, self.run, self.rank, self.workdir = store, run, rank, workdir
        self.info, self.watchdog, self.records = student_info, watchdog, log
        self.logger = stage_logger()

    def alive(self) -> bool:
        """Whether training may go on: the watchdog's verdict."""
        return self.watchdog.alive()

    def log(self, record: dict) -> None:
        """Keep `record` for the checkpoint and metrics artifacts, log it, and print the progress line
        (`SALAD_PROGRESS kind step steps`) that the launching task reads."""
        self.records.append(record)
        if record["kind"] == "train":
            self.logger.warning(
                "step %d/%d tokens %d loss %.4f kl %.4f nll %.4f %.0f tok/s lr %.2e/%.2e",
                record["step"],
                self.run.config.steps,
                record["tokens"],
                record["loss"],
                record["kl"],
                record["nll"],
                record["tokens_per_s"],
                record["lr_adapter"],
                record["lr_llm"],
            )
        else:
            self.logger.warning("eval step %d: M %.4f F %.4f", record["step"], record["M"], record["F"])
        print(f"SALAD_PROGRESS {record['kind']} {record['step']} {self.run.config.steps}", flush=True)

    def save(self, engine, state: TrainState, kind: str) -> None:
        """Checkpoint `state` as `kind`: every process saves its engine state, then process 0 commits the
        checkpoint artifact (student weights, engine files, data position, metrics so far); one already
        committed is not written again. Every process must call it (it waits at barriers)."""
        spec = self.run.checkpoint_spec(state.step, kind)
        tag = f"step{state.step}"
        folder = self.workdir / "ckpt"
        done = self.store.find(spec) is not None
        if not done:
            engine.save_checkpoint(str(folder), tag=tag, save_latest=False)
        student_state = _student_state(engine)
        dist.barrier()
        if self.rank == 0 and not done:
            files = {str(p.relative_to(folder / tag)): p.read_bytes() for p in sorted((folder / tag).rglob("*")) if p.is_file()}
            stats = {
                **self.info,
                "kind": kind,
                "step": state.step,
                "tokens": state.tokens,
                "data_position": state.data,
                "engine_tag": tag,
                "metrics": list(self.records),
            }
            ref = write_checkpoint(self.store, spec, student_state, files, stats)
            self.logger.warning("checkpoint %s (%s, step %d) committed", ref, kind, state.step)
            shutil.rmtree(folder / tag, ignore_errors=True)
        dist.barrier()


def _student_state(engine) -> dict[str, torch.Tensor]:
    if engine.zero_optimization_stage() == 3:
        full = engine._zero3_consolidated_16bit_state_dict() or {}
        return {k.removeprefix("student."): v for k, v in full.items()}
    return export_state(engine.module.student)


def _latest_checkpoint(store: ArtifactStore, run: RunIdentity):
    for step, kind in sorted(checkpoint_steps(run.config).items(), reverse=True):
        if (ref := store.find(run.checkpoint_spec(step, kind))) is not None:
            return ref
    return None


def _load_engine(engine, store: ArtifactStore, ref: ArtifactRef, workdir: Path, **kwargs) -> dict:
    stats = store.get(ref).manifest.stats
    folder = workdir / f"resume-{ref.fingerprint}"
    if dist.get_rank() == 0:  # one copy in the work folder, which every rank shares (one node, or cluster.shared_workdir)
        for name, raw in read_engine_files(store, ref).items():  # verified against the manifest's digest
            path = folder / stats["engine_tag"] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
    dist.barrier()
    engine.load_checkpoint(str(folder), tag=stats["engine_tag"], **kwargs)
    return stats


def write_metrics(store: ArtifactStore, run: RunIdentity, records: list[dict]) -> ArtifactRef:
    """Commit the run's metrics (one row per numeric value of each record) with the last eval and a
    scaling-law fit of M over tokens (or why there is none), and its plot as `train_scaling_plot`;
    returns the metrics ref."""
    rows = []
    for r in records:
        for k, v in r.items():
            if k not in ("kind", "step", "tokens") and isinstance(v, (int, float)):
                rows.append({"kind": r["kind"], "step": r["step"], "tokens": r["tokens"], "metric": k, "value": float(v)})
    evals = [r for r in records if r["kind"] == "eval" and r["tokens"] > 0]
    stats: dict = {"last_eval": evals[-1] if evals else None}
    points = [(r["tokens"], r["M"]) for r in evals if r["M"] > 0]
    fit = None
    if len(points) >= 3:
        try:
            fit = fit_scaling_law([p[0] for p in points], [p[1] for p in points])
            stats["scaling_fit"] = fit.model_dump()
        except (RuntimeError, ValueError) as err:  # too few / too flat points: say so instead of failing the run
            stats["scaling_fit_error"] = str(err)
    else:
        stats["scaling_fit_error"] = f"{len(points)} eval points with tokens > 0; the fit needs 3"
    metrics = write_table_artifact(store, run.metrics_spec(), pa.Table.from_pylist(rows, schema=METRICS_SCHEMA), stats)
    png = scaling_plot_png([p[0] for p in points], [p[1] for p in points], fit, title=f"stage {run.config.stage}: M(D)")
    plot_spec = StageSpec(name=PLOT, params={}, code_version=run.metrics_spec().code_version, parents=[metrics])
    write_table_artifact(store, plot_spec, pa.Table.from_pylist([{"png": png, "fit_json": json.dumps(stats.get("scaling_fit"))}], schema=PLOT_SCHEMA))
    return metrics


def main(argv: list[str] | None = None) -> None:
    """One training process: reads the TrainJob named by `--job`, refuses a world size or precision
    other than the run was planned for, resumes from the run's newest committed checkpoint, trains,
    and (process 0) commits the metrics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True, help="JSON file of a TrainJob")
    parser.add_argument("--local_rank", type=int, default=int(os.environ.get("LOCAL_RANK", 0)))
    args = parser.parse_args(argv)
    job = TrainJob.model_validate_json(Path(args.job).read_text())
    run, cfg = job.run, job.run.config
    watchdog = Watchdog()
    on_gpu = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    if cfg.cpu_threads and not on_gpu:
        torch.set_num_threads(cfg.cpu_threads)
    deepspeed.init_distributed(dist_backend="nccl" if on_gpu else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    if world != run.world_size:
        raise RuntimeError(f"launched with {world} processes, the run was planned for {run.world_size}")
    device = torch.device("cuda", args.local_rank) if on_gpu else torch.device("cpu")
    if on_gpu:
        torch.cuda.set_device(device)
    if resolve_precision(cfg, on_gpu) != run.precision:
        raise RuntimeError(f"the run was planned for {run.precision}, this machine resolves {cfg.precision} to {resolve_precision(cfg, on_gpu)}")
    dtype = torch.bfloat16 if run.precision == "bf16" else torch.float32
    workdir = Path(job.workdir)
    store = ArtifactStore.open(job.store)

    llm, tokenizer = _teacher_llm(store, run.teacher)
    teacher = FrozenTeacher.copy_of(llm).to(device=device, dtype=dtype)
    has_speech = any(s.kind == "speech" for s in cfg.mixture)
    decoder = load_code_decoder(store, run.mimi_weights, cfg.num_codebooks, device) if has_speech else None
    student = build_student(llm, cfg.adapter_preset, decoder, seed=cfg.seed)
    if run.parent is not None:
        student.load_state_dict(read_student_state(store, run.parent), strict=True)  # tensor tables: no pickle
    info = {
        "teacher": run.teacher.model_dump(),
        "tokenizer": run.tokenizer.model_dump(),
        "mimi_weights": run.mimi_weights.model_dump() if run.mimi_weights else None,
        "has_speech": has_speech,
        "llm_config": student.llm.config.to_json_string(use_diff=False),
        "adapter": student.adapter.cfg.model_dump(),
        "world_size": world,
        "precision": str(dtype).removeprefix("torch."),
        "parent_checkpoint": str(run.parent) if run.parent else None,
    }
    if cfg.activation_checkpointing:
        enable_activation_checkpointing(student)
    module = DistillModule(student, teacher, cfg.distill)
    optimizer = torch.optim.AdamW(param_groups(student, cfg.lr_adapter, cfg.lr_llm, cfg.weight_decay), betas=cfg.betas, eps=cfg.eps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, wsd_factor(cfg.warmup_steps, cfg.steps, cfg.decay_steps))
    engine, _, _, _ = deepspeed.initialize(model=module, optimizer=optimizer, lr_scheduler=scheduler, config=deepspeed_config(cfg, on_gpu, world))
    mixture, held_out = build_data(store, run, tokenizer)
    held_out = held_out.to(device) if held_out is not None else None
    state, records = TrainState(step=0, tokens=0, data=mixture.state()), []
    latest = _latest_checkpoint(store, run)
    if latest is not None:
        stats = _load_engine(engine, store, latest, workdir)
        state = TrainState(step=stats["step"], tokens=stats["tokens"], data=stats["data_position"])
        mixture.restore(state.data)
        records = list(stats["metrics"])
        if rank == 0:
            stage_logger().warning("resuming from %s at step %d (%d tokens)", latest, state.step, state.tokens)
    elif run.parent is not None:
        _load_engine(engine, store, run.parent, workdir, load_optimizer_states=True, load_lr_scheduler_states=False)
    hooks = StoreHooks(store, run, rank, workdir, info, watchdog, records)
    started = time.perf_counter()
    train_loop(engine, mixture, cfg, rank, world, device, tokenizer.pad_token_id, held_out, state, hooks)
    if rank == 0:
        ref = write_metrics(store, run, records)
        stage_logger().warning("metrics %s committed; trained %.1f s", ref, time.perf_counter() - started)
    dist.barrier()
    if args.local_rank == 0 and not on_gpu and os.environ.get("MASTER_PORT"):  # every rank is past init: unlink this node's buffers
        remove_deepspeed_shm_buffers(int(os.environ["MASTER_PORT"]))


def _teacher_llm(store: ArtifactStore, ref: ArtifactRef):
    from tasks.teacher import load_teacher

    llm, tokenizer = load_teacher(store, ref, dtype="float32")
    return llm.float(), tokenizer


if __name__ == "__main__":
    main()
