"""Training through the `deepspeed` launcher: 2 CPU processes, Stage I -> Stage II, reuse, kill -9 and resume."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

import pytest
import torch

from salad_core.training import TrainConfig
from storage import ArtifactStore
from tasks.checkpoint_store import load_student, read_student_state
from salad_core.training.launch import deepspeed_shm_buffers, remove_deepspeed_shm_buffers
from tasks.train import _free_port, find_outputs, plan_run, run_training, start_training, train_stage
from tests.test_training_data import TINY, tiny_training_inputs

torch.set_num_threads(1)
TWO_PROCS = TINY.model_copy(update={"steps": 10, "num_procs": 2, "zero_stage": 2, "log_every": 2, "save_every": 4, "eval_every": 3})


@pytest.fixture(scope="module")
def inputs():
    return tiny_training_inputs()


@pytest.fixture(scope="module")
def stage1(inputs):
    return train_stage.fn(TWO_PROCS, inputs.stage1_data(), inputs.teacher, inputs.store.objects.config)


def test_two_process_stage1_commits_pre_decay_final_and_metrics(inputs, stage1):
    store = inputs.store
    assert not stage1.reused and stage1.pre_decay is not None
    pre, final = store.get(stage1.pre_decay).manifest, store.get(stage1.final).manifest
    assert (pre.params["kind"], pre.params["step"], final.params["kind"], final.params["step"]) == ("pre_decay", 8, "final", 10)
    # lineage: the exact data artifacts, mixture, teacher, tokenizer and Mimi weights
    parents = {str(p) for p in final.parents}
    assert {
        str(inputs.natural.codes),
        str(inputs.natural.transcripts),
        str(inputs.corpus),
        str(inputs.teacher),
        str(inputs.tokenizer_ref),
        str(inputs.mimi),
    } == {p.split("@")[0] + "@" + p.split("@")[1] for p in parents}
    assert final.params["data"]["natural"] == {"codes": str(inputs.natural.codes), "transcripts": str(inputs.natural.transcripts)}
    assert [m["name"] for m in final.params["train"]["mixture"]] == ["natural", "text"] and final.params["world_size"] == 2
    position = final.stats["data_position"]
    assert position["micro_batches"] == 10 * 2 and set(position["sources"]) == {"natural", "text"}
    assert final.stats["tokens"] > pre.stats["tokens"] > 0
    # every logged step trained both groups at their own LR (warmup 1 step, decay over the last 2 of 10)
    rows = store.get(stage1.metrics).to_table().to_pylist()
    lrs = {(r["step"], r["metric"]): r["value"] for r in rows if r["metric"].startswith("lr_")}
    assert lrs[(2, "lr_adapter")] == pytest.approx(1e-3) and lrs[(2, "lr_llm")] == pytest.approx(5e-5)
    assert lrs[(10, "lr_adapter")] == pytest.approx(5e-4) and lrs[(10, "lr_llm")] == pytest.approx(2.5e-5)
    evals = {(r["step"], r["metric"]) for r in rows if r["kind"] == "eval"}
    assert {(0, "M"), (3, "M"), (9, "M"), (10, "M"), (10, "F")} <= evals
    stats = store.get(stage1.metrics).manifest.stats
    assert "scaling_fit" in stats or "scaling_fit_error" in stats
    png = store.get(stage1.plot).to_table().column("png")[0].as_py()
    assert png.startswith(b"\x89PNG") and store.get(stage1.plot).manifest.parents[0].fingerprint == stage1.metrics.fingerprint


def test_rerun_reuses_both_checkpoints(inputs, stage1):
    again = train_stage.fn(TWO_PROCS, inputs.stage1_data(), inputs.teacher, inputs.store.objects.config)
    assert again.reused and (again.final, again.pre_decay, again.metrics) == (stage1.final, stage1.pre_decay, stage1.metrics)


def test_stage2_from_pre_decay_then_load_student(inputs, stage1):
    cfg = TrainConfig.preset("tiny", stage=2).model_copy(
        update={
            "steps": 4,
            "save_every": 2,
            "log_every": 2,
            "eval_every": 2,
            "num_procs": 2,
            "zero_stage": 2,
            "max_positions": 128,
            "micro_batch_positions": 512,
            "held_out_samples": 4,
            "held_out_fraction": 0.15,
        }
    )
    out = train_stage.fn(cfg, inputs.stage2_data(), inputs.teacher, inputs.store.objects.config, parent=stage1.pre_decay)
    manifest = inputs.store.get(out.final).manifest
    assert out.pre_decay is None and manifest.params["parent_checkpoint"] == str(stage1.pre_decay)
    assert str(stage1.pre_decay) in {str(p) for p in manifest.parents}
    assert set(manifest.stats["data_position"]["sources"]) == {"natural", "synthetic", "text"}
    lrs = [r["value"] for r in inputs.store.get(out.metrics).to_table().to_pylist() if r["metric"] == "lr_adapter"]
    assert lrs == pytest.approx([1e-3 * 0.75, 1e-3 * 0.25])  # linear decay to 0 over the 4 steps (LR used at steps 2, 4)

    bundle = load_student(inputs.store, out.final)
    assert bundle.config.stage == 2 and not bundle.student.training and bundle.student.codes_to_latents is not None
    assert len(bundle.tokenizer) == bundle.student.llm.config.vocab_size
    stored = read_student_state(inputs.store, out.final)
    assert all(torch.equal(stored[k], v) for k, v in bundle.student.state_dict().items())
    teacher_w = dict(bundle.teacher.llm.named_parameters())
    assert any(not torch.equal(p, teacher_w[n.removeprefix("llm.")]) for n, p in bundle.student.named_parameters() if n.startswith("llm."))
    ids = torch.tensor([[1, 2, 3, 4]])
    assert bundle.student(ids).shape == (1, 4, bundle.student.llm.config.vocab_size)


def _wait_for_group_exit(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail("training processes outlived their killed launcher")


def test_kill9_of_the_launcher_then_resume_equals_an_uninterrupted_run(inputs, tmp_path):
    cfg = TINY.model_copy(update={"steps": 24, "save_every": 4, "log_every": 4, "eval_every": 12})
    clean = tmp_path / "clean"
    shutil.copytree(inputs.root / "store", clean, ignore=shutil.ignore_patterns("checkpoint", "train_metrics"))
    store = inputs.store
    run = plan_run(store, cfg, inputs.stage1_data(), inputs.teacher)
    killed_port = _free_port()
    proc = start_training(store.objects.config, run, tmp_path / "work", killed_port)
    first = run.checkpoint_spec(4, "periodic")
    deadline = time.monotonic() + 180
    while store.find(first) is None:
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint within 180 s"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # the launcher only; its processes must notice and stop
    proc.wait()
    _wait_for_group_exit(proc.pid, 60)
    assert find_outputs(store, run) is None, "the run finished before it was killed: nothing was resumed"
    committed = [s for s in range(4, 24, 4) if store.find(run.checkpoint_spec(s, "periodic"))]

    # DeepSpeed's CPU allreduce leaves one 69 MB /dev/shm buffer per rank; a killed launcher cannot
    # remove them, run_training does (the next lines), so nothing piles up in RAM run after run
    leaked = deepspeed_shm_buffers(killed_port)
    assert len(leaked) == run.world_size, leaked  # one per rank
    assert remove_deepspeed_shm_buffers(killed_port) == run.world_size and deepspeed_shm_buffers(killed_port) == []

    lines = []
    resume_port = _free_port()
    resume = run.model_copy(update={"config": run.config.model_copy(update={"cluster": run.config.cluster.model_copy(update={"master_port": resume_port})})})
    run_training(store.objects.config, resume, log=type("L", (), {"info": lambda self, fmt, *a: lines.append(fmt % a)})())
    assert deepspeed_shm_buffers(resume_port) == []
    resumed = find_outputs(store, run)
    assert resumed is not None
    assert any(re.search(rf"resuming from checkpoint@\w+ at step {committed[-1]}\b", line) for line in lines), lines

    clean_store = ArtifactStore.open(str(clean))
    run_training(clean_store.objects.config, run)
    uninterrupted = find_outputs(clean_store, run)
    assert uninterrupted.final.fingerprint == resumed.final.fingerprint  # same run, same step: same version id
    a, b = read_student_state(store, resumed.final), read_student_state(clean_store, uninterrupted.final)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # fp32 on CPU: bit-identical
    sa, sb = store.get(resumed.final).manifest.stats, clean_store.get(uninterrupted.final).manifest.stats
    assert sa["data_position"] == sb["data_position"] and sa["tokens"] == sb["tokens"]
