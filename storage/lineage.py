"""Lineage queries over manifests: what an artifact came from, and what was made from it.

Upstream follows each manifest's parents (a tree: a shared ancestor appears under each child;
the renderings below print it once and point back to it, so a corpus that twenty stages read is
one line, not twenty subtrees).
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
    return LineageNode(name=m.name, fingerprint=m.fingerprint, created_at=m.created_at, code_version=m.code_version, num_rows=m.num_rows, params=m.params)


def upstream(load: Callable[[str, str], Manifest], name: str, fingerprint: str, _made: dict | None = None) -> LineageNode:
    """The version and everything it was made from; a shared ancestor is built once and shared
    (a diamond-shaped lineage stays linear in the number of versions, not exponential)."""
    made = {} if _made is None else _made
    key = f"{name}@{fingerprint}"
    if key not in made:
        manifest = load(name, fingerprint)
        node = _node(manifest)
        node.children = [upstream(load, p.name, p.fingerprint, made) for p in manifest.parents]
        made[key] = node
    return made[key]


def downstream(manifests: Iterable[Manifest], name: str, fingerprint: str) -> list[LineageNode]:
    """Every version made from ``name@fingerprint``, directly or further down, as trees of dependents.

    Give every manifest of the store: the links are found by scanning their parents (no index to
    drift). A version already on the path from the root is not listed again.
    """
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


def render_tree(root: LineageNode, nodes: list[LineageNode] | None = None, detail: bool = True) -> str:
    """Text rendering, one node a line, indented by depth; a node met again is one "→ see above" line."""
    lines: list[str] = []
    seen: set[str] = set()

    def walk(n: LineageNode, depth: int) -> None:
        key = f"{n.name}@{n.fingerprint}"
        prefix = f"{'  ' * depth}{'└─ ' if depth else ''}{key}"
        if key in seen:
            lines.append(f"{prefix} → see above")
            return
        seen.add(key)
        rows = f", {n.num_rows} rows" if n.num_rows is not None else ""
        lines.append(f"{prefix} ({n.created_at}{rows})" if detail else prefix)
        for c in n.children:
            walk(c, depth + 1)

    for n in [root] if nodes is None else nodes:
        walk(n, 0)
    return "\n".join(lines)


def lineage_graph(roots: list[LineageNode]) -> tuple[dict[str, LineageNode], set[tuple[str, str]]]:
    """The distinct nodes (by ``name@fingerprint``) and parent → child edges of upstream trees."""
    nodes: dict[str, LineageNode] = {}
    edges: set[tuple[str, str]] = set()

    def walk(n: LineageNode) -> None:
        key = f"{n.name}@{n.fingerprint}"
        if key in nodes:
            return
        nodes[key] = n
        for parent in n.children:
            edges.add((f"{parent.name}@{parent.fingerprint}", key))
            walk(parent)

    for n in roots:
        walk(n)
    return nodes, edges
