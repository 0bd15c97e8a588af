"""Training launched through a hostfile (tasks/train.py + salad_core/training/launch.py): the 2-process stand-in for two nodes."""

from __future__ import annotations

import pytest
import torch

from salad_core.training.launch import ClusterConfig, HostfileError
from tasks.train import plan_run, train_stage
from tests.test_training_data import TINY, tiny_training_inputs

torch.set_num_threads(1)
CFG = TINY.model_copy(update={"steps": 4, "num_procs": 2, "zero_stage": 2, "log_every": 2, "save_every": 2, "eval_every": 2})


@pytest.fixture(scope="module")
def inputs():
    return tiny_training_inputs()


def test_a_hostfile_run_commits_the_same_run_as_the_single_node_launch(inputs, tmp_path):
    (tmp_path / "hostfile").write_text("localhost slots=2\n")
    cluster = ClusterConfig(hostfile=str(tmp_path / "hostfile"), master_addr="127.0.0.1", ssh_check=False)
    out = train_stage.fn(CFG.model_copy(update={"cluster": cluster}), inputs.stage1_data(), inputs.teacher, inputs.store.objects.config)
    final = inputs.store.get(out.final).manifest
    assert not out.reused and final.params["world_size"] == 2 and final.stats["step"] == 4
    # which hosts ran it is not part of what was computed: the single-node launch finds the same run
    again = train_stage.fn(CFG, inputs.stage1_data(), inputs.teacher, inputs.store.objects.config)
    assert again.reused and again.final == out.final


def test_two_hosts_count_in_the_world_size_and_a_local_store_is_refused(inputs, tmp_path):
    (tmp_path / "hostfile").write_text("gpu-a slots=2\ngpu-b slots=2\n")
    cluster = ClusterConfig(hostfile=str(tmp_path / "hostfile"), master_addr="10.0.0.1", shared_workdir=str(tmp_path / "shared"))
    with pytest.raises(HostfileError, match=r"training on 2 nodes \(gpu-a, gpu-b\) needs a store every node reaches"):
        plan_run(inputs.store, CFG.model_copy(update={"cluster": cluster}), inputs.stage1_data(), inputs.teacher)
