"""Prefect task: one training stage (Stage I or Stage II) run by the `deepspeed` launcher.

    from tasks.train import train_stage, SourceRefs
    out = train_stage(TrainConfig.preset("tiny"), {"natural": SourceRefs(codes=codes, transcripts=utterances),
                      "text": SourceRefs(corpus=corpus)}, teacher_ref, store_config)                    # Stage I
    out2 = train_stage(TrainConfig.preset("tiny", stage=2), {...natural, synthetic, text...}, teacher_ref,
                       store_config, parent=out.pre_decay)                                             # Stage II
    out.final, out.pre_decay, out.metrics      # ArtifactRefs (checkpoint, checkpoint, train_metrics)

The task plans the run (its identity = config + exact data artifacts + teacher + parent checkpoint
+ world size, see tasks/checkpoint_store.RunIdentity); when the final checkpoint and the metrics of
that identity are committed it returns them without training. Otherwise it writes a job file and
runs `deepspeed --num_gpus N --module tasks.train_worker --job <file>` in its own process group
(on CPU the launcher starts N gloo processes), streams its log, and reports progress. A run that
was killed resumes from its newest committed checkpoint when the task runs again. With
`config.cluster.hostfile` the launcher runs N processes on every host of the hostfile
(salad_core/training/launch.py builds and checks the command; docs/multinode-training.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path

import torch
from prefect import task
from pydantic import BaseModel, Field

from salad_core.training.config import TrainConfig
from salad_core.training.deepspeed_config import resolve_precision
from salad_core.training.launch import LaunchPlan, deepspeed_env_file, launch_plan, launcher_command, remove_deepspeed_shm_buffers
from salad_core.training.rows import TrainingDataError
from salad_core.training.trainer import checkpoint_steps
from storage import ArtifactRef, ArtifactStore, StageSpec, StoreConfig
from tasks.checkpoint_store import CHECKPOINT, RunIdentity, SourceRefs
from tasks.progress import TrainProgress, parse_train_line
from tasks.publish import in_prefect_run, prefect_key, publish_artifact
from tasks.scratch import scratch_folder
from tasks.run_context import run_context_env
from tasks.sharded_stage import Heartbeat, stage_logger
from tasks.train_worker import PLOT, TrainJob

REPO = Path(__file__).resolve().parent.parent
__all__ = ["SourceRefs", "TrainOutputs", "plan_run", "run_training", "train_stage"]


class TrainOutputs(BaseModel):
    final: ArtifactRef
    pre_decay: ArtifactRef | None = Field(None, description="Stage I: the checkpoint taken just before the LR decay.")
    metrics: ArtifactRef
    plot: ArtifactRef | None = Field(None, description="PNG of held-out M over training tokens with the scaling fit.")
    reused: bool


def _tokenizer_of(store: ArtifactStore, teacher: ArtifactRef) -> ArtifactRef:
    parents = [p for p in store.get(teacher).manifest.parents if p.name == "tokenizer"]
    if len(parents) != 1:
        raise ValueError(f"{teacher} does not name exactly one tokenizer parent")
    return parents[0]


def _mimi_of(store: ArtifactStore, codes: ArtifactRef) -> tuple[ArtifactRef | None, str]:
    manifest = store.get(codes).manifest
    if "mimi" not in manifest.models:
        raise TrainingDataError(f"{codes} names no Mimi model in its manifest: not a codes artifact of tasks/tokenize.py")
    weights = [p for p in manifest.parents if "safetensors" in {f["name"] for f in store.get(p).manifest.schema_fields}]
    return (weights[0] if weights else None), manifest.models["mimi"]


def plan_run(
    store: ArtifactStore,
    config: TrainConfig,
    data: dict[str, SourceRefs],
    teacher: ArtifactRef,
    parent: ArtifactRef | None = None,
) -> RunIdentity:
    """The run's identity, with the input checks that need only manifests (fail before launching)."""
    data = {name: SourceRefs.model_validate(s) for name, s in data.items()}
    for src in config.mixture:
        refs = data.get(src.name)
        if refs is None or not refs.refs():
            raise TrainingDataError(f"mixture source {src.name!r} has no data artifacts (an empty mixture source)")
        for ref in refs.refs():
            if store.get(ref).num_rows == 0:
                raise TrainingDataError(f"mixture source {src.name!r}: {ref} has no rows (an empty mixture source)")
    mimi = {}
    for src in config.mixture:
        if src.kind == "speech":
            if data[src.name].codes is None:
                raise TrainingDataError(f"speech source {src.name!r} has no codes artifact")
            mimi[src.name] = _mimi_of(store, data[src.name].codes)
            stored = store.get(data[src.name].codes).manifest.params.get("num_codebooks")
            if stored is not None and stored != config.num_codebooks:
                raise TrainingDataError(f"{data[src.name].codes} holds {stored} codebooks per frame, the model reads {config.num_codebooks}")
    if len({m[1] for m in mimi.values()}) > 1:
        raise TrainingDataError(f"speech sources were tokenized by different Mimi weights: { ({k: v[1] for k, v in mimi.items()}) }")
    mimi_weights, mimi_model = next(iter(mimi.values()), (None, None))
    if parent is not None:
        parent_manifest = store.get(parent).manifest
        if parent_manifest.name != CHECKPOINT:
            raise ValueError(f"parent {parent} is not a training checkpoint")
        if mimi_model and parent_manifest.models.get("mimi") not in (None, mimi_model):
            raise TrainingDataError(f"codes made by {mimi_model}, but {parent} was trained on codes of {parent_manifest.models['mimi']}")
        if parent_manifest.params["train"]["num_codebooks"] != config.num_codebooks:
            raise TrainingDataError(f"{parent} reads {parent_manifest.params['train']['num_codebooks']} codebooks, the config {config.num_codebooks}")
        if config.stage == 1:
            raise ValueError("a parent checkpoint is for Stage II (stage=2)")
    on_gpu = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    world_size = launch_plan(config.cluster, config.num_procs, store.uri).world_size  # refuses a hostfile that cannot launch
    return RunIdentity(
        config=config,
        data=data,
        teacher=teacher,
        tokenizer=_tokenizer_of(store, teacher),
        mimi_weights=mimi_weights,
        mimi_model=mimi_model,
        parent=parent,
        world_size=world_size,
        precision=resolve_precision(config, on_gpu),
    )


def find_outputs(store: ArtifactStore, run: RunIdentity) -> TrainOutputs | None:
    kinds = checkpoint_steps(run.config)
    final = store.find(run.checkpoint_spec(run.config.steps, "final"))
    metrics = store.find(run.metrics_spec())
    if final is None or metrics is None:
        return None
    pre = [s for s, k in kinds.items() if k == "pre_decay"]
    pre_decay = store.find(run.checkpoint_spec(pre[0], "pre_decay")) if pre else None
    plot = store.find(StageSpec(name=PLOT, params={}, code_version=run.metrics_spec().code_version, parents=[metrics]))
    return TrainOutputs(final=final, pre_decay=pre_decay, metrics=metrics, plot=plot, reused=True)


def publish_metrics_table(store: ArtifactStore, outputs: TrainOutputs, stage: int) -> None:
    """The logged metrics as a Prefect table artifact (one row per logged step); a no-op outside Prefect."""
    if not in_prefect_run():
        return
    from prefect.artifacts import create_table_artifact

    rows: dict[tuple[str, int], dict] = {}
    for r in store.get(outputs.metrics).to_table().to_pylist():
        rows.setdefault((r["kind"], r["step"]), {"kind": r["kind"], "step": r["step"], "tokens": r["tokens"]})[r["metric"]] = round(r["value"], 6)
    create_table_artifact(list(rows.values()), key=prefect_key(f"train-stage{stage}-metrics"), description=f"{outputs.metrics} (stage {stage})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(store_config: StoreConfig, run: RunIdentity) -> LaunchPlan:
    return launch_plan(run.config.cluster, run.config.num_procs, store_config.uri)


def _workdir(run: RunIdentity) -> tempfile.TemporaryDirectory:
    """Scratch on this machine, or across nodes a folder every node mounts (job file, engine files)."""
    shared = run.config.cluster.shared_workdir
    if shared is None:
        return scratch_folder("train")
    Path(shared).mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-train-", dir=shared)


def start_training(store_config: StoreConfig, run: RunIdentity, workdir: Path, port: int | None = None) -> subprocess.Popen:
    """Start the launcher for `run` (its own process group) with rendezvous `port` (None: the
    cluster's ``master_port`` or a free one); the caller waits on it."""
    plan = _launch(store_config, run)
    port = port or run.config.cluster.master_port or _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    job_file = workdir / "job.json"
    job_file.write_text(TrainJob(run=run, store=store_config, workdir=str(workdir)).model_dump_json())
    threads = str(run.config.cpu_threads or os.cpu_count())
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "SALAD_TRAIN_WATCH": "1",
        "SALAD_TRAIN_OWNER_PID": str(os.getpid()),
        "OMP_NUM_THREADS": threads,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        **run_context_env(),
    }  # checkpoints name the flow run that made them
    if plan.multi_node:  # DeepSpeed's pdsh runner forwards only PYTHON*/NCCL*/UCX*: the rest goes in its env file
        (workdir / "deepspeed_env").write_text(deepspeed_env_file(env))
        env["DS_ENV_FILE"] = str(workdir / "deepspeed_env")
    deepspeed = str(Path(sys.executable).with_name("deepspeed"))
    return subprocess.Popen(
        launcher_command(deepspeed, str(job_file), plan, port),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_training(store_config: StoreConfig, run: RunIdentity, log=None) -> None:
    """Run the launcher to completion, streaming its output; raise with its last lines if it fails."""
    log = log or stage_logger()
    store = ArtifactStore.open(store_config)
    spec = run.checkpoint_spec(run.config.steps, "final")
    progress = TrainProgress(spec.model_copy(update={"name": f"train-stage{run.config.stage}"}), run.config.steps, run.config.stage)
    heartbeat = Heartbeat(lambda: log.info("%s", progress.status_line()))
    tail: deque[str] = deque(maxlen=40)
    port = run.config.cluster.master_port or _free_port()
    with _workdir(run) as tmp:
        proc = start_training(store_config, run, Path(tmp), port)
        try:
            for line in proc.stdout:
                line = line.rstrip()
                tail.append(line)
                if line.startswith("SALAD_PROGRESS"):
                    progress.advance(int(line.split()[2]))
                    continue
                if (record := parse_train_line(line)) is not None:
                    progress.record(record)
                if any(key in line for key in ("step ", "checkpoint", "eval", "resuming", "metrics", "Error", "error")):
                    log.info("%s", line)
            code = proc.wait()
        except BaseException:
            if _launch(store_config, run).multi_node:  # SIGTERM: DeepSpeed's runner then pkills the other nodes' ranks
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            heartbeat.stop()
            remove_deepspeed_shm_buffers(port)  # DeepSpeed leaves 69 MB of RAM per rank in /dev/shm otherwise
    if code != 0:
        raise RuntimeError(f"training launcher exited with {code} (committed checkpoints are kept; a rerun resumes):\n" + "\n".join(tail))
    progress.finish()
    del store


@task(name="train-stage")
def train_stage(
    config: TrainConfig,
    data: dict[str, SourceRefs],
    teacher: ArtifactRef,
    store_config: StoreConfig,
    parent: ArtifactRef | None = None,
) -> TrainOutputs:
    """Train one stage (or reuse it); returns the checkpoint and metrics refs."""
    store = ArtifactStore.open(store_config)
    log = stage_logger()
    run = plan_run(store, config, data, teacher, parent)
    if (found := find_outputs(store, run)) is not None:
        log.info("training stage %d: %s and %s exist: reused, nothing trained", config.stage, found.final, found.metrics)
        for ref in filter(None, (found.final, found.pre_decay, found.metrics)):
            publish_artifact(store, ref, reused=True)
        publish_metrics_table(store, found, config.stage)
        return found
    run_training(store_config, run, log)
    found = find_outputs(store, run)
    if found is None:
        raise RuntimeError("the launcher exited cleanly but the final checkpoint or metrics are not committed")
    for ref in filter(None, (found.final, found.pre_decay, found.metrics)):
        publish_artifact(store, ref)
    publish_metrics_table(store, found, config.stage)
    return found.model_copy(update={"reused": False})
