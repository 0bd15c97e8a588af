"""What the store holds, one line per artifact, and which of them are stale.

    from storage.catalog import catalog
    for entry in catalog(store):             # newest version of every artifact, by name
        print(entry.name, entry.fingerprint, entry.stale, entry.why_stale)

Versions of one name are grouped into *slots*: versions that replace one another. Most artifacts
have one slot; a name whose versions coexist by design is split by what they are made from and
their ``kind`` parameter (Stage I's periodic, pre-decay and final checkpoints, and Stage II's
checkpoints built from the pre-decay one, are four slots of ``checkpoint``; Stage I's and Stage
II's ``train_metrics`` are two).

Stale, as checked here (from the manifests alone, so it also works with the Prefect database
gone): the newest version of a slot is stale when it was built from a parent version that is
no longer the newest of the parent's slot (a newer one was committed since, e.g. after a
parameter, code or input change of the parent's stage), or when a parent version it was built
from is itself stale (staleness flows downstream), or — given the code versions of the stages as
they are now (``current_code``: label → version, e.g. ``{"tokenize-2": "tokenize-2+9bf2…"}``) —
when its stage's code changed since it was built. Not checked: whether the stage's parameters in
a configuration changed since — that needs the run's configuration to compute the fingerprint,
which is what a run does (and then reuses or rebuilds). "Newest" is by commit
time: a run that goes back to an older version reuses it without re-committing, so after such a
revert the children of the reverted parent show as stale until the next version of the parent.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from storage.manifest import Manifest


def slot(m: Manifest) -> tuple[str, tuple[str, ...], str]:
    """Versions with the same slot replace one another: same name, same parent names, same kind."""
    return m.name, tuple(sorted({p.name for p in m.parents})), str(m.params.get("kind", ""))


class CatalogEntry(BaseModel):
    name: str
    role: str = Field("", description="tells slots of one name apart: the kind, and the parents only some slots have")
    fingerprint: str = Field(description="the newest version")
    versions: int
    num_rows: int
    num_bytes: int
    created_at: str
    code_version: str
    flow_run: str | None = Field(None, description="name of the Prefect flow run that committed it")
    flow_run_id: str | None = None
    stale: bool = False
    why_stale: list[str] = Field(default_factory=list)


def code_label(code_version: str) -> str:
    """The stage's version label, before the hash of its code: ``tokenize-2+9bf2…`` → ``tokenize-2``."""
    return code_version.split("+", 1)[0]


def catalog(manifests: list[Manifest], current_code: dict[str, str] | None = None) -> list[CatalogEntry]:
    """One entry per slot (per artifact name, for most): its newest version, with the staleness reasons above."""
    by_slot: dict[tuple, list[Manifest]] = {}
    by_key: dict[str, Manifest] = {}
    for m in manifests:
        by_slot.setdefault(slot(m), []).append(m)
        by_key[f"{m.name}@{m.fingerprint}"] = m
    newest = {s: max(ms, key=lambda m: m.created_at) for s, ms in by_slot.items()}
    reasons: dict[str, list[str]] = {}

    def why(m: Manifest) -> list[str]:
        key = f"{m.name}@{m.fingerprint}"
        if key not in reasons:
            reasons[key] = []  # a (malformed) cycle ends here instead of recursing forever
            found = []
            now = (current_code or {}).get(code_label(m.code_version))
            if now is not None and now != m.code_version:
                found.append(f"code changed: built with {m.code_version}, the stage is now {now}")
            for p in m.parents:
                parent = by_key.get(f"{p.name}@{p.fingerprint}")
                if parent is None:
                    continue  # not in the store (moved aside as damaged): nothing to compare with
                latest = newest[slot(parent)]
                if latest.fingerprint != p.fingerprint:
                    found.append(f"parent {p.name}: built from {p.fingerprint[:12]}, newer {latest.fingerprint[:12]} ({latest.created_at[:19]})")
                elif why(parent):
                    found.append(f"parent {p.name}@{p.fingerprint[:12]} is stale")
            reasons[key] = found
        return reasons[key]

    entries = []
    for (name, parents, kind), m in sorted(newest.items(), key=lambda item: (item[0][0], item[1].created_at)):
        role = ", ".join(filter(None, [kind, _extra_parents(name, parents, newest)]))
        entries.append(
            CatalogEntry(
                name=name,
                role=role,
                fingerprint=m.fingerprint,
                versions=len(by_slot[(name, parents, kind)]),
                num_rows=m.num_rows,
                num_bytes=m.num_bytes,
                created_at=m.created_at,
                code_version=m.code_version,
                flow_run=m.run_context.get("flow_run_name"),
                flow_run_id=m.run_context.get("flow_run_id"),
                stale=bool(why(m)),
                why_stale=why(m),
            )
        )
    return entries


def _extra_parents(name: str, parents: tuple[str, ...], slots: dict) -> str:
    """'also from X +2': the parents this slot has that the name's other slots lack ('' for one slot)."""
    others = [set(p) for (n, p, _) in slots if n == name]
    extra = sorted(set(parents) - set.intersection(*others), key=lambda p: (p != name, p)) if len(others) > 1 else []
    return f"also from {extra[0]}" + (f" +{len(extra) - 1}" if len(extra) > 1 else "") if extra else ""


def catalog_rows(manifests: list[Manifest], current_code: dict[str, str] | None = None) -> list[dict]:
    """The catalog as flat rows, narrow columns first (a Prefect table artifact, ``--json``)."""
    return [
        {
            "artifact": e.name + (f" [{e.role}]" if e.role else ""),
            "stale": "STALE" if e.stale else "",
            "latest": e.fingerprint[:12],
            "versions": e.versions,
            "rows": e.num_rows,
            "size": _size(e.num_bytes),
            "created": e.created_at[:16].replace("T", " "),
            "flow run": e.flow_run or "",
            "why stale": "; ".join(e.why_stale),
            "fingerprint": e.fingerprint,
            "bytes": e.num_bytes,
            "flow run id": e.flow_run_id or "",
        }
        for e in catalog(manifests, current_code)
    ]


def _size(num_bytes: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if num_bytes < 1000 or unit == "GB":
            return f"{num_bytes:,.0f} {unit}" if unit == "B" else f"{num_bytes:,.1f} {unit}"
        num_bytes /= 1000
    return ""
