"""`salad quarantine list`: every quarantined row of a store, one record shape, with its stage.

    salad quarantine list                         # newest version of every *_quarantine artifact
    salad quarantine list --stage corpus --all-versions --json

Each stage keeps its own quarantine columns (the corpus quarantine keeps the whole FineWeb row so
it can be fixed and re-ingested); this view reads them all into one shape: artifact, version,
stage (the artifact the rows were kept out of), id, reason, error, excerpt of the text or source.
"""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from storage import ArtifactStore, StoreConfig

QUARANTINE_SUFFIXES = ("_gate_quarantine", "_quarantine")
EXCERPT_COLUMNS = ("text", "source", "source_file", "file_path", "url")
app = typer.Typer(help="Rows kept out of artifacts, with their reasons.", no_args_is_help=True)


def stage_of(name: str) -> str:
    for suffix in QUARANTINE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + (" (quality gate)" if suffix == "_gate_quarantine" else "")
    return name


def quarantine_records(store: ArtifactStore, stage: str | None = None, all_versions: bool = False) -> list[dict]:
    records = []
    for name in store.names():
        if not name.endswith("_quarantine") or (stage and not stage_of(name).startswith(stage)):
            continue
        versions = store.versions(name)
        for manifest in versions if all_versions else versions[:1]:
            table = store.get(f"{name}@{manifest.fingerprint}").to_table()
            excerpt_col = next((c for c in EXCERPT_COLUMNS if c in table.column_names), None)
            for row in table.to_pylist():
                excerpt = row.get(excerpt_col) if excerpt_col else None
                records.append(
                    {
                        "artifact": name,
                        "version": manifest.fingerprint,
                        "stage": stage_of(name),
                        "id": row.get("id"),
                        "reason": row.get("reason"),
                        "error": row.get("error"),
                        "excerpt": (str(excerpt)[:80] if excerpt is not None else None),
                    }
                )
    return records


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
