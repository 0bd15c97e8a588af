"""`salad plan`: the paper-scale table has every stage, scales with the cluster where it should, and marks assumptions."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from deployments.plan_cli import app
from salad_core.selection.cost import (
    MEASURED_CPU,
    STAGE1_PRE_DECAY,
    STAGE1_STEPS,
    STAGE2_STEPS,
    SAVE_EVERY,
    PlanCluster,
    checkpoint_bytes,
    cost_markdown,
    n_checkpoints,
    paper_plan,
)

runner = CliRunner()
STAGES = (
    "ingest natural speech",
    "tokenize natural speech",
    "embed FineWeb-Edu 10BT",
    "cluster (K = 128)",
    "select probe + selection texts",
    "probe synthesis",
    "Stage I (24B tokens)",
    "tokenize probe speech",
    "M(c) on the probe",
    "selection synthesis",
    "tokenize selected speech",
    "Stage II (1.9B tokens)",
    "evaluation: speak",
    "tokenize benchmark speech",
    "evaluation: score",
)
# stages that run on one process or one node whatever the cluster's size
FIXED = ("cluster (K = 128)", "select probe + selection texts")


def rows(cluster: PlanCluster) -> dict[str, object]:
    return {next(name for name in STAGES if s.stage.startswith(name)): s for s in paper_plan(cluster).stages}


@pytest.mark.parametrize("kind", ["h100", "a100", "h200", "cpu"])
def test_every_stage_is_in_the_table_with_a_measured_or_assumed_figure(kind):
    estimate = paper_plan(PlanCluster(device_kind=kind, gpus=8, nodes=1))
    assert [s.stage for s in estimate.stages] == [next(s.stage for s in estimate.stages if s.stage.startswith(n)) for n in STAGES]
    table = cost_markdown(estimate).split("\n\nAssumptions:")[0].splitlines()[2:-1]
    assert len(table) == len(STAGES)
    assert all(("| measured: " in line) != ("| assumed: " in line) for line in table), table


def test_gpu_figures_are_assumptions_and_cpu_speech_figures_are_measured():
    gpu = rows(PlanCluster(device_kind="h200", gpus=16, nodes=2))
    device_rows = [s for name, s in gpu.items() if s.throughput.device == "GPU (H200)"]
    assert len(device_rows) == len(STAGES) - 3 and not any(s.throughput.measured for s in device_rows)
    cpu = rows(PlanCluster(device_kind="cpu", gpus=4, nodes=4))
    assert cpu["tokenize natural speech"].throughput == MEASURED_CPU["tokenize"] and cpu["probe synthesis"].throughput == MEASURED_CPU["tts"]
    assert cpu["select probe + selection texts"].throughput.measured and not cpu["Stage I (24B tokens)"].throughput.measured
    notes = " ".join(paper_plan(PlanCluster()).assumptions)
    assert "No GPU was lent" in notes and "Measured here" in notes


def test_gpu_stages_scale_linearly_with_gpus_and_one_process_stages_do_not():
    small, large = rows(PlanCluster(gpus=64, nodes=8)), rows(PlanCluster(gpus=128, nodes=16))
    for name in STAGES:
        a, b = small[name], large[name]
        assert a.device_hours == pytest.approx(b.device_hours), name  # the work does not depend on the cluster
        expected = a.wall_hours if name in FIXED else a.wall_hours / 2  # ingest: 2x the nodes' cores
        assert b.wall_hours == pytest.approx(expected), name
    assert small["select probe + selection texts"].devices == 1


def test_figures_by_hand():
    h100, a100 = rows(PlanCluster(gpus=64, nodes=8)), rows(PlanCluster(device_kind="a100", gpus=64, nodes=8))
    # 8·N FLOPs per token (6 x 3.212B + 2 x 3.09B) at 40% of 989 TFLOP/s -> 15,543 tokens/s; 24B tokens
    stage1 = h100["Stage I (24B tokens)"]
    assert stage1.throughput.per_second == pytest.approx(0.4 * 989e12 / (6 * 3.212e9 + 2 * 3.09e9))
    assert stage1.device_hours == pytest.approx(24e9 / stage1.throughput.per_second / 3600) and 428 < stage1.device_hours < 430
    assert a100["Stage I (24B tokens)"].device_hours == pytest.approx(stage1.device_hours * 989 / 312)
    # Mimi: 5.32 GFLOP per audio-second at 2% of peak; 141.6k h -> 38 GPU-hours
    assert h100["tokenize natural speech"].device_hours == pytest.approx(141_600 * 5.32e9 / (0.02 * 989e12))
    assert h100["ingest natural speech"].storage_bytes == pytest.approx(141_600 * 3600 * 24_000)  # 12.2 TB of FLAC
    assert h100["tokenize natural speech"].storage_bytes == pytest.approx(141_600 * 3600 * 200)
    assert h100["Stage I (24B tokens)"].storage_bytes == pytest.approx(25 * 16 * 3.212e9)


def test_checkpoint_counts_follow_the_3b_preset():
    from salad_core.training import TrainConfig, checkpoint_steps

    one, two = TrainConfig.preset("3b"), TrainConfig.preset("3b", stage=2)
    assert (one.steps, one.save_every, one.pre_decay_step, two.steps) == (STAGE1_STEPS, SAVE_EVERY, STAGE1_PRE_DECAY, STAGE2_STEPS)
    assert n_checkpoints(STAGE1_STEPS, SAVE_EVERY, STAGE1_PRE_DECAY) == len(checkpoint_steps(one)) == 25
    assert n_checkpoints(STAGE2_STEPS, SAVE_EVERY, None) == len(checkpoint_steps(two)) == 2
    assert checkpoint_bytes() == pytest.approx(16 * 3.212e9)


def test_cli_prints_the_table_for_the_configured_cluster():
    out = runner.invoke(app, ["--preset", "3b", "--device-kind", "A100", "--gpus", "16", "--nodes", "2"])
    assert out.exit_code == 0, out.output
    assert "| Stage I (24B tokens) | 24.0B tokens |" in out.output and "| GPU (A100) |" in out.output and "| 16 |" in out.output
    assert "16 x GPU (A100) (8 per node) over 2 node(s)" in out.output
    cpu = runner.invoke(app, ["--device-kind", "cpu", "--nodes", "4"])
    assert cpu.exit_code == 0 and "| CPU, 2 cores |" in cpu.output and "measured: bench_mimi.py" in cpu.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--device-kind", "tpu"], "'tpu' is not one of h100, a100, h200, cpu"),
        (["--preset", "7b"], "only the 3b paper-scale workload"),
        (["--device-kind", "cpu", "--gpus", "4"], "a cpu plan has no GPUs"),
        (["--gpus", "10", "--nodes", "4"], "10 GPUs do not split evenly over 4 nodes"),
    ],
    ids=["unknown-kind", "7b", "cpu-with-gpus", "uneven"],
)
def test_cli_refuses_what_it_cannot_plan(args, message):
    out = runner.invoke(app, args)
    assert out.exit_code == 2 and message in " ".join(out.output.split()), out.output
