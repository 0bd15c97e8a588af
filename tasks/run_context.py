"""The orchestrator's ids for the manifest, read from Prefect when running under it."""

from __future__ import annotations


def prefect_run_context() -> dict[str, str]:
    from prefect.runtime import flow_run, task_run

    context = {
        "flow_run_id": flow_run.get_id(),
        "flow_run_name": flow_run.get_name(),
        "flow_name": flow_run.get_flow_name(),
        "task_run_id": task_run.get_id(),
        "task_run_name": task_run.get_name(),
    }
    return {k: str(v) for k, v in context.items() if v}
