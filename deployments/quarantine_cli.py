"""`salad quarantine list`: every quarantined row of a store, one record shape, with its stage.

    salad quarantine list                         # newest version of every *_quarantine artifact
    salad quarantine list --stage corpus --all-versions --json

Each stage may keep more columns (the corpus quarantine keeps the whole FineWeb row so it can be
fixed and re-ingested) after the shared ones; this view reads them all in one shape: artifact, version,
stage (the artifact the rows were kept out of), id, reason, error, excerpt of the text or source.
Every stage writes that record (salad_core.records.quarantine) as its first columns; versions
written before it are mapped into it here.
"""

from __future__ import annotations

import json
from typing import Optional

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from salad_core.records.quarantine import CORE_NAMES, EXCERPT_CHARS
from storage import ArtifactStore, StoreConfig

QUARANTINE_SUFFIXES = ("_gate_quarantine", "_quarantine")
LEGACY_EXCERPT_COLUMNS = ("text", "source", "row")  # versions written before the one record shape
app = typer.Typer(help="Rows kept out of artifacts, with their reasons.", no_args_is_help=True)


def stage_of(name: str) -> str:
    """The stage a quarantine artifact's rows were kept out of: its name without the quarantine suffix, marked when it is a quality gate's."""
    for suffix in QUARANTINE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + (" (quality gate)" if suffix == "_gate_quarantine" else "")
    return name


def core_view(lazy: pl.LazyFrame, name: str, fingerprint: str) -> pl.LazyFrame:
    """The core record of one quarantine version; a version made before the shape existed gets
    its stage from its name and its excerpt from its text/source column."""
    columns = lazy.collect_schema().names()
    fill = {c: pl.lit(None, pl.String) for c in CORE_NAMES if c not in columns}
    if "stage" in fill:
        fill["stage"] = pl.lit(stage_of(name))
    if "excerpt" in fill:
        legacy = next((c for c in LEGACY_EXCERPT_COLUMNS if c in columns), None)
        fill["excerpt"] = pl.col(legacy).cast(pl.String).str.slice(0, EXCERPT_CHARS) if legacy else pl.lit(None, pl.String)
    return lazy.with_columns(**fill).select(
        pl.lit(name).alias("artifact"), pl.lit(fingerprint).alias("version"), *[pl.col(c).cast(pl.String) for c in CORE_NAMES]
    )


def quarantine_records(store: ArtifactStore, stage: str | None = None, all_versions: bool = False) -> list[dict]:
    """Every quarantined row of the store in the one record shape: a single query over all versions."""
    views = []
    for name in store.names():
        if not name.endswith("_quarantine") or (stage and not stage_of(name).startswith(stage)):
            continue
        versions = store.versions(name)
        for manifest in versions if all_versions else versions[:1]:
            views.append(core_view(store.get(f"{name}@{manifest.fingerprint}").lazy(), name, manifest.fingerprint))
    return pl.concat(views).collect().to_dicts() if views else []


@app.command("list")
def quarantine_list(
    store: Optional[str] = typer.Option(None, "--store", help="Store URI (default: $SALAD_STORE or ./salad-store)."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Only quarantines of this stage (artifact name prefix)."),
    all_versions: bool = typer.Option(False, "--all-versions", help="Every version, not only the newest."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Every quarantined row with its stage and reason."""
    s = ArtifactStore.open(StoreConfig(uri=store) if store else StoreConfig())
    records = quarantine_records(s, stage, all_versions)
    if as_json:
        for record in records:
            print(json.dumps(record))
        return
    table = Table(title=f"{len(records)} quarantined row(s) in {s.uri}")
    for col in ("stage", "id", "reason", "excerpt"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(r["stage"], str(r["id"]), str(r["reason"]), r["excerpt"] or "")
    Console(width=160).print(table)
