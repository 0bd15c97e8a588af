"""Making stored artifacts visible in the Prefect UI.

Prefect OSS has no asset graph, but it shows artifacts per flow run and per key. Each key holds
one kind of document, so its history is a list of the same document over time:

- ``salad-<artifact>``: the card of each version of that artifact (headline numbers, parameters,
  real wall time of the stage, upstream tree);
- ``salad-lineage``: each flow run's overview, with the lineage drawn as a PNG (the UI that
  `salad ui up` serves shows mermaid as raw text) and as a text tree;
- ``salad-catalog``: a table of every artifact in the store, its newest version and whether it
  is stale (storage/catalog.py says what stale means).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime

from storage import ArtifactRef, ArtifactStore
from storage.catalog import catalog_rows
from storage.manifest import Manifest
from storage.report import lineage_mermaid, lineage_png, lineage_text, manifest_markdown

LINEAGE_KEY, CATALOG_KEY = "salad-lineage", "salad-catalog"


def prefect_key(name: str) -> str:
    """`name` as a Prefect artifact key: `salad-` and the name in lower case, other characters as dashes."""
    return "salad-" + re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def in_prefect_run() -> bool:
    """True inside a Prefect flow or task run; the publishers are no-ops elsewhere (plain calls, tests)."""
    from prefect.context import FlowRunContext, TaskRunContext

    return TaskRunContext.get() is not None or FlowRunContext.get() is not None


def stage_seconds(manifest: Manifest) -> float | None:
    """Seconds from the start of the running Prefect task to this version's commit, when the task
    committed it. The manifest's own ``wall_time_s`` starts at its writer, which a stage may create
    only after the work (a training run commits its checkpoint tables at the end: 0.3 s for 520 s)."""
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    started = context.task_run.start_time if context is not None else None
    if started is None or manifest.run_context.get("task_run_id") != str(context.task_run.id):
        return None
    seconds = (datetime.fromisoformat(manifest.created_at) - started).total_seconds()
    return round(seconds, 3) if seconds >= 0 else None


def quarantined_rows(store: ArtifactStore, manifest: Manifest) -> int | None:
    """Rows its stage kept aside, from the quarantine version the stage names in its stats."""
    name, _, fp = str(manifest.stats.get("quarantine", "")).partition("@")
    return store.manifest(name, fp).num_rows if fp else None


def publish_artifact(store: ArtifactStore, ref: ArtifactRef, reused: bool = False) -> None:
    """Markdown card of one version; a no-op outside a Prefect run (plain calls, core tests)."""
    from prefect.artifacts import create_markdown_artifact

    if not in_prefect_run():
        return
    art = store.get(ref)
    m = art.manifest
    text = manifest_markdown(m, art.ref.uri, store.upstream(ref), None if reused else stage_seconds(m), quarantined_rows(store, m))
    if reused:
        text = "_Reused: this version was already committed; nothing was recomputed._\n\n" + text
    create_markdown_artifact(text, key=prefect_key(ref.name), description=f"{ref} ({'reused' if reused else 'new'})")


def publish_lineage_overview(store: ArtifactStore, refs: list[ArtifactRef], title: str) -> None:
    """The run's artifacts, their lineage as an image and a text tree, then the store's catalog."""
    from prefect.artifacts import create_markdown_artifact

    if not in_prefect_run():
        return
    trees = [store.upstream(r) for r in refs]
    rows = ["| artifact | rows | location |", "|---|---|---|"]
    for r in refs:
        m = store.manifest(r.name, r.fingerprint)
        rows.append(f"| `{r}` | {m.num_rows:,} | `{store.objects.url(f'{r.name}/{r.fingerprint}')}` |")
    image = base64.b64encode(lineage_png(trees)).decode()
    text = "\n".join(
        [
            f"## {title}: lineage",
            "",
            *rows,
            "",
            f"![lineage](data:image/png;base64,{image})",
            "",
            "Each version once; a version met again is marked → see above.",
            "",
            "```",
            *(lineage_text(t) for t in trees),
            "```",
            "",
            "<details><summary>mermaid source</summary>",
            "",
            lineage_mermaid(trees),
            "",
            "</details>",
        ]
    )
    create_markdown_artifact(text, key=LINEAGE_KEY, description=f"{title}: artifacts and their lineage")
    publish_catalog(store)


def publish_catalog(store: ArtifactStore) -> None:
    """Every artifact of the store with its newest version, as a Prefect table artifact."""
    from prefect.artifacts import create_table_artifact

    if not in_prefect_run():
        return
    from tasks.code_versions import current_code_versions

    rows = catalog_rows(store.all_manifests(), current_code_versions())
    stale = sum(bool(r["stale"]) for r in rows)
    create_table_artifact(rows, key=CATALOG_KEY, description=f"{len(rows)} artifacts in {store.uri}, {stale} stale")
