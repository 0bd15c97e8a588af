"""Human-readable summaries of artifact versions (markdown), for the CLI and the Prefect UI."""

from __future__ import annotations

import io
import re

from storage.lineage import LineageNode, lineage_graph, render_tree
from storage.manifest import Manifest


def manifest_markdown(m: Manifest, uri: str, upstream: LineageNode, stage_seconds: float | None = None, quarantined: int | None = None) -> str:
    """The version's card: headline numbers first (rows, quarantined, wall time and rate), then
    parameters, provenance, schema, upstream tree and the stage's own figures.

    ``stage_seconds`` is the wall time from the start of the task that ran the stage to the commit
    (the caller measures it; a task that makes several artifacts counts its earlier ones too).
    Without it the card shows the manifest's ``wall_time_s``, which counts from the writer's
    creation and can miss work done before it (a training run writes its checkpoint tables at the end).
    """
    seconds = stage_seconds if stage_seconds is not None else m.wall_time_s
    rate = f" ({m.num_rows / seconds:,.3g} rows/s)" if seconds > 0 and m.num_rows else ""
    lines = [
        f"### `{m.name}@{m.fingerprint}`",
        "",
        "| field | value |",
        "|---|---|",
        f"| rows | {m.num_rows:,} in {len(m.shards)} shard(s), {m.num_bytes:,} bytes |",
    ]
    if quarantined is not None:
        lines.append(f"| quarantined | {quarantined:,} |")
    lines += [
        f"| {'wall time (task start → commit)' if stage_seconds is not None else 'wall time (writing)'} | {seconds:,.1f} s{rate} |",
        f"| location | `{uri}` |",
        f"| created | {m.created_at} |",
        f"| code | `{m.code_version}` (git `{(m.git_commit or 'n/a')[:12]}`{' dirty' if m.git_dirty else ''}) |",
    ]
    for key, value in sorted(m.models.items()):
        lines.append(f"| model {key} | `{value}` |")
    for key, value in sorted(m.run_context.items()):
        lines.append(f"| {key} | `{value}` |")
    lines += ["", "**Parameters**", "", _params(m.params)]
    lines += ["", "**Schema**: " + ", ".join(f"`{f['name']}: {f['type']}`" for f in m.schema_fields), ""]
    lines += ["**Upstream**", "", "```", lineage_text(upstream), "```"]
    if m.stats:
        lines += ["", "**Stats**", "", "```", _compact(m.stats), "```"]
    return "\n".join(lines)


def lineage_text(node: LineageNode) -> str:
    """The upstream tree, each version once (a shared ancestor met again points back to it)."""
    return render_tree(node, detail=False)


def lineage_mermaid(nodes: list[LineageNode]) -> str:
    """A mermaid flowchart (parents → children) of the given upstream trees."""
    found, edges = lineage_graph(nodes)

    def key(k: str) -> str:
        return re.sub(r"[^A-Za-z0-9_]", "_", k)

    body = [f'  {key(k)}["{_label(n, "@")}"]' for k, n in sorted(found.items())]
    body += sorted(f"  {key(a)} --> {key(b)}" for a, b in edges)
    return "\n".join(["```mermaid", "flowchart LR", *body, "```"])


def lineage_png(nodes: list[LineageNode], dpi: int = 110) -> bytes:
    """The lineage as a PNG image, parents above children, for UIs that show mermaid as raw text.

    Drawn with matplotlib (graphviz is not a dependency): a version sits in the row of its longest
    path from a source, so every edge points down. The node labels are also written into
    the PNG's ``Description`` text, so a reader (or a test) can tell what the image shows.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    found, edges = lineage_graph(nodes)
    parents: dict[str, list[str]] = {k: [] for k in found}
    for a, b in edges:
        parents[b].append(a)
    depth: dict[str, int] = {}

    def layer(k: str) -> int:
        if k not in depth:
            depth[k] = 1 + max((layer(p) for p in parents[k]), default=-1)
        return depth[k]

    rows: dict[int, list[str]] = {}
    for k in sorted(found):
        rows.setdefault(layer(k), []).append(k)
    widest = max((len(r) for r in rows.values()), default=1)
    pos = {k: (i - (len(row) - 1) / 2, -y) for y, row in rows.items() for i, k in enumerate(row)}  # rows centred
    fig = Figure(figsize=(max(3.0, 2.3 * widest), max(1.2, 0.62 * len(rows))), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-(widest + 0.1) / 2, (widest + 0.1) / 2)
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.axis("off")
    for a, b in sorted(edges):
        ax.add_patch(
            FancyArrowPatch(
                pos[a], pos[b], arrowstyle="-|>", mutation_scale=9, color="#8090a0", shrinkA=13, shrinkB=14, connectionstyle="arc3,rad=0.04", lw=0.7
            )
        )
    for k, n in found.items():
        ax.text(
            *pos[k],
            _label(n, "\n"),
            ha="center",
            va="center",
            fontsize=7,
            family="monospace",
            bbox=dict(boxstyle="round,pad=0.35", fc="#eef4fb", ec="#4a78a8", lw=0.8),
        )
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Description": "; ".join(_label(n, "@") for _, n in sorted(found.items()))})
    return out.getvalue()


def _label(n: LineageNode, sep: str) -> str:
    rows = f" ({n.num_rows:,} rows)" if n.num_rows is not None and sep == "\n" else ""
    return f"{n.name}{sep}{n.fingerprint[:8]}{rows}"


def _params(params: dict, limit: int = 100) -> str:
    """One `key`: `value` per list item, long values cut (the manifest keeps them whole). A list,
    not a table cell: the Prefect UI does not wrap table cells."""
    import json

    def short(v) -> str:
        text = json.dumps(v, default=str, sort_keys=True)
        return text if len(text) <= limit else text[: limit - 1] + "…"

    return "\n".join(f"- `{k}`: `{short(v)}`" for k, v in sorted(params.items())) or "(none)"


def _compact(stats: dict) -> str:
    import json

    return json.dumps(stats, indent=1, sort_keys=True, default=str)[:4000]
