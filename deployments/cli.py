"""The ``salad`` command: run flows, inspect artifacts and their lineage.

    salad demo                                   # the whole SALAD method on the embedded default
    salad run salad --set selection.gamma=0      # any flow of deployments/registry.py, with overrides
    salad run ingest --preset tiny --set ingest.limit=500
    salad run tts --set tts.limit=20             # synthesise + gate a sample of the corpus (Ray)
    salad run natural-speech --set natural_speech.kind=folder --set natural_speech.folder=/data/clips
    salad artifacts list
    salad artifacts list --stale                 # the catalog: newest version per artifact, stale ones marked
    salad artifacts show corpus                  # newest version; or corpus@<fingerprint prefix>
    salad artifacts verify [--repair]            # every file against its manifest's hashes
    salad lineage corpus --json
    salad selection report --out selection.png   # M(c), P_web vs P_target, drift; the figure
    salad eval report                            # the evaluation table, checkpoints side by side
    salad quarantine list                        # every quarantined row of the store, with its stage and reason
    salad config show --preset 3b
    salad plan --preset 3b --device-kind h100 --gpus 64 --nodes 8   # paper-scale wall time, device-hours, storage (measured vs assumed)
    salad --debug …                              # errors print as one line; --debug shows the traceback

The store is ``--store`` or ``$SALAD_STORE`` or ``./salad-store`` (an ``s3://bucket/prefix`` works).
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from typing import Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Prefect's usage telemetry writes to its SQLite database at start-up and can collide with the
# ephemeral server's own writes ("database is locked"); it also phones home. Off by default.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from deployments.catalog_cli import catalog_list  # noqa: E402
from deployments.plan_cli import plan as plan_command  # noqa: E402
from deployments.quarantine_cli import app as quarantine_app  # noqa: E402
from deployments.ui_cli import app as ui_app  # noqa: E402
from deployments.ui_cli import cli_config as _config  # noqa: E402
from storage import ArtifactNotFound, ArtifactStore, StoreConfig  # noqa: E402
from storage.lineage import render_tree  # noqa: E402

app = typer.Typer(help="SALAD pipeline: run flows, inspect versioned artifacts and lineage.", no_args_is_help=True)
artifacts_app = typer.Typer(help="List and inspect stored artifacts.", no_args_is_help=True)
config_app = typer.Typer(help="Show resolved configurations.", no_args_is_help=True)
clusters_app = typer.Typer(help="Look at the web-text clusters.", no_args_is_help=True)
app.add_typer(artifacts_app, name="artifacts")
app.add_typer(clusters_app, name="clusters")
selection_app = typer.Typer(help="Look at the active selection.", no_args_is_help=True)
eval_app = typer.Typer(help="Look at the evaluation results.", no_args_is_help=True)
app.add_typer(selection_app, name="selection")
app.add_typer(eval_app, name="eval")
app.add_typer(ui_app, name="ui")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(config_app, name="config")
app.command("plan")(plan_command)
console = Console()

StoreOpt = typer.Option(None, "--store", help="Store URI (default: $SALAD_STORE or ./salad-store).")
PresetOpt = typer.Option("tiny", "--preset", "-p", help="Preset name (configs/<name>.yaml) or a YAML path.")
SetOpt = typer.Option(None, "--set", "-s", help="Override, e.g. --set ingest.limit=500 (repeatable).")


def _store(uri: Optional[str]) -> ArtifactStore:
    return ArtifactStore.open(StoreConfig(uri=uri) if uri else StoreConfig())


# -- running ------------------------------------------------------------------------------------
@app.command()
def run(
    flow_name: str = typer.Argument(..., help="salad | pipeline | ingest | tts | natural-speech | regenerate (deployments/registry.py)"),
    preset: str = PresetOpt,
    overrides: Optional[list[str]] = SetOpt,
    store: Optional[str] = StoreOpt,
) -> None:
    """Run one flow under Prefect with a preset and overrides."""
    cfg = _config(preset, overrides, store)
    with shard_progress_bar():
        result = _run_flow(flow_name, cfg)
    for stage, outputs in result.items():
        console.print(f"[bold]{stage}[/]: {json.dumps(outputs)}", soft_wrap=True)


@contextmanager
def shard_progress_bar():
    """A rich progress bar per sharded stage while a flow runs in this process (log lines print above it)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tasks.progress import add_progress_listener, remove_progress_listener

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        bars: dict[str, int] = {}

        def show(label: str, done: int, total: int | None) -> None:
            if label not in bars:
                bars[label] = bar.add_task(label, total=total)
            bar.update(bars[label], completed=done, total=total)

        add_progress_listener(show)
        try:
            yield
        finally:
            remove_progress_listener(show)


def _run_flow(flow_name: str, cfg) -> dict:
    """Run a flow of the registry (deployments/registry.py) with its parameters taken from `cfg`."""
    from deployments.registry import deployable, flow_arguments

    try:
        flow = deployable(flow_name).load_flow()
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    args = flow_arguments(flow, cfg)
    missing = [name for name, value in args.items() if value is None]
    if missing:
        raise typer.BadParameter(f"the {flow_name} flow needs {', '.join(missing)}, e.g. --set {missing[0]}.kind=folder --set {missing[0]}.folder=/data/clips")
    result = flow(**args)
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else {"result": result}


@app.command("stage")
def stage_command(
    name: str = typer.Argument(..., help="ingest | embed | cluster | tokenizer | teacher | stage1_texts | probe_texts"),
    parents: Optional[list[str]] = typer.Option(None, "--parent", help="A parent version NAME@FINGERPRINT (repeatable; newest when left out)."),
    preset: str = PresetOpt,
    overrides: Optional[list[str]] = SetOpt,
    store: Optional[str] = StoreOpt,
) -> None:
    """Run one stage on given parent versions, e.g. salad stage cluster --set cluster.k=8 (flows/stage_flow.py)."""
    from deployments.registry import deployable
    from flows.stage_flow import STAGES

    if name not in STAGES:
        raise typer.BadParameter(f"unknown stage {name!r}; known: {', '.join(STAGES)}")
    cfg = _config(preset, overrides, store)
    with shard_progress_bar():
        result = deployable("stage").load_flow()(name, {p.split("@", 1)[0]: p for p in parents or []}, cfg)
    console.print_json(result.model_dump_json())


@app.command()
def demo(preset: str = PresetOpt, overrides: Optional[list[str]] = SetOpt, store: Optional[str] = StoreOpt) -> None:
    """The whole SALAD method on the embedded default, then what it stored and the evaluation table."""
    import time

    cfg = _config(preset, overrides, store)
    started = time.perf_counter()
    with shard_progress_bar():
        _run_flow("salad", cfg)
    artifacts_list(cfg.store.uri)
    s = _store(cfg.store.uri)
    quarantined = sum(s.get(n).num_rows for n in s.names() if n.endswith("_quarantine"))
    console.print(
        f"{quarantined} row(s) quarantined (salad quarantine list); lineage of any artifact: salad lineage <name>; "
        f"the selection: salad selection report; {time.perf_counter() - started:.0f} s in all"
    )
    console.print("[bold]evaluation[/] (acc_norm %, teacher on text vs student on text and on speech; gap = teacher text − student speech)")
    eval_report(None, cfg.store.uri, paper=cfg.preset if cfg.preset in ("3b", "7b") else None)


# -- inspecting ---------------------------------------------------------------------------------
@artifacts_app.command("list")
def artifacts_list(
    store: Optional[str] = StoreOpt,
    stale: bool = typer.Option(False, "--stale", help="The catalog: newest version of each artifact, stale ones marked with why (storage/catalog.py)."),
    only_stale: bool = typer.Option(False, "--only-stale", help="With --stale: only the stale artifacts."),
    as_json: bool = typer.Option(False, "--json", help="With --stale: one JSON object per line."),
) -> None:
    """Every artifact name with its versions (newest first); --stale: the catalog with stale flags."""
    if stale is True:  # `is True`: demo() calls this function directly, where the defaults are Option objects
        catalog_list(store, only_stale=only_stale is True, as_json=as_json is True)
        return
    s = _store(store)
    table = Table(title=f"artifacts in {s.uri}")
    for col in ("name", "fingerprint", "created", "rows", "bytes", "shards", "code"):
        table.add_column(col, no_wrap=col in ("name", "fingerprint", "created"))
    for name in s.names():
        for i, m in enumerate(s.versions(name)):
            table.add_row(name if i == 0 else "", m.fingerprint, m.created_at[:19], str(m.num_rows), f"{m.num_bytes:,}", str(len(m.shards)), m.code_version)
    # never truncate names or fingerprints, also when piped (rich assumes 80 columns then)
    Console(width=max(console.width, 150)).print(table)


@artifacts_app.command("show")
def artifacts_show(
    ref: str = typer.Argument(..., help="NAME or NAME@FINGERPRINT (a prefix is enough)"),
    store: Optional[str] = StoreOpt,
    rows: int = typer.Option(5, help="Sample rows to print."),
) -> None:
    """Manifest, schema and sample rows of one version."""
    try:
        artifact = _store(store).get(ref)
    except ArtifactNotFound as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    m = artifact.manifest
    console.print_json(m.model_dump_json(exclude={"shards", "schema_fields"}))
    console.print(f"[bold]location[/]: {artifact.ref.uri}")
    console.print("[bold]schema[/]: " + ", ".join(f"{f['name']}: {f['type']}" for f in m.schema_fields))
    console.print("[bold]shards[/]: " + ", ".join(f"{s.shard}:{s.rows}" for s in m.shards))
    if rows:
        sample = artifact.lazy().head(rows).collect()
        with_pl_config(lambda: console.print(sample))


def with_pl_config(fn) -> None:
    """Call `fn` with polars' printing widened (longer strings, wider tables, more columns) for sample rows."""
    import polars as pl

    with pl.Config(fmt_str_lengths=60, tbl_width_chars=160, tbl_cols=12):
        fn()


@app.command()
def lineage(
    ref: str = typer.Argument(..., help="NAME or NAME@FINGERPRINT"),
    store: Optional[str] = StoreOpt,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Upstream tree (what it was made from) and downstream dependents (what was made from it)."""
    s = _store(store)
    try:
        up, down = s.upstream(ref), s.downstream(ref)
    except ArtifactNotFound as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps({"upstream": up.model_dump(), "downstream": [d.model_dump() for d in down]}, indent=2))
        return
    console.print("[bold]upstream[/] (this artifact and what it was made from)")
    console.print(render_tree(up), highlight=False)
    console.print("[bold]downstream[/] (what was made from it)")
    console.print(render_tree(up, down) if down else "(none)", highlight=False)


@artifacts_app.command("gc")
def artifacts_gc(store: Optional[str] = StoreOpt, grace_hours: float = typer.Option(1.0, help="Keep leftovers younger than this.")) -> None:
    """Remove uncommitted leftovers of crashed writers (committed data is never touched)."""
    from tasks.scratch import clean_scratch

    removed = _store(store).gc(grace_hours * 3600)
    scratch = clean_scratch()
    console.print(f"removed {len(removed)} uncommitted file(s) and {len(scratch)} scratch folder(s) of processes that are gone")


@artifacts_app.command("verify")
def artifacts_verify(
    ref: Optional[str] = typer.Argument(None, help="NAME or NAME@FINGERPRINT (default: every committed version)"),
    repair: bool = typer.Option(False, "--repair", help="Move damaged versions aside; their stages rebuild them on the next run."),
    store: Optional[str] = StoreOpt,
) -> None:
    """Check every version's files against its manifest (sizes and sha256); exit 1 naming each damaged one."""
    report = _store(store).verify(ref, repair=repair)
    typer.echo(report.text())
    if report.damaged:
        raise typer.Exit(1)


def print_report(ref: str, store: Optional[str], out: Optional[str]) -> None:
    """A report artifact (one row: markdown + png): the markdown to stdout, the figure to `out`."""
    try:
        row = _store(store).get(ref).to_table().to_pylist()[0]
    except ArtifactNotFound as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    print(row["markdown"])
    if out:
        with open(out, "wb") as f:
            f.write(row["png"])
        console.print(f"figure written to {out}")


@clusters_app.command("report")
def clusters_report(
    ref: str = typer.Argument("cluster_report", help="cluster_report[@FINGERPRINT]"),
    store: Optional[str] = StoreOpt,
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Write the figure (PNG) here."),
) -> None:
    """The cluster summary (sizes, shares, top terms, an example each) and the figure."""
    print_report(ref, store, out)


@selection_app.command("report")
def selection_report(
    ref: str = typer.Argument("selection_report", help="selection_report[@FINGERPRINT]"),
    store: Optional[str] = StoreOpt,
    out: Optional[str] = typer.Option(None, "--out", "-o", help="Write the figure (PNG) here."),
) -> None:
    """M(c) with intervals and top terms, P_web vs P_target, expected vs realised, ESS, entropy, drift."""
    print_report(ref, store, out)


@eval_app.command("report")
def eval_report(
    refs: Optional[list[str]] = typer.Argument(None, help="eval_results@FP ... (default: the newest version of each checkpoint label)"),
    store: Optional[str] = StoreOpt,
    paper: Optional[str] = typer.Option(None, help="Put the paper's numbers for this size beside ours: 3b or 7b."),
) -> None:
    """Accuracies (teacher-text, student-text, student-speech), the gap, checkpoints side by side."""
    from tasks.evaluate import EVAL_RESULTS
    from tasks.evaluate import eval_report as report_markdown

    s = _store(store)
    if refs:
        chosen = [s.get(r).ref for r in refs]
    else:
        newest: dict[str, object] = {}
        for m in s.versions(EVAL_RESULTS):  # newest first
            newest.setdefault(m.params.get("label", m.fingerprint), m.ref)
        chosen = list(reversed(list(newest.values())))
    if not chosen:
        console.print(f"[red]no {EVAL_RESULTS} in {s.uri}: run the evaluate or salad flow first[/]")
        raise typer.Exit(1)
    print(report_markdown.fn(chosen, s.objects.config, paper_size=paper))


@config_app.command("show")
def config_show(preset: str = PresetOpt, overrides: Optional[list[str]] = SetOpt, store: Optional[str] = StoreOpt) -> None:
    """The resolved configuration (preset + overrides) as YAML."""
    import yaml

    print(yaml.safe_dump(_config(preset, overrides, store).model_dump(mode="json"), sort_keys=False))


def main() -> None:
    """The `salad` entry point: an error prints as its one clear line (the traceback with --debug).

    Commands that run flows get a Prefect server that dies with this process (unless
    $PREFECT_API_URL names one); before and after the run, runs left Running by killed processes
    are marked Crashed.
    """
    import sys

    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    runs_flows = len(sys.argv) > 1 and sys.argv[1] in FLOW_COMMANDS and not {"--help", "-h"} & set(sys.argv)
    if runs_flows and not debug:
        quiet_prefect_tracebacks()  # (other commands never import Prefect's engine: no start-up cost there)
    try:
        if runs_flows:
            with flow_server():
                app(standalone_mode=False)
        else:
            app(standalone_mode=False)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the one place errors become a message for a person
        if debug:
            raise
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error (typer's own click exceptions)
            exc.show()
            raise SystemExit(exc.exit_code) from None
        print(one_line_error(exc), file=sys.stderr)
        raise SystemExit(1) from None


FLOW_COMMANDS = ("run", "demo", "stage")


@contextmanager
def flow_server():
    """The Prefect API of a flow command, with the runs of killed processes reconciled around it."""
    from deployments.server import temporary_server

    with temporary_server():
        _reconcile()
        try:
            yield
        finally:
            _reconcile(settle_s=1.0)


def _reconcile(settle_s: float = 5.0) -> None:
    """Reconciliation is housekeeping: its failure is logged, never the command's error."""
    import logging

    from deployments.server import reconcile_runs

    try:
        flows, tasks = reconcile_runs(settle_s)
    except Exception:  # noqa: BLE001
        logging.getLogger("salad").debug("run reconciliation failed", exc_info=True)
        return
    if flows or tasks:
        console.print(f"marked Crashed: {len(flows)} flow run(s) whose process is gone, {len(tasks)} task run(s) of ended runs", soft_wrap=True)


def quiet_prefect_tracebacks() -> None:
    """Prefect's engine logs a failing task or flow with its full traceback on the console, above
    the one clear line `main` prints. Keep the log line, drop the traceback from the console only:
    the API handler (the run's logs in the UI) still records it."""
    import logging

    import prefect  # noqa: F401 - configures Prefect's logging, whose console handlers are changed here
    from prefect.logging.handlers import PrefectConsoleHandler

    for logger in (logging.getLogger(), *(logging.getLogger(n) for n in ("uvicorn", "fastapi"))):
        for handler in logger.handlers:
            if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _NoTraceback):
                handler.setFormatter(_NoTraceback(handler.formatter))
                handler.addFilter(_no_housekeeping_hooks)


def _no_housekeeping_hooks(record: logging.LogRecord) -> bool:
    """The pid-recording hook of every run (deployments/server.py) is housekeeping, not news."""
    return "record_driver_pid" not in record.getMessage()


class _NoTraceback(logging.Formatter):
    """Formats a copy of the record without exception or stack (other handlers see the original)."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        return self.inner.format(record)


def one_line_error(exc: BaseException) -> str:
    """`error: <type>: <first line>` plus the stage note, if any (`salad … --debug` shows the traceback)."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    notes = [n for n in getattr(exc, "__notes__", []) if n.startswith("stage ")]
    text = f"error: {type(exc).__name__}: {lines[0] if lines else ''}"
    if notes:
        text += f"\n  ({notes[0]})"
    return text + "\n  (run again with --debug for the traceback)"


if __name__ == "__main__":
    main()
