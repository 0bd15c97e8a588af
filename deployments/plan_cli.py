"""`salad plan`: wall time, device-hours and storage of every SALAD stage at paper scale, before renting a cluster.

    salad plan --preset 3b                                   # 64 H100 over 8 nodes (the default cluster)
    salad plan --preset 3b --device-kind a100 --gpus 128 --nodes 16
    salad plan --preset 3b --device-kind cpu --nodes 64      # 64 machines like the one the CPU figures were measured on
    .venv/bin/python -m deployments.plan_cli --device-kind h200 --gpus 8 --nodes 1   # without the salad entry point

Each row says whether its throughput was measured on this project's machines or is an assumption
(and which): the table is only as good as its figures, and a GPU figure stays an assumption until a
GPU run of the benchmarks replaces it (salad_core/selection/cost.py holds every figure and its source).
"""

from __future__ import annotations

from typing import Optional

import typer
from pydantic import ValidationError

from salad_core.selection.cost import PlanCluster, cost_markdown, paper_plan

DEVICE_KINDS = ("h100", "a100", "h200", "cpu")
GPUS_PER_NODE = 8
CPU_MACHINES = 64


def plan(
    preset: str = typer.Option("3b", "--preset", "-p", help="The paper-scale preset to plan (3b)."),
    device_kind: str = typer.Option("h100", "--device-kind", "-d", help=f"One of {', '.join(DEVICE_KINDS)}: the device every parallel stage runs on."),
    gpus: Optional[int] = typer.Option(None, help="GPUs in the cluster (default 64); not with --device-kind cpu."),
    nodes: Optional[int] = typer.Option(
        None, help=f"Machines: GPU nodes (default GPUs / {GPUS_PER_NODE}), or 2-core machines for cpu (default {CPU_MACHINES})."
    ),
    cpu_cores_per_node: int = typer.Option(32, help="CPU cores per GPU node, for ingest and clustering."),
) -> None:
    """Wall time, device-hours and storage of every stage at paper scale, measured figures and assumptions marked."""
    if preset != "3b":
        raise typer.BadParameter("only the 3b paper-scale workload is modelled (7b: the same data, about 2.3x the training FLOPs)", param_hint="--preset")
    kind = device_kind.lower()
    if kind not in DEVICE_KINDS:
        raise typer.BadParameter(f"{device_kind!r} is not one of {', '.join(DEVICE_KINDS)}", param_hint="--device-kind")
    print(cost_markdown(paper_plan(cluster_of(kind, gpus, nodes, cpu_cores_per_node))))


def cluster_of(kind: str, gpus: int | None, nodes: int | None, cpu_cores_per_node: int) -> PlanCluster:
    """The defaults a user means: 8 GPUs per node, or 64 measured-size machines for cpu."""
    if kind == "cpu":
        if gpus is not None:
            raise typer.BadParameter("a cpu plan has no GPUs: give --nodes (2-core machines)", param_hint="--gpus")
        nodes = nodes or CPU_MACHINES
        gpus = nodes
    else:
        gpus = gpus or 64
        nodes = nodes or max(1, gpus // GPUS_PER_NODE)
    try:
        return PlanCluster(device_kind=kind, gpus=gpus, nodes=nodes, cpu_cores_per_node=cpu_cores_per_node)
    except ValidationError as err:
        raise typer.BadParameter("; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())) from None


app = typer.Typer(help=plan.__doc__, add_completion=False)
app.command()(plan)

if __name__ == "__main__":
    app()
