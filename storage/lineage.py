"""Lineage queries over manifests: what an artifact came from, and what was made from it.

Upstream follows each manifest's parents (a tree; shared ancestors appear under each child).
Downstream scans all manifests for parent links: stores hold thousands of versions, not
millions, and a scan keeps the manifests the only source of truth (no index to drift).
"""

from __future__ import annotations

from typing import Callable, Iterable

from pydantic import BaseModel, Field

from storage.manifest import Manifest


class LineageNode(BaseModel):
    name: str
    fingerprint: str
    created_at: str | None = None
    code_version: str | None = None
    num_rows: int | None = None
    params: dict = Field(default_factory=dict)
    children: list["LineageNode"] = Field(default_factory=list, description="parents (upstream) or dependents (downstream)")


def _node(m: Manifest) -> LineageNode:
    return LineageNode(
        name=m.name, fingerprint=m.fingerprint, created_at=m.created_at, code_version=m.code_version, num_rows=m.num_rows, params=m.params
    )


def upstream(load: Callable[[str, str], Manifest], name: str, fingerprint: str) -> LineageNode:
    node = _node(load(name, fingerprint))
    node.children = [upstream(load, p.name, p.fingerprint) for p in load(name, fingerprint).parents]
    return node


def downstream(manifests: Iterable[Manifest], name: str, fingerprint: str) -> list[LineageNode]:
    by_parent: dict[str, list[Manifest]] = {}
    for m in manifests:
        for p in m.parents:
            by_parent.setdefault(f"{p.name}@{p.fingerprint}", []).append(m)

    def expand(key: str, seen: frozenset[str]) -> list[LineageNode]:
        nodes = []
        for child in sorted(by_parent.get(key, []), key=lambda m: (m.name, m.created_at)):
            child_key = f"{child.name}@{child.fingerprint}"
            if child_key in seen:
                continue
            node = _node(child)
            node.children = expand(child_key, seen | {child_key})
            nodes.append(node)
        return nodes

    return expand(f"{name}@{fingerprint}", frozenset({f"{name}@{fingerprint}"}))


def render_tree(root: LineageNode, nodes: list[LineageNode] | None = None) -> str:
    """Text rendering, one node a line, indented by depth."""
    lines: list[str] = []

    def walk(n: LineageNode, depth: int) -> None:
        rows = f", {n.num_rows} rows" if n.num_rows is not None else ""
        lines.append(f"{'  ' * depth}{'└─ ' if depth else ''}{n.name}@{n.fingerprint} ({n.created_at}{rows})")
        for c in n.children:
            walk(c, depth + 1)

    if nodes is None:
        walk(root, 0)
    else:
        for n in nodes:
            walk(n, 0)
    return "\n".join(lines)
