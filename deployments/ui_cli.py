"""``salad ui``: the Prefect UI with this project's deployments, on this machine, in one command.

    salad ui up                                   # server + deployments + worker; open http://127.0.0.1:4200
    salad ui up --preset tiny --set ingest.bundled_docs=500 --port 4300
    salad ui up --database-url postgresql+asyncpg://prefect:pw@127.0.0.1:5432/prefect
    salad ui up --serve                           # one serve process instead of a work pool + worker
    salad ui status                               # what runs, deployments, schedules, recent runs
    salad ui run regenerate --set ingest.limit=500 --wait   # trigger a deployment (like the UI's Run button)
    salad ui deploy                               # (re)register deployments (on the server of `up`, else $PREFECT_API_URL)
    salad ui reconcile                            # mark Crashed the runs killed processes left Running
    salad ui down                                 # stop worker and server (the database stays)

Until it is part of the ``salad`` command: ``python -m deployments.ui_cli up``. Everything it
keeps (SQLite database, logs, process ids) is under ``--home`` (default ``./.salad-ui``), so the
user's own ``~/.prefect`` is left alone. The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from deployments.registry import DEPLOYABLES, load_deployment_settings, register  # noqa: E402
from deployments.server import DEFAULT_PORT, PrefectServer, pid_alive, reconcile_runs, start_background, stop_process, tail  # noqa: E402
from flows.config import apply_override, load_config  # noqa: E402

app = typer.Typer(help="Run the Prefect UI locally with the SALAD deployments.", no_args_is_help=True)
console = Console()

HomeOpt = typer.Option(".salad-ui", "--home", help="Folder for the UI's database, logs and process ids.")
PresetOpt = typer.Option("tiny", "--preset", "-p", help="Preset for the deployments' default parameters.")
SetOpt = typer.Option(None, "--set", "-s", help="Override, e.g. --set ingest.limit=500 (repeatable).")
StoreOpt = typer.Option(None, "--store", help="Store URI for the deployments (default: $SALAD_STORE or ./salad-store).")
SchedulesOpt = typer.Option(None, "--schedules", help="Schedules and work pool file (default configs/schedules.yaml).")


class UiState(BaseModel):
    """What ``up`` started, so that ``status`` and ``down`` find it again."""

    home: str
    url: str
    api_url: str
    server_pid: int
    runner_pid: int | None = None
    reconciler_pid: int | None = None
    mode: str = "worker"  # worker | serve
    work_pool: str | None = None

    @classmethod
    def path(cls, home: Path) -> Path:
        """Where ``up`` keeps its state under ``home``."""
        return home / "state.json"

    @classmethod
    def load(cls, home: Path) -> "UiState | None":
        """The state ``up`` saved under ``home``, or None if there is none (the processes it names may have ended since)."""
        path = cls.path(home)
        return cls.model_validate_json(path.read_text()) if path.exists() else None

    def save(self) -> None:
        """Write the state under ``home``, for ``status`` and ``down`` to find."""
        self.path(Path(self.home)).write_text(self.model_dump_json(indent=2))


def cli_config(preset: str, overrides: Optional[list[str]], store: Optional[str]):
    """Preset + --set overrides + --store, with configuration errors shown as CLI usage errors."""
    try:
        return load_config(preset, _overrides(overrides, store))
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc


def _api(api_url: str):
    """Prefect client settings pointed at ``api_url`` for this process only."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: api_url})


@app.command()
def up(
    preset: str = PresetOpt,
    overrides: Optional[list[str]] = SetOpt,
    store: Optional[str] = StoreOpt,
    port: int = typer.Option(DEFAULT_PORT, help="Port on 127.0.0.1."),
    home: Path = HomeOpt,
    database_url: Optional[str] = typer.Option(None, envvar="PREFECT_API_DATABASE_CONNECTION_URL", help="Database URL (default: SQLite under --home)."),
    schedules: Optional[str] = SchedulesOpt,
    serve: bool = typer.Option(False, "--serve", help="Serve deployments from one process instead of a work pool + worker."),
) -> None:
    """Start a Prefect server on 127.0.0.1, register the deployments, start the worker."""
    home = home.resolve()
    state = UiState.load(home)
    if state and pid_alive(state.server_pid):
        console.print(f"already running at {state.url} (salad ui down --home {home} to stop it)")
        return
    cfg = cli_config(preset, overrides, store)
    settings = load_deployment_settings(schedules)
    started = time.monotonic()
    server = PrefectServer(home / "prefect", port, database_url).start()
    state = UiState(home=str(home), url=server.url, api_url=server.api_url, server_pid=server.process.pid)
    state.save()
    env = server.env()
    try:
        _reconcile_once(server.api_url)  # runs of processes killed since the last `up`
        reconciler = [sys.executable, "-m", "deployments.ui_cli", "reconcile", "--every", str(RECONCILE_EVERY_S), "--home", str(home)]
        state.reconciler_pid = start_background(reconciler, env, home / "reconcile.log", cwd=Path.cwd()).pid
        state.save()
        if serve:
            args = [sys.executable, "-m", "deployments.serve", "--preset", preset]
            args += [a for o in _overrides(overrides, store) for a in ("--set", o)]
            args += ["--schedules", schedules] if schedules else []
            state.runner_pid = start_background(args, env, home / "serve.log", cwd=Path.cwd()).pid
            state.mode = "serve"
            state.save()
            _wait_for_deployments(server.api_url, len(DEPLOYABLES), state.runner_pid, home / "serve.log")
        else:
            with _api(server.api_url):
                register(cfg, settings)
            pool = settings.work_pool
            args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool.name, "--type", pool.type, "--name", f"salad-{port}"]
            state.runner_pid = start_background(args, env, home / "worker.log", cwd=Path.cwd()).pid
            state.mode, state.work_pool = "worker", pool.name
            state.save()
            _wait_for_worker(server.api_url, pool.name, state.runner_pid, home / "worker.log")
    except Exception:
        down(home)
        raise
    console.print(f"[bold green]Prefect UI[/] at {server.url}  ({time.monotonic() - started:.0f}s; {state.mode} mode)")
    _print_deployments(server.api_url)
    console.print(f"logs: {home}/*.log   stop: salad ui down --home {home}")


@app.command()
def down(home: Path = HomeOpt) -> None:
    """Stop the worker (or serve process), then the server. The database and logs stay."""
    home = home.resolve()
    state = UiState.load(home)
    if state is None:
        console.print(f"nothing recorded under {home}")
        return
    runner = "worker" if state.mode == "worker" else "serve process"
    for label, pid in ((runner, state.runner_pid), ("reconciler", state.reconciler_pid), ("server", state.server_pid)):
        if pid and stop_process(pid):
            console.print(f"stopped the {label} (pid {pid})")
    UiState.path(home).unlink(missing_ok=True)


@app.command()
def status(home: Path = HomeOpt) -> None:
    """Whether the server and worker run, the deployments with their schedules, and recent flow runs."""
    home = home.resolve()
    state = UiState.load(home)
    if state is None or not pid_alive(state.server_pid):
        console.print(f"not running (nothing alive under {home}); start it with: salad ui up")
        raise typer.Exit(1)
    runner = "running" if state.runner_pid and pid_alive(state.runner_pid) else "[red]not running[/]"
    console.print(f"server: {state.url} (pid {state.server_pid}); {state.mode}: {runner} (pid {state.runner_pid})")
    if state.reconciler_pid:
        alive = "running" if pid_alive(state.reconciler_pid) else "[red]not running[/]"
        console.print(f"reconciler (marks runs of killed processes Crashed): {alive} (pid {state.reconciler_pid}, reconcile.log)")
    _print_deployments(state.api_url)
    _print_recent_runs(state.api_url)


@app.command()
def deploy(
    preset: str = PresetOpt,
    overrides: Optional[list[str]] = SetOpt,
    store: Optional[str] = StoreOpt,
    schedules: Optional[str] = SchedulesOpt,
    home: Path = HomeOpt,
) -> None:
    """(Re)register every deployment, and the alerts, on the server `up` started under --home (else
    the one of $PREFECT_API_URL). Schedules and deployments paused in the UI stay paused."""
    with _api(_api_url(home)):
        ids = register(cli_config(preset, overrides, store), load_deployment_settings(schedules))
    for name, deployment_id in ids.items():
        console.print(f"{name}: {deployment_id}")


RECONCILE_EVERY_S = 10.0


@app.command()
def reconcile(
    home: Path = HomeOpt,
    every: float = typer.Option(0.0, "--every", help="Repeat every this many seconds while the server runs (0: once)."),
) -> None:
    """Mark Crashed the flow runs whose process is gone and the task runs of ended flow runs.

    Prefect leaves both Running for ever after a kill -9 (of a run, its worker or a `salad run`
    driver); `salad ui up` starts this with --every, so the UI tells the truth within seconds."""
    api_url = _api_url(home)
    if not every:
        _reconcile_once(api_url)
        return
    state = UiState.load(home.resolve())
    while state is None or pid_alive(state.server_pid):
        try:
            _reconcile_once(api_url)
        except Exception as exc:  # noqa: BLE001 - a busy or restarting server: next round
            console.print(f"reconciliation failed ({type(exc).__name__}: {exc}); trying again in {every:.0f}s")
        time.sleep(every)


def _reconcile_once(api_url: str) -> None:
    with _api(api_url):
        flows, tasks = reconcile_runs()
    for kind, names in (("flow run", flows), ("task run", tasks)):
        for name in names:
            console.print(f"marked {kind} {name} Crashed", soft_wrap=True)


@app.command("run")
def run_deployment_command(
    deployment: str = typer.Argument(..., help="A deployment name (regenerate, pipeline, ingest) or FLOW/DEPLOYMENT."),
    overrides: Optional[list[str]] = SetOpt,
    wait: bool = typer.Option(False, "--wait", help="Wait until the run ends; print its state and artifacts."),
    home: Path = HomeOpt,
) -> None:
    """Trigger a deployment as the UI's Run button does; --set changes fields of its default parameters."""
    from prefect.client.orchestration import get_client

    api_url = _api_url(home)
    name = _deployment_name(deployment)
    with _api(api_url), get_client(sync_client=True) as client:
        target = client.read_deployment_by_name(name)
        parameters = dict(target.parameters)
        # a flow taking the whole configuration has it under "config"; others take sections by name
        for override in overrides or []:
            _apply(parameters["config"] if "config" in parameters else parameters, override)
        run = client.create_flow_run_from_deployment(target.id, parameters=parameters)
        console.print(f"{name}: flow run {run.name} ({run.id})", soft_wrap=True)
        console.print(f"  {api_url[: -len('/api')]}/runs/flow-run/{run.id}", soft_wrap=True)
        if not wait:
            return
        while not (run := client.read_flow_run(run.id)).state.is_final():
            time.sleep(1)
        console.print(run.state.type.value + (f": {run.state.message}" if run.state.message else ""), soft_wrap=True)
        for artifact in client.read_artifacts(artifact_filter=_artifact_filter(run.id)):
            console.print(f"  {artifact.key}: {artifact.description}", soft_wrap=True)
    if not run.state.is_completed():
        raise typer.Exit(1)


# -- helpers ------------------------------------------------------------------------------------
def _api_url(home: Path) -> str:
    """The server ``up`` started under ``home``, else $PREFECT_API_URL."""
    from prefect.settings import PREFECT_API_URL

    state = UiState.load(home.resolve())
    if state and pid_alive(state.server_pid):
        return state.api_url
    if PREFECT_API_URL.value():
        return PREFECT_API_URL.value()
    raise typer.BadParameter(f"no server recorded under {home.resolve()} and PREFECT_API_URL is not set: salad ui up first")


def _deployment_name(deployment: str) -> str:
    if "/" in deployment:
        return deployment
    for item in DEPLOYABLES:
        if item.name == deployment:
            return f"{item.load_flow().name}/{item.name}"
    raise typer.BadParameter(f"unknown deployment {deployment!r}; known: {[d.name for d in DEPLOYABLES]}")


def _apply(parameters: dict, override: str) -> None:
    try:
        apply_override(parameters, override)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _artifact_filter(flow_run_id):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    return ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))


def _overrides(overrides: Optional[list[str]], store: Optional[str]) -> list[str]:
    return list(overrides or []) + ([f"store.uri={store}"] if store else [])


def _wait_for_worker(api_url: str, pool: str, pid: int, log: Path, timeout: float = 120.0) -> None:
    _wait_until(
        api_url,
        lambda client: any(w.status == "ONLINE" for w in client.read_workers_for_work_pool(pool)),
        f"a worker online in pool {pool!r}",
        "the worker",
        pid,
        log,
        timeout,
    )


def _wait_for_deployments(api_url: str, count: int, pid: int, log: Path, timeout: float = 120.0) -> None:
    # served deployments have no work pool; a stopped serve process leaves them paused
    _wait_until(
        api_url,
        lambda client: sum(d.work_pool_name is None and not d.paused for d in client.read_deployments()) >= count,
        f"{count} served deployments",
        "the serve process",
        pid,
        log,
        timeout,
    )


def _wait_until(api_url: str, ready, what: str, process: str, pid: int, log: Path, timeout: float) -> None:
    """Poll the API until ``ready(client)``; fail at once, with the log's tail, if the process we started died."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with _api(api_url), get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                raise RuntimeError(f"{process} exited; log {log}:\n{tail(log)}")
            if ready(client):
                return
            time.sleep(0.5)
    raise TimeoutError(f"no {what} within {timeout:.0f}s; log {log}:\n{tail(log)}")


def _print_deployments(api_url: str) -> None:
    from prefect.client.orchestration import get_client

    table = Table(title="deployments")
    for col in ("deployment", "schedule", "work pool", "description"):
        table.add_column(col)
    with _api(api_url), get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        for d in sorted(client.read_deployments(), key=lambda d: (flows.get(d.flow_id, ""), d.name)):
            crons = ", ".join(
                f"{s.schedule.cron} {s.schedule.timezone or ''}{'' if s.active else ' (paused)'}".strip()
                for s in d.schedules
                if getattr(s.schedule, "cron", None)
            )
            table.add_row(f"{flows.get(d.flow_id)}/{d.name}", crons or "-", d.work_pool_name or "(serve)", d.description or "")
    Console(width=max(console.width, 150)).print(table)
    console.print("trigger one: salad ui run regenerate --wait   (or the Run button on the deployment's page)")


def _print_recent_runs(api_url: str, limit: int = 8) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    table = Table(title="recent flow runs")
    for col in ("flow run", "id", "state", "started"):
        table.add_column(col)
    with _api(api_url), get_client(sync_client=True) as client:
        for run in client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=limit):
            table.add_row(run.name, str(run.id), run.state_name or "", str(run.start_time or "")[:19])
    Console(width=max(console.width, 150)).print(table)


def main() -> None:
    """Run the ``salad ui`` commands on their own: ``python -m deployments.ui_cli`` (how ``up`` starts the reconciler)."""
    app()


if __name__ == "__main__":
    main()
