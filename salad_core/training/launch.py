"""The `deepspeed` launcher command for one training run, on one node or across a hostfile's nodes.

Usage:
    from salad_core.training.launch import ClusterConfig, launch_plan, launcher_command
    cluster = ClusterConfig(hostfile="/shared/hostfile", master_addr="10.0.0.1", shared_workdir="/shared/salad-train")
    plan = launch_plan(cluster, num_procs=8, store_uri="s3://bucket/salad")   # refuses what cannot work
    plan.world_size, plan.hosts                                                  # 16, ("gpu-a", "gpu-b")
    cmd = launcher_command("/usr/bin/deepspeed", "/shared/salad-train/job.json", plan, port=29500)

Why here and pure: a wrong hostfile or a store the other nodes cannot reach otherwise shows up
minutes later as a hung NCCL rendezvous or a checkpoint missing the remote ranks' optimizer
shards. Everything is decided from the hostfile text and the config before any process starts,
and every refusal names the hostfile line or the setting to change. See docs/multinode-training.md.

What multi-node needs (checked here when more than one host is active):
- the store on S3: every rank reads its data from it, rank 0 commits checkpoints and metrics to it,
  and a resumed or Stage II run on any node loads engine state from it. A local-folder store is
  refused (another node would read an empty folder of the same name).
- `shared_workdir`, a folder every node mounts at the same path: the job file is read by every
  rank, and rank 0 gathers DeepSpeed's per-rank engine files (ZeRO optimizer partitions) from the
  work folder's `ckpt/<tag>` to commit them. On node-local disks the remote ranks' partitions would
  be missing from the checkpoint and a resume would fail.
- a non-loopback `master_addr` (or none: DeepSpeed then asks the first host for `hostname -I`).
With no hostfile the command is the single-node one tasks/train.py has always run.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LOOPBACK = ("localhost", "127.0.0.1", "::1")
_LINE = re.compile(r"^(?P<host>[A-Za-z0-9_.:\[\]-]+)\s+slots=(?P<slots>\d+)\s*(?:#.*)?$")


class HostfileError(ValueError):
    """A hostfile, filter or cluster setting that cannot launch; the message names the line or field."""


class ClusterConfig(BaseModel):
    """Where the training processes run. The default (no hostfile) is this machine alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hostfile: str | None = Field(None, description="MPI-style hostfile, one 'HOST slots=N' per line ('#' comments); None: this machine only.")
    master_addr: str | None = Field(
        None,
        description="Address of the first host that every node can reach; None: 127.0.0.1 on one node, "
        "DeepSpeed's `hostname -I` of the first host across nodes.",
    )
    master_port: int | None = Field(None, ge=1, le=65535, description="Rendezvous port; None: a free port on the launching machine.")
    num_nodes: int | None = Field(None, ge=1, description="Use only the first N hosts of the hostfile.")
    include: str = Field("", description="DeepSpeed NODE_SPEC[@NODE_SPEC]: hosts (and slots, host:0,2) to use; excludes num_nodes.")
    exclude: str = Field("", description="DeepSpeed NODE_SPEC[@NODE_SPEC]: hosts or slots to leave out; excludes include and num_nodes.")
    launcher: Literal["pdsh", "openmpi", "mpich", "impi", "mvapich", "slurm"] = Field("pdsh", description="DeepSpeed's multi-node backend.")
    ssh_check: bool = Field(True, description="Let DeepSpeed check passwordless ssh to the first host before launching.")
    shared_workdir: str | None = Field(
        None, description="Folder mounted at the same path on every node (job file, per-rank engine files); required with more than one host."
    )


class Host(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    slots: int
    line: int


class LaunchPlan(BaseModel):
    """The resolved run: which hosts, which slots on each, and what the launcher is told."""

    model_config = ConfigDict(frozen=True)

    cluster: ClusterConfig
    num_procs: int = Field(description="Processes per node (GPUs, or CPU processes), `--num_gpus`.")
    slots: dict[str, tuple[int, ...]] = Field(default_factory=dict, description="Active host -> slot ids; empty: single node, no hostfile.")

    @property
    def hosts(self) -> tuple[str, ...]:
        """Active host names in hostfile order; empty when no hostfile is used."""
        return tuple(self.slots)

    @property
    def multi_node(self) -> bool:
        """Whether more than one host is active, which is when `check_multi_node` asks for a store every node reaches."""
        return len(self.slots) > 1

    @property
    def world_size(self) -> int:
        """Data-parallel processes of the whole run (what RunIdentity.world_size must be)."""
        return sum(len(s) for s in self.slots.values()) if self.slots else self.num_procs


def parse_hostfile(text: str, source: str = "hostfile") -> list[Host]:
    """Hosts in file order. Stricter than DeepSpeed's parser: it also refuses 0 slots, and names the line."""
    hosts: dict[str, Host] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise HostfileError(f"{source}:{number}: {raw!r} is not 'HOST slots=N' (e.g. 'gpu-node-1 slots=8')")
        name, slots = match["host"], int(match["slots"])
        if slots < 1:
            raise HostfileError(f"{source}:{number}: {name} has slots={slots}; a host needs at least one slot")
        if name in hosts:
            raise HostfileError(f"{source}:{number}: {name} is listed again (first at line {hosts[name].line})")
        hosts[name] = Host(name=name, slots=slots, line=number)
    if not hosts:
        raise HostfileError(f"{source}: names no host (every line is empty or a comment)")
    return list(hosts.values())


def _node_specs(spec: str, hosts: dict[str, Host], field: str) -> dict[str, tuple[int, ...] | None]:
    """DeepSpeed's NODE_SPEC[@NODE_SPEC] -> host -> slots (None: all), checked against the hostfile."""
    out: dict[str, tuple[int, ...] | None] = {}
    for part in spec.split("@"):
        name, _, slot_text = part.partition(":")
        if name not in hosts:
            raise HostfileError(f"cluster.{field}: host {name!r} is not in the hostfile (hosts: {', '.join(hosts)})")
        if not slot_text:
            out[name] = None
            continue
        try:
            slots = tuple(int(s) for s in slot_text.split(","))
        except ValueError:
            raise HostfileError(f"cluster.{field}: {part!r}: slots must be integers, e.g. {name}:0,2") from None
        bad = [s for s in slots if not 0 <= s < hosts[name].slots]
        if bad:
            raise HostfileError(f"cluster.{field}: {name} has slots 0..{hosts[name].slots - 1} (line {hosts[name].line}), not {bad}")
        out[name] = slots
    return out


def active_slots(hosts: list[Host], cluster: ClusterConfig, num_procs: int) -> dict[str, tuple[int, ...]]:
    """The slots each host will run, as DeepSpeed resolves them: include/exclude, else the first
    num_nodes hosts and slots [0, num_procs) on each."""
    by_name = {h.name: h for h in hosts}
    if cluster.include and cluster.exclude:
        raise HostfileError("cluster.include and cluster.exclude cannot both be set (DeepSpeed takes one filter)")
    if (cluster.include or cluster.exclude) and cluster.num_nodes is not None:
        raise HostfileError("cluster.num_nodes cannot be combined with include/exclude (DeepSpeed refuses both)")
    if cluster.include:
        chosen = _node_specs(cluster.include, by_name, "include")
        return OrderedDict((h.name, chosen[h.name] or tuple(range(h.slots))) for h in hosts if h.name in chosen)
    if cluster.exclude:
        dropped = _node_specs(cluster.exclude, by_name, "exclude")
        out = OrderedDict()
        for h in hosts:
            if h.name in dropped and dropped[h.name] is None:
                continue
            kept = tuple(s for s in range(h.slots) if s not in (dropped.get(h.name) or ()))
            if kept:
                out[h.name] = kept
        if not out:
            raise HostfileError(f"cluster.exclude {cluster.exclude!r} leaves no slot to run on")
        return out
    if cluster.num_nodes is not None and cluster.num_nodes > len(hosts):
        raise HostfileError(f"cluster.num_nodes is {cluster.num_nodes} but the hostfile lists {len(hosts)} host(s)")
    chosen_hosts = hosts[: cluster.num_nodes or len(hosts)]
    for h in chosen_hosts:
        if num_procs > h.slots:
            raise HostfileError(f"{cluster.hostfile}:{h.line}: {h.name} has {h.slots} slot(s), fewer than num_procs={num_procs} processes per node")
    return OrderedDict((h.name, tuple(range(num_procs))) for h in chosen_hosts)


def check_multi_node(plan: LaunchPlan, store_uri: str) -> None:
    """Refuse a multi-node plan whose nodes could not share the store, the work folder or the rendezvous."""
    if not plan.multi_node:
        return
    n = len(plan.hosts)
    if not store_uri.startswith("s3://"):
        raise HostfileError(
            f"training on {n} nodes ({', '.join(plan.hosts)}) needs a store every node reaches: {store_uri!r} is a "
            "local folder, which the other nodes would see empty or not at all; use an s3://bucket/prefix store"
        )
    if not plan.cluster.shared_workdir:
        raise HostfileError(
            f"training on {n} nodes needs cluster.shared_workdir, a folder mounted at the same path on every node: "
            "each rank reads the job file there and rank 0 gathers every rank's DeepSpeed engine files from it"
        )
    loopback = [h for h in plan.hosts if h in LOOPBACK]
    if loopback:
        raise HostfileError(f"{plan.cluster.hostfile}: {loopback[0]} names a different machine on each node; give the first host's network name")
    if plan.cluster.master_addr in LOOPBACK:
        raise HostfileError(f"cluster.master_addr {plan.cluster.master_addr!r} is a loopback address: the other nodes cannot reach it")


def launch_plan(cluster: ClusterConfig, num_procs: int, store_uri: str, hostfile_text: str | None = None) -> LaunchPlan:
    """Resolve and check a cluster for `num_procs` processes per node; reads the hostfile unless its text is given."""
    if cluster.hostfile is None:
        if cluster.num_nodes not in (None, 1) or cluster.include or cluster.exclude:
            raise HostfileError("cluster.num_nodes > 1, include and exclude select hosts of a hostfile: set cluster.hostfile")
        return LaunchPlan(cluster=cluster, num_procs=num_procs)
    if hostfile_text is None:
        try:
            hostfile_text = Path(cluster.hostfile).read_text()
        except OSError as err:
            raise HostfileError(f"cluster.hostfile {cluster.hostfile!r} cannot be read: {err.strerror}") from err
    hosts = parse_hostfile(hostfile_text, source=cluster.hostfile)
    plan = LaunchPlan(cluster=cluster, num_procs=num_procs, slots=active_slots(hosts, cluster, num_procs))
    check_multi_node(plan, store_uri)
    return plan


def launcher_command(deepspeed: str, job_file: str, plan: LaunchPlan, port: int, module: str = "tasks.train_worker") -> list[str]:
    """argv of the `deepspeed` launcher; `port` is used when the cluster names none."""
    c = plan.cluster
    port = c.master_port or port
    if c.hostfile is None:
        return [
            deepspeed,
            "--num_gpus",
            str(plan.num_procs),
            "--master_addr",
            c.master_addr or "127.0.0.1",
            "--master_port",
            str(port),
            "--module",
            module,
            "--job",
            job_file,
        ]
    cmd = [deepspeed, "--hostfile", c.hostfile, "--launcher", c.launcher]
    if c.include:
        cmd += ["--include", c.include]
    elif c.exclude:
        cmd += ["--exclude", c.exclude]
    else:
        if c.num_nodes is not None:
            cmd += ["--num_nodes", str(c.num_nodes)]
        cmd += ["--num_gpus", str(plan.num_procs)]
    if c.master_addr:
        cmd += ["--master_addr", c.master_addr]
    if not c.ssh_check:
        cmd.append("--no_ssh_check")
    return cmd + ["--master_port", str(port), "--module", module, "--job", job_file]


# Variables the workers need that DeepSpeed's pdsh runner does not forward (it exports only PYTHON*,
# NCCL*, UCX*, MV2*, MLFLOW*). Credentials are left out on purpose: every node takes its S3
# credentials from its own environment or ~/.aws, never from a file in the shared work folder.
FORWARDED_ENV = ("OMP_NUM_THREADS", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "SALAD_SCRATCH")


def deepspeed_env_file(env: dict[str, str]) -> str:
    """Text of the file DeepSpeed's multi-node runner exports on every node (point DS_ENV_FILE at it)."""
    lines = [f"{k}={env[k]}" for k in FORWARDED_ENV if env.get(k)]
    bad = [line for line in lines if "\n" in line or " " in line]
    if bad:
        raise HostfileError(f"environment values with spaces or newlines cannot be forwarded to the other nodes: {bad}")
    return "\n".join(lines) + ("\n" if lines else "")


SHM_DIR = Path("/dev/shm")


def deepspeed_shm_buffers(port: int, shm_dir: Path = SHM_DIR) -> list[Path]:
    """This machine's shared-memory allreduce buffers of the DeepSpeed job on rendezvous `port`.

    DeepSpeed's CPU communication (ops/csrc/cpu/comm/shm.cpp) creates one
    ``deepspeed_allreduce_buffer_<uid>_<addr>_<port>_<rank>`` per rank (69 MB each) and never
    unlinks it: 165 of them (11 GB of RAM in /dev/shm) had piled up after a day of test runs here.
    """
    return sorted(p for p in shm_dir.glob(f"deepspeed_allreduce_buffer_{os.getuid()}_*_{port}_*") if p.name.rsplit("_", 1)[-1].isdigit())


def remove_deepspeed_shm_buffers(port: int, shm_dir: Path = SHM_DIR) -> int:
    """Unlink the job's buffers (call once its ranks have exited; a rank still mapping one keeps its
    memory until it exits). Returns how many were removed."""
    removed = 0
    for path in deepspeed_shm_buffers(port, shm_dir):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
