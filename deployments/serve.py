"""Serve every deployment from this one process: no work pool and no worker, flow runs start as its subprocesses.

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m deployments.serve --preset tiny
    python -m deployments.serve --preset tiny --set ingest.bundled_docs=500 --schedules configs/schedules.yaml
    salad ui up --serve                 # starts a server and this process together

The same deployments as ``salad ui up`` registers on the process work pool (deployments/registry.py),
with their schedules; stop with Ctrl-C (runs in progress finish first).
"""

from __future__ import annotations

import os
from typing import Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402

from deployments.registry import build_deployments, declare_alerts, load_deployment_settings, paused_on_server  # noqa: E402
from flows.config import load_config  # noqa: E402


def serve_deployments(
    preset: str = typer.Option("tiny", "--preset", "-p", help="Preset for the deployments' default parameters."),
    overrides: Optional[list[str]] = typer.Option(None, "--set", "-s", help="Override, e.g. --set ingest.limit=500."),
    schedules: Optional[str] = typer.Option(None, help="Schedules file (default configs/schedules.yaml)."),
) -> None:
    """Serve every deployable flow (with schedules) until interrupted."""
    from prefect import serve

    config = load_config(preset, list(overrides or []))
    settings = load_deployment_settings(schedules)
    paused = paused_on_server(serve=True)  # schedules paused in the UI stay paused
    declare_alerts(settings.alerts)
    serve(*build_deployments(config, settings, work_pool=False, paused=paused))


if __name__ == "__main__":
    typer.run(serve_deployments)
