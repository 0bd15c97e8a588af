"""The orchestrator's ids for the manifest, read from Prefect when running under it.

A process the flow starts outside Prefect (the DeepSpeed ranks that commit checkpoints) gets the
ids of the task that started it through ``$SALAD_RUN_CONTEXT`` (JSON), so its artifacts name the
flow run that made them too.
"""

from __future__ import annotations

import json
import os

RUN_CONTEXT_ENV = "SALAD_RUN_CONTEXT"


def prefect_run_context() -> dict[str, str]:
    """Flow-run and task-run ids and names of the current Prefect run; else those handed down in
    $SALAD_RUN_CONTEXT; else empty (plain Python)."""
    from prefect.runtime import flow_run, task_run

    context = {
        "flow_run_id": flow_run.get_id(),
        "flow_run_name": flow_run.get_name(),
        "flow_name": flow_run.get_flow_name(),
        "task_run_id": task_run.get_id(),
        "task_run_name": task_run.get_name(),
    }
    found = {k: str(v) for k, v in context.items() if v}
    if not found and os.environ.get(RUN_CONTEXT_ENV):
        try:
            handed = json.loads(os.environ[RUN_CONTEXT_ENV])
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in handed.items() if k in context and v}
    return found


def run_context_env() -> dict[str, str]:
    """The environment entry that hands this run's ids to a child process (empty outside a run)."""
    context = prefect_run_context()
    return {RUN_CONTEXT_ENV: json.dumps(context)} if context else {}
