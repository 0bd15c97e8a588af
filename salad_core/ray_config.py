"""Where a stage's work runs on Ray, and with what resources: settings only, never fingerprinted.

    RayStageConfig()                                                   # in-process, as on a laptop
    RayStageConfig(n_actors=2, num_cpus_per_actor=1)                   # 2 actors on a local Ray
    RayStageConfig(address="auto", n_actors=16, num_gpus_per_actor=0.5) # a running cluster, 2 actors per GPU

These models live in salad_core, not beside the Ray code in tasks, so that a configuration section
of salad_core (``EmbedConfig``) can carry one; nothing here imports Ray. How an artifact is
computed must not change what it is: stages leave these settings out of their fingerprints.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RayActorsConfig(BaseModel):
    """The cluster to use and what each actor reserves on it; shared by synthesis and the sharded stages."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(
        default=None,
        description="None: start Ray on this machine (and stop it afterwards). 'auto', 'host:port' or "
        "'ray://host:10001': join that running cluster (its nodes need this package installed).",
    )
    local_num_cpus: int | None = Field(default=None, ge=1, description="Logical CPUs of a locally started Ray (None: all cores of this machine).")
    local_num_gpus: int | None = Field(default=None, ge=0, description="GPUs of a locally started Ray (None: detected).")
    num_cpus_per_actor: float = Field(default=0.5, gt=0, description="CPUs reserved per actor; fractions allowed (0.5 keeps 2 actors + the driver on 2 cores).")
    num_gpus_per_actor: float = Field(default=0.0, ge=0, description="GPUs reserved per actor; fractions share one GPU (e.g. 0.25 = 4 actors per GPU).")
    max_in_flight_per_actor: int = Field(default=2, ge=1, description="Calls queued per actor, so it never idles while the driver collects results.")
    call_retries_on_worker_death: int = Field(
        default=2,
        ge=0,
        description="An actor whose process dies (OOM, segfault, its node lost) is restarted; the call it was running "
        "is retried this many times by Ray, then handed back as failed to the stage.",
    )
    worker_niceness: int | None = Field(
        default=None,
        ge=0,
        le=19,
        description="Unix niceness of the actor processes. None keeps Ray's (15: actors yield the CPU to every other "
        "process); 0 competes equally, e.g. on a machine shared with other jobs.",
    )


class RayStageConfig(RayActorsConfig):
    """A sharded stage (embedding, Mimi tokenization) on a pool of Ray actors, each writing its own shards."""

    n_actors: int = Field(default=0, ge=0, description="Actors, each with its own model; 0: run the shards in this process, without Ray.")
    num_cpus_per_actor: float = Field(default=1.0, gt=0, description="CPUs reserved per actor (fractions allowed); a CPU model uses this many threads.")
    call_timeout_s: float | None = Field(
        default=3600.0,
        gt=0,
        description="A shard taking longer than this (seconds) is treated as hung: its actor is killed and replaced, "
        "and the shard is retried. None: wait for ever.",
    )
    max_attempts_per_shard: int = Field(default=3, ge=1, description="Tries of one shard (after its actor died or hung) before the stage fails.")
    shared_filesystem: bool = Field(
        default=False,
        description="The store is a local path that every node of the cluster mounts at the same place (NFS, Lustre). "
        "Without it, a local-folder store is refused on a cluster of more than one node: workers write shards themselves.",
    )
