"""Misalignment scoring and evaluation scoring on a pool of Ray actors (one local Ray node): the
artifacts are the ones the in-process run writes — same fingerprints, same shard bytes.

Run: RAY_AUTH_MODE=disabled HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_ray_scoring.py -q   (~3 min: trains 6 tiny steps)

Uses the training tests' tiny inputs and a one-process Stage I checkpoint; the `synthetic` speech
(40 clips in 2 codes shards) stands in for the probe, and 14 bundled items for the benchmarks.
"""

from __future__ import annotations

import logging

import pyarrow as pa
import pytest
import torch

from salad_core.evaluation.config import BenchmarkConfig, EvalConfig
from salad_core.ray_config import RayStageConfig
from salad_core.selection.config import MisalignmentConfig
from storage import StageSpec
from tasks.eval_items import load_eval_items
from tasks.evaluate import EVAL_SCORES, evaluate_checkpoint, evaluate_teacher
from tasks.misalignment import MISALIGNMENT_SAMPLES, score_misalignment
from tasks.sharded_stage import write_table_artifact
from tasks.train import train_stage
from tests.test_training_data import TINY, tiny_training_inputs

torch.set_num_threads(1)  # as each actor at num_cpus_per_actor=1 runs
TWO_ACTORS = RayStageConfig(n_actors=2, num_cpus_per_actor=1)


@pytest.fixture(scope="module")
def trained():
    inputs = tiny_training_inputs()
    stage1 = train_stage.fn(TINY, inputs.stage1_data(), inputs.teacher, inputs.store.objects.config)
    return inputs, stage1


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(address="local", num_cpus=2, object_store_memory=100 * 1024**2, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def digests(store, ref) -> list[tuple[int, str]]:
    return [(s.rows, s.sha256) for s in store.get(ref).manifest.shards]


def parent_named(store, ref, name: str):
    [found] = [p for p in store.get(ref).manifest.parents if p.name == name]
    return found


def move_aside(store, *refs) -> None:
    for ref in refs:
        store.move_aside(ref.name, ref.fingerprint, ["computed in-process; the test computes it again on Ray"])


def test_misalignment_on_two_actors_writes_the_in_process_artifacts(trained, local_ray):
    inputs, stage1 = trained
    store, cfg = inputs.store, inputs.store.objects.config
    probe = store.get(inputs.synthetic.transcripts).to_table(columns=["id"]).column("id").to_pylist()
    texts = pa.table({"id": probe + ["lost-clip"], "cluster": pa.array([i % 3 for i in range(len(probe))] + [3], pa.int32())})
    probe_texts = write_table_artifact(store, StageSpec(name="probe_texts", params={"test": "ray"}, code_version="test-1"), texts)
    config = MisalignmentConfig(n_boot=100, batch_size=8)
    args = (stage1.pre_decay, inputs.synthetic.codes, inputs.synthetic.transcripts, probe_texts)

    expected = score_misalignment.fn(*args, config, cfg)
    samples = parent_named(store, expected, MISALIGNMENT_SAMPLES)
    assert len(store.get(samples).manifest.shards) == 2  # one per probe codes shard: what the actors share
    want = (digests(store, samples), digests(store, expected), store.get(expected).to_table())
    move_aside(store, expected, samples)

    got = score_misalignment.fn(*args, config.model_copy(update={"ray": TWO_ACTORS}), cfg)
    got_samples = parent_named(store, got, MISALIGNMENT_SAMPLES)
    assert got == expected and got_samples == samples  # same fingerprints: the Ray settings are not in them
    assert digests(store, got_samples) == want[0] and digests(store, got) == want[1]  # byte-identical shards
    assert store.get(got).to_table().equals(want[2])
    stats = store.get(got_samples).manifest.stats
    assert stats["ray"]["n_actors"] == 2 and stats["shards_written_this_run"] == 2
    assert score_misalignment.fn(*args, config.model_copy(update={"ray": TWO_ACTORS}), cfg) == got  # a rerun reuses, no actor started


def test_evaluation_on_two_actors_writes_the_in_process_artifacts(trained, local_ray):
    inputs, stage1 = trained
    store, cfg = inputs.store, inputs.store.objects.config
    items = load_eval_items.fn(BenchmarkConfig(name="bundled_mc", n_items=14), cfg).items
    config = EvalConfig(n_shots=1, max_positions=256, views=["teacher_text", "student_text"], items_per_shard=5, cpu_threads=1)

    for evaluate in (
        lambda c: evaluate_checkpoint.fn(stage1.final, [items], [], c, cfg, label="stage1"),
        lambda c: evaluate_teacher.fn(inputs.teacher, [items], c, cfg),
    ):
        expected = evaluate(config).results
        scores = parent_named(store, expected, EVAL_SCORES)
        assert [s.rows for s in store.get(scores).manifest.shards] in ([10, 10, 8], [5, 5, 4])  # 14 items in shards of 5
        want = (digests(store, scores), digests(store, expected))
        table = store.get(expected).to_table()
        move_aside(store, expected, scores)

        got = evaluate(config.model_copy(update={"ray": TWO_ACTORS}))
        assert not got.reused and got.results == expected and parent_named(store, got.results, EVAL_SCORES) == scores
        assert digests(store, scores) == want[0] and digests(store, got.results) == want[1]
        assert store.get(got.results).to_table().equals(table)
        assert store.get(scores).manifest.stats["ray"]["n_actors"] == 2
