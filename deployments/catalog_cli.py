"""`salad artifacts list --stale`: the asset catalog — every artifact, its newest version, and stale ones.

    salad artifacts list --stale                  # every artifact, STALE marked, with the reason
    salad artifacts list --stale --only-stale     # just the ones whose parents moved on
    python -m deployments.catalog_cli --store ./salad-store --json

What stale means (a parent has a newer version than the one it was built from, or a parent is
itself stale) is in storage/catalog.py. The same table is published to the Prefect UI as the
``salad-catalog`` artifact at the end of every flow run that publishes a lineage overview (pipeline, salad, ingest, tts, natural-speech, stage).
"""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from storage import ArtifactStore, StoreConfig
from storage.catalog import catalog_rows

app = typer.Typer(help="The asset catalog: what the store holds and what is stale.", no_args_is_help=False)


@app.command("list")
def catalog_list(
    store: Optional[str] = typer.Option(None, "--store", help="Store URI (default: $SALAD_STORE or ./salad-store)."),
    only_stale: bool = typer.Option(False, "--only-stale", help="Only the stale artifacts."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Every artifact's newest version: rows, size, created, the flow run that made it, stale or not."""
    s = ArtifactStore.open(StoreConfig(uri=store) if store else StoreConfig())
    from tasks.code_versions import current_code_versions

    rows = [r for r in catalog_rows(s.all_manifests(), current_code_versions()) if r["stale"] or not only_stale]
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    table = Table(title=f"{len(rows)} artifact(s) in {s.uri}, {sum(bool(r['stale']) for r in rows)} stale")
    columns = ("artifact", "stale", "latest", "versions", "rows", "size", "created", "flow run", "why stale")
    for col in columns:
        table.add_column(col, no_wrap=col in ("latest", "created"), overflow="fold")
    for r in rows:
        table.add_row(*(f"{r[c]:,}" if c == "rows" else escape(str(r[c])) for c in columns), style="yellow" if r["stale"] else None)
    Console(width=max(Console().width, 180)).print(table)


if __name__ == "__main__":
    app()
