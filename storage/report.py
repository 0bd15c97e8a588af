"""Human-readable summaries of artifact versions (markdown), for the CLI and the Prefect UI."""

from __future__ import annotations

from storage.lineage import LineageNode
from storage.manifest import Manifest


def manifest_markdown(m: Manifest, uri: str, upstream: LineageNode) -> str:
    lines = [
        f"### `{m.name}@{m.fingerprint}`",
        "",
        "| field | value |",
        "|---|---|",
        f"| location | `{uri}` |",
        f"| rows | {m.num_rows:,} in {len(m.shards)} shard(s), {m.num_bytes:,} bytes |",
        f"| created | {m.created_at} |",
        f"| code | `{m.code_version}` (git `{(m.git_commit or 'n/a')[:12]}`{' dirty' if m.git_dirty else ''}) |",
        f"| wall time | {m.wall_time_s:.1f} s |",
    ]
    for key, value in sorted(m.models.items()):
        lines.append(f"| model {key} | `{value}` |")
    for key, value in sorted(m.run_context.items()):
        lines.append(f"| {key} | `{value}` |")
    lines += ["", "**Schema**: " + ", ".join(f"`{f['name']}: {f['type']}`" for f in m.schema_fields), ""]
    lines += ["**Upstream**", "", "```", lineage_text(upstream), "```"]
    if m.stats:
        lines += ["", "**Stats**", "", "```", _compact(m.stats), "```"]
    return "\n".join(lines)


def lineage_text(node: LineageNode, depth: int = 0) -> str:
    head = f"{'  ' * depth}{'└─ ' if depth else ''}{node.name}@{node.fingerprint}"
    return "\n".join([head] + [lineage_text(c, depth + 1) for c in node.children])


def lineage_mermaid(nodes: list[LineageNode]) -> str:
    """A mermaid flowchart (parents → children) of the given upstream trees."""
    edges: set[str] = set()
    labels: dict[str, str] = {}

    def walk(n: LineageNode) -> None:
        key = f"{n.name}_{n.fingerprint}".replace(".", "_").replace("-", "_")
        labels[key] = f"{n.name}@{n.fingerprint[:8]}"
        for parent in n.children:
            pkey = f"{parent.name}_{parent.fingerprint}".replace(".", "_").replace("-", "_")
            edges.add(f"  {pkey} --> {key}")
            walk(parent)

    for n in nodes:
        walk(n)
    body = [f'  {k}["{v}"]' for k, v in sorted(labels.items())] + sorted(edges)
    return "\n".join(["```mermaid", "flowchart LR", *body, "```"])


def _compact(stats: dict) -> str:
    import json

    return json.dumps(stats, indent=1, sort_keys=True, default=str)[:4000]
