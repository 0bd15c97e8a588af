"""Making stored artifacts visible in the Prefect UI.

Prefect OSS has no asset graph, but it shows artifacts per flow run and per key. Each stage
output gets a markdown artifact keyed by its artifact name (``salad-corpus``), so the UI's
artifact page lists every version of it over time; each flow run ends with a lineage overview.
"""

from __future__ import annotations

import re

from storage import ArtifactRef, ArtifactStore
from storage.report import lineage_mermaid, lineage_text, manifest_markdown


def prefect_key(name: str) -> str:
    return "salad-" + re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def in_prefect_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return TaskRunContext.get() is not None or FlowRunContext.get() is not None


def publish_artifact(store: ArtifactStore, ref: ArtifactRef, reused: bool = False) -> None:
    """Markdown summary of one version; a no-op outside a Prefect run (plain calls, core tests)."""
    from prefect.artifacts import create_markdown_artifact

    if not in_prefect_run():
        return
    art = store.get(ref)
    text = manifest_markdown(art.manifest, art.ref.uri, store.upstream(ref))
    if reused:
        text = "_Reused: this version was already committed; nothing was recomputed._\n\n" + text
    create_markdown_artifact(text, key=prefect_key(ref.name), description=f"{ref} ({'reused' if reused else 'new'})")


def publish_lineage_overview(store: ArtifactStore, refs: list[ArtifactRef], title: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    if not in_prefect_run():
        return
    trees = [store.upstream(r) for r in refs]
    rows = ["| artifact | rows | location |", "|---|---|---|"]
    for r in refs:
        m = store.manifest(r.name, r.fingerprint)
        rows.append(f"| `{r}` | {m.num_rows:,} | `{store.objects.url(f'{r.name}/{r.fingerprint}')}` |")
    text = "\n".join(
        [f"## {title}: lineage", "", *rows, "", lineage_mermaid(trees), "", "```", *(lineage_text(t) for t in trees), "```"]
    )
    create_markdown_artifact(text, key="salad-lineage", description=f"{title}: artifacts and their lineage")
