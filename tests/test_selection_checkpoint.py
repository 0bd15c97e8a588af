"""M(c) scored with a real trained checkpoint: load_student, the probe's codes and timings, lineage.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/test_selection_checkpoint.py -q   (~1 min: trains 6 tiny steps)

Uses the training tests' tiny inputs (bundled corpus, micro teacher, fitted Mimi weights, speech
with random codes) and a one-process Stage I run; the `synthetic` speech stands in for the probe,
its 40 clips spread over three clusters.
"""

import numpy as np
import pyarrow as pa
import pytest
import torch

from salad_core.selection.config import MisalignmentConfig
from storage import StageSpec
from tasks.checkpoint_store import load_student
from tasks.misalignment import read_misalignment, score_misalignment
from tasks.sharded_stage import write_table_artifact
from tasks.train import train_stage
from tests.test_training_data import TINY, tiny_training_inputs

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def scored():
    inputs = tiny_training_inputs()
    store, cfg = inputs.store, inputs.store.objects.config
    stage1 = train_stage.fn(TINY, inputs.stage1_data(), inputs.teacher, cfg)
    ids = store.get(inputs.synthetic.transcripts).to_table(columns=["id"]).column("id").to_pylist()
    texts = store.get(inputs.synthetic.transcripts).to_table(columns=["text"]).column("text").to_pylist()
    probe = pa.table({"id": ids + ["lost-clip"], "text": texts + ["never spoken"], "cluster": pa.array([i % 3 for i in range(len(ids))] + [3], pa.int32())})
    probe_texts = write_table_artifact(store, StageSpec(name="probe_texts", params={"test": 1}, code_version="test-1"), probe)
    config = MisalignmentConfig(n_boot=200, batch_size=8)
    ref = score_misalignment.fn(stage1.pre_decay, inputs.synthetic.codes, inputs.synthetic.transcripts, probe_texts, config, cfg)
    return inputs, stage1, probe_texts, config, ref


def test_misalignment_artifact_from_a_trained_checkpoint(scored):
    inputs, stage1, probe_texts, config, ref = scored
    store = inputs.store
    manifest = store.get(ref).manifest
    parents = {str(p) for p in manifest.parents}
    assert {str(stage1.pre_decay), str(probe_texts), str(inputs.synthetic.codes), str(inputs.synthetic.transcripts)} <= parents
    scores = read_misalignment(store, ref)
    assert sorted(scores.m) == [0, 1, 2] and scores.status[3] == "no_probe"
    per_sample = scores.per_sample.to_pylist()
    for cluster in range(3):
        mine = [r["m"] for r in per_sample if r["cluster"] == cluster and r["status"] == "scored"]
        assert len(mine) >= 10 and scores.m[cluster] == pytest.approx(np.mean(mine), rel=1e-9)
        low, high = scores.intervals[cluster]
        assert 0 < low <= scores.m[cluster] <= high
    assert manifest.stats["samples_not_scored"] == {"no clip: the text failed synthesis or the quality gate": 1}
    assert manifest.stats["positions"] == sum(r["n_positions"] for r in per_sample)


def test_rescoring_is_reused_and_the_device_is_not_part_of_the_fingerprint(scored):
    inputs, stage1, probe_texts, config, ref = scored
    cfg = inputs.store.objects.config
    again = score_misalignment.fn(
        stage1.pre_decay, inputs.synthetic.codes, inputs.synthetic.transcripts, probe_texts, config.model_copy(update={"batch_size": 3}), cfg
    )
    assert again == ref


def test_misalignment_is_the_checkpoints_own_distillation_loss(scored):
    """Cross-check one clip against the training objective's batch_loss on the same interleaved sample."""
    from salad_core.model.batch import collate_samples
    from salad_core.objective import DistillConfig, batch_loss
    from salad_core.selection.probe_samples import probe_samples
    from tasks.misalignment import interleave_like_training, probe_clips

    inputs, stage1, probe_texts, config, ref = scored
    store = inputs.store
    bundle = load_student(store, stage1.pre_decay)
    clip = probe_clips(store, inputs.synthetic.codes, inputs.synthetic.transcripts)[0]
    built = probe_samples([clip], bundle.tokenizer, interleave_like_training(bundle.config, bundle.tokenizer), seed=config.seed)
    with torch.no_grad():
        out = batch_loss(bundle.student, bundle.teacher, collate_samples(built.samples, built.frames), DistillConfig(checkpoint_chunks=False))
    row = next(r for r in read_misalignment(store, ref).per_sample.to_pylist() if r["id"] == clip["id"])
    assert row["m"] == pytest.approx(float(out.dist), rel=1e-5)
