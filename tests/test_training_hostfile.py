"""Multi-node launch: hostfile parsing and refusals, the launcher command, and a real hostfile launch of 2 ranks.

Run as a module by the `deepspeed` launcher (test_a_hostfile_command_launches_two_ranks), this file is
the probe each rank runs: it joins the process group and all-reduces its rank.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from salad_core.training.config import TrainConfig
from salad_core.training.launch import (
    ClusterConfig,
    HostfileError,
    deepspeed_env_file,
    deepspeed_shm_buffers,
    launch_plan,
    launcher_command,
    parse_hostfile,
    remove_deepspeed_shm_buffers,
)

REPO = Path(__file__).resolve().parent.parent
TWO_NODES = "# paper run\ngpu-a slots=8\ngpu-b slots=8  # second rack\n"
S3 = "s3://bucket/salad"
SHARED = ClusterConfig(hostfile="/shared/hostfile", master_addr="10.0.0.1", master_port=29500, shared_workdir="/shared/salad-train")


def test_two_node_hostfile_command_and_world_size():
    plan = launch_plan(SHARED, num_procs=8, store_uri=S3, hostfile_text=TWO_NODES)
    assert plan.hosts == ("gpu-a", "gpu-b") and plan.multi_node and plan.world_size == 16
    assert launcher_command("/venv/bin/deepspeed", "/shared/salad-train/job.json", plan, port=1234) == [
        "/venv/bin/deepspeed",
        "--hostfile",
        "/shared/hostfile",
        "--launcher",
        "pdsh",
        "--num_gpus",
        "8",
        "--master_addr",
        "10.0.0.1",
        "--master_port",
        "29500",
        "--module",
        "tasks.train_worker",
        "--job",
        "/shared/salad-train/job.json",
    ]


def test_no_hostfile_is_the_single_node_command_of_tasks_train():
    plan = launch_plan(ClusterConfig(), num_procs=2, store_uri="./salad-store")
    assert not plan.multi_node and plan.world_size == 2 and plan.hosts == ()
    assert launcher_command("/venv/bin/deepspeed", "/tmp/job.json", plan, port=4321) == [  # as tasks/train.py has always run it
        "/venv/bin/deepspeed",
        "--num_gpus",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        "4321",
        "--module",
        "tasks.train_worker",
        "--job",
        "/tmp/job.json",
    ]


@pytest.mark.parametrize(
    "cluster, procs, slots, argv",
    [
        (dict(num_nodes=1), 4, {"gpu-a": (0, 1, 2, 3)}, ["--num_nodes", "1", "--num_gpus", "4"]),
        (dict(include="gpu-a:0,2@gpu-b"), 8, {"gpu-a": (0, 2), "gpu-b": tuple(range(8))}, ["--include", "gpu-a:0,2@gpu-b"]),
        (dict(exclude="gpu-b:7"), 8, {"gpu-a": tuple(range(8)), "gpu-b": tuple(range(7))}, ["--exclude", "gpu-b:7"]),
        (dict(exclude="gpu-a"), 8, {"gpu-b": tuple(range(8))}, ["--exclude", "gpu-a"]),
    ],
    ids=["num-nodes", "include-slots", "exclude-slot", "exclude-host"],
)
def test_filters_resolve_slots_as_deepspeed_does(cluster, procs, slots, argv):
    plan = launch_plan(SHARED.model_copy(update=cluster), num_procs=procs, store_uri=S3, hostfile_text=TWO_NODES)
    assert plan.slots == slots and plan.world_size == sum(len(s) for s in slots.values())
    cmd = launcher_command("deepspeed", "job.json", plan, port=1)
    assert cmd[5 : 5 + len(argv)] == argv and ("--num_gpus" in cmd) == ("--num_gpus" in argv)


def test_a_single_host_may_use_a_local_store_and_no_shared_workdir():
    plan = launch_plan(ClusterConfig(hostfile="h", master_addr="127.0.0.1", ssh_check=False), 2, "./salad-store", "localhost slots=2\n")
    assert plan.world_size == 2 and not plan.multi_node
    assert "--no_ssh_check" in launcher_command("deepspeed", "job.json", plan, port=1)


@pytest.mark.parametrize(
    "text, match",
    [
        ("gpu-a slots=8\ngpu-b slot=8\n", r"hosts:2: 'gpu-b slot=8' is not 'HOST slots=N'"),
        ("gpu-a slots=8\n\ngpu-a slots=4\n", r"hosts:3: gpu-a is listed again \(first at line 1\)"),
        ("gpu-a slots=0\n", r"hosts:1: gpu-a has slots=0"),
        ("gpu-a slots=8 gpu-b slots=8\n", r"hosts:1: .* is not 'HOST slots=N'"),
        ("# nothing\n\n", r"hosts: names no host"),
    ],
    ids=["typo", "duplicate", "zero-slots", "two-on-one-line", "empty"],
)
def test_bad_hostfiles_are_refused_naming_the_line(text, match):
    with pytest.raises(HostfileError, match=match):
        parse_hostfile(text, source="hosts")


@pytest.mark.parametrize(
    "update, procs, store, match",
    [
        ({}, 8, "/data/salad-store", r"2 nodes \(gpu-a, gpu-b\) .* '/data/salad-store' is a local folder.*s3://"),
        ({"shared_workdir": None}, 8, S3, r"cluster.shared_workdir"),
        ({"master_addr": "127.0.0.1"}, 8, S3, r"master_addr '127.0.0.1' is a loopback"),
        ({}, 16, S3, r"hostfile:2: gpu-a has 8 slot\(s\), fewer than num_procs=16"),
        ({"num_nodes": 3}, 8, S3, r"num_nodes is 3 but the hostfile lists 2"),
        ({"include": "gpu-c"}, 8, S3, r"include: host 'gpu-c' is not in the hostfile"),
        ({"include": "gpu-a:8"}, 8, S3, r"gpu-a has slots 0..7 \(line 2\), not \[8\]"),
        ({"include": "gpu-a", "exclude": "gpu-b"}, 8, S3, r"cannot both be set"),
        ({"include": "gpu-a", "num_nodes": 1}, 8, S3, r"num_nodes cannot be combined"),
        ({"exclude": "gpu-a@gpu-b"}, 8, S3, r"leaves no slot"),
    ],
    ids=[
        "local-store",
        "no-shared-workdir",
        "loopback-master",
        "procs-over-slots",
        "too-many-nodes",
        "unknown-host",
        "bad-slot",
        "include-and-exclude",
        "include-and-num-nodes",
        "exclude-all",
    ],
)
def test_unlaunchable_clusters_are_refused_before_any_process_starts(update, procs, store, match):
    with pytest.raises(HostfileError, match=match):
        launch_plan(SHARED.model_copy(update=update), num_procs=procs, store_uri=store, hostfile_text=TWO_NODES)


def test_localhost_among_several_hosts_is_refused():
    with pytest.raises(HostfileError, match="localhost names a different machine on each node"):
        launch_plan(SHARED, 1, S3, "localhost slots=1\ngpu-b slots=1\n")


def test_filters_without_a_hostfile_and_an_unreadable_hostfile_are_refused(tmp_path):
    with pytest.raises(HostfileError, match="set cluster.hostfile"):
        launch_plan(ClusterConfig(num_nodes=2), 1, S3)
    with pytest.raises(HostfileError, match=r"cluster.hostfile '.*missing' cannot be read"):
        launch_plan(ClusterConfig(hostfile=str(tmp_path / "missing")), 1, S3)


def test_cluster_settings_do_not_change_the_run_fingerprint():
    base = TrainConfig.preset("3b")
    moved = base.model_copy(update={"cluster": SHARED})
    assert moved.content_params() == base.content_params() and "cluster" not in base.content_params()
    assert TrainConfig.model_validate(moved.model_dump(mode="json")).cluster == SHARED  # the job file carries it


def test_only_this_jobs_shared_memory_buffers_are_removed(tmp_path):
    uid = os.getuid()
    mine = [tmp_path / f"deepspeed_allreduce_buffer_{uid}_127.0.0.1_29611_{rank}" for rank in (0, 1)]
    others = [
        tmp_path / f"deepspeed_allreduce_buffer_{uid}_127.0.0.1_29612_0",  # another job's port
        tmp_path / f"deepspeed_allreduce_buffer_{uid + 1}_127.0.0.1_29611_0",  # another user's
        tmp_path / f"deepspeed_allreduce_buffer_{uid}_127.0.0.1_29611_x",  # not a rank's
    ]
    for path in mine + others:
        path.write_bytes(b"")
    assert deepspeed_shm_buffers(29611, tmp_path) == mine
    assert remove_deepspeed_shm_buffers(29611, tmp_path) == 2
    assert sorted(p for p in tmp_path.iterdir()) == sorted(others)


def test_forwarded_environment_has_no_credentials():
    env = {"OMP_NUM_THREADS": "4", "AWS_ENDPOINT_URL": "http://10.0.0.5:7480", "AWS_SECRET_ACCESS_KEY": "s3cret", "HOME": "/root"}
    assert deepspeed_env_file(env) == "OMP_NUM_THREADS=4\nAWS_ENDPOINT_URL=http://10.0.0.5:7480\n"
    with pytest.raises(HostfileError, match="spaces or newlines"):
        deepspeed_env_file({"SALAD_SCRATCH": "/a b"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_hostfile_command_launches_two_ranks(tmp_path):
    """The stand-in for two nodes: a one-host hostfile with 2 slots goes through DeepSpeed's hostfile
    path (resource pool, slot filter, world info) and starts 2 gloo ranks that all-reduce."""
    (tmp_path / "hostfile").write_text("localhost slots=2\n")
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"out": str(tmp_path)}))
    cluster = ClusterConfig(hostfile=str(tmp_path / "hostfile"), master_addr="127.0.0.1", ssh_check=False)
    plan = launch_plan(cluster, num_procs=2, store_uri=str(tmp_path / "store"))
    port = _free_port()
    cmd = launcher_command(str(Path(sys.executable).with_name("deepspeed")), str(job), plan, port, module="tests.test_training_hostfile")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    finally:
        remove_deepspeed_shm_buffers(port)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("rank*.json"))]
    assert results == [{"rank": 0, "sum": 1, "world": 2}, {"rank": 1, "sum": 1, "world": 2}]


def _probe() -> None:
    import torch
    import torch.distributed as dist

    parser = argparse.ArgumentParser()
    parser.add_argument("--job", required=True)
    parser.add_argument("--local_rank", type=int, default=0)
    args = parser.parse_args()
    out = Path(json.loads(Path(args.job).read_text())["out"])
    dist.init_process_group("gloo")
    total = torch.tensor([dist.get_rank()])
    dist.all_reduce(total)
    (out / f"rank{dist.get_rank()}.json").write_text(json.dumps({"rank": dist.get_rank(), "world": dist.get_world_size(), "sum": int(total)}))
    dist.destroy_process_group()


if __name__ == "__main__":
    _probe()
