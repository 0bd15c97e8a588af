"""What a data regeneration changed since the previous one: per artifact, reused or a new version, and why.

Each finished regeneration leaves a small run record in the store
(``_runs/<lane>/<time>-<parameters hash>-<run>.json``: which version of each artifact it ended
with). The next regeneration *of the same deployment with the same parameters* compares its own
versions with that record — a manual run with custom parameters gets its own baseline and never
becomes the cron's — and explains every difference from the two manifests (parameters such as
the input files with their size and ETag, code version, models, parent versions):

    report = what_changed(store, "regenerate", collect_refs(outputs), started_at, params=config.model_dump(mode="json"))
    print(report.markdown())            # each artifact links to its page in the Prefect UI
    save_run_record(store, report.record)

Without ``params``, a call inside a Prefect flow run takes the flow run's parameters.

The record lives beside the data on purpose: the Prefect database can be reset and the next
regeneration still knows what the previous one produced. (A lane is one deployment; ``_runs`` can
never clash with an artifact name, which starts with a letter or digit.)
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

from storage import ArtifactNotFound, ArtifactRef, ArtifactStore
from storage.filesystem import AlreadyExists
from storage.manifest import Manifest
from tasks.publish import prefect_key

RUNS_PREFIX = "_runs"
Status = Literal["unchanged", "new version", "new artifact", "not produced"]


class RunRecord(BaseModel):
    """What one regeneration ended with."""

    lane: str
    flow_run_id: str | None = None
    started_at: str
    finished_at: str
    params_hash: str | None = Field(None, description="hash of the run's parameters: only runs with the same one are compared")
    refs: dict[str, str] = Field(description="artifact name -> fingerprint")


class Change(BaseModel):
    name: str
    status: Status
    old: str | None = None
    new: str | None = None
    built_now: bool = Field(default=False, description="the version was committed during this run (not picked up)")
    reasons: list[str] = Field(default_factory=list)


class WhatChanged(BaseModel):
    lane: str
    previous: RunRecord | None
    record: RunRecord
    changes: list[Change]

    def count(self, status: Status) -> int:
        """How many artifacts have ``status``."""
        return sum(c.status == status for c in self.changes)

    def summary(self) -> str:
        """One line: the lane and how many artifacts are unchanged, new versions, new artifacts or not produced (on a first run, just how many)."""
        if self.previous is None:
            return f"{self.lane}: first recorded regeneration, {len(self.changes)} artifact(s)"
        plural = {"new version": "new versions", "new artifact": "new artifacts"}
        parts = [f"{n} {plural.get(s, s) if n > 1 else s}" for s in ("unchanged", "new version", "new artifact", "not produced") if (n := self.count(s))]
        return f"{self.lane}: " + ", ".join(parts)

    def markdown(self, ui_url: str | None = None) -> str:
        """The report; artifact names link to their page in the Prefect UI at ``ui_url`` (default:
        Prefect's UI URL setting, else links relative to the UI that shows the report)."""
        base = (prefect_ui_url() if ui_url is None else ui_url).rstrip("/")
        same = f"the same parameters (`{self.record.params_hash}`)" if self.record.params_hash else "no parameters recorded"
        if self.previous is None:
            head = f"No earlier regeneration of `{self.lane}` with {same} is recorded in this store: every version below is listed as new."
        else:
            run = self.previous.flow_run_id
            link = f"[{run}]({base}/runs/flow-run/{run})" if run else "`local`"
            head = f"Compared with the previous regeneration of `{self.lane}` with {same}: flow run {link}, finished {self.previous.finished_at}."
        rows = ["| artifact | change | previous | now | why |", "|---|---|---|---|---|"]
        details = []
        for c in self.changes:
            change = c.status
            if c.status == "unchanged":
                change = "unchanged (reused, nothing recomputed)"
            elif c.new and not c.built_now:
                change += " (existing version reused)"
            why = "<br>".join(_escape(_headline(r)) for r in c.reasons) or ("same fingerprint" if c.status == "unchanged" else "")
            name = f"[{c.name}]({base}/artifacts/key/{prefect_key(c.name)})" if c.new else c.name
            rows.append(f"| {name} | {change} | {_fp(c.old)} | {_fp(c.new)} | {why} |")
            if c.reasons:
                details += [f"- **{c.name}**", *(f"  - {wrappable(r)}" for r in c.reasons)]
        why_section = ["", "**Why, in full**", "", *details] if details else []
        return "\n".join([f"## What changed: {self.summary()}", "", head, "", *rows, *why_section])


def _headline(reason: str) -> str:
    """What changed, without the values: `parameter inputs`, `code`, `input corpus` — short enough
    for a table cell, which the Prefect UI does not wrap; the values follow the table."""
    return reason.split(":", 1)[0].replace("`", "")


def prefect_ui_url() -> str:
    """Prefect's UI URL setting, or "" when there is none (or no Prefect): the report's links are then relative."""
    try:
        from prefect.settings import PREFECT_UI_URL

        return PREFECT_UI_URL.value() or ""
    except Exception:  # noqa: BLE001 - a report without absolute links is still a report
        return ""


def wrappable(reason: str, run: int = 24) -> str:
    """A reason as plain text a browser can wrap anywhere it must: no code spans (they do not wrap),
    and a break opportunity after separators and inside any long unbroken run (paths, JSON, code
    versions), so a long value wraps instead of running off the page."""
    text = _escape(reason.replace("`", ""))
    text = re.sub(r"([/,_+@:=.;])(?=\S)", "\\1\u200b", text)
    return re.sub(rf"[^\s\u200b]{{{run}}}(?=[^\s\u200b])", lambda m: m.group(0) + "\u200b", text)


def params_hash(params: dict[str, Any] | None) -> str | None:
    """A short hash of a run's parameters (key order does not matter): only runs with the same one are compared; None without parameters."""
    if params is None:
        return None
    text = json.dumps(params, sort_keys=True, default=_plain_json, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _plain_json(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)


def run_parameters() -> dict[str, Any] | None:
    """The parameters of the Prefect flow run this is called in, or None outside one."""
    try:
        from prefect.runtime import flow_run

        return dict(flow_run.parameters) if flow_run.get_id() else None
    except Exception:  # noqa: BLE001 - outside Prefect
        return None


def collect_refs(value: Any) -> dict[str, ArtifactRef]:
    """Every ArtifactRef inside a flow's result (pydantic models, dicts, lists), by artifact name."""
    found: dict[str, ArtifactRef] = {}

    def walk(v: Any) -> None:
        if isinstance(v, ArtifactRef):
            found[v.name] = v
        elif isinstance(v, BaseModel):
            for name in type(v).model_fields:
                walk(getattr(v, name))
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)
        elif isinstance(v, (list, tuple)):
            for item in v:
                walk(item)

    walk(value)
    return dict(sorted(found.items()))


def with_upstream(store: ArtifactStore, refs: dict[str, ArtifactRef]) -> dict[str, ArtifactRef]:
    """The refs plus every version they were made from (a flow's result may not name intermediate
    artifacts such as a tokenizer, but the lineage in their manifests does)."""
    found = dict(refs)

    def walk(node) -> None:
        for parent in node.children:
            found.setdefault(parent.name, ArtifactRef(name=parent.name, fingerprint=parent.fingerprint))
            walk(parent)

    for ref in refs.values():
        walk(store.upstream(ref))
    return dict(sorted(found.items()))


def lane_key(lane: str) -> str:
    """``lane`` as a folder name under ``_runs/``: lowercased, each run of characters outside ``[a-z0-9_.-]`` made '-' (``default`` if nothing is left)."""
    return re.sub(r"[^a-z0-9_.-]+", "-", lane.lower()).strip("-") or "default"


def previous_record(store: ArtifactStore, lane: str, params: str | None = None) -> RunRecord | None:
    """The newest record of this lane with this parameters hash (``params``; None: records without one)."""
    keys = [k for k in store.objects.glob(f"{RUNS_PREFIX}/{lane_key(lane)}/*.json") if _hash_in_key(k) == params]
    return RunRecord.model_validate(store.objects.read_json(keys[-1])) if keys else None


def _hash_in_key(key: str) -> str | None:
    parts = key.rsplit("/", 1)[-1].split("-", 2)  # <stamp>-<hash>-<run>.json, or the older <stamp>-<run>.json
    return parts[1] if len(parts) == 3 and re.fullmatch(r"[0-9a-f]{12}", parts[1]) else None


def save_run_record(store: ArtifactStore, record: RunRecord) -> str:
    """Store ``record`` under ``_runs/<lane>/``, named by finish time so ``previous_record`` finds the newest; returns its key.

    A run recorded twice (a retried finish) keeps its first record.
    """
    stamp = record.finished_at.replace(":", "").replace("-", "").replace("+0000", "Z")
    middle = f"{record.params_hash}-" if record.params_hash else ""
    key = f"{RUNS_PREFIX}/{lane_key(record.lane)}/{stamp}-{middle}{record.flow_run_id or 'local'}.json"
    try:
        store.objects.create_json_if_absent(key, record.model_dump(mode="json"))
    except AlreadyExists:
        pass  # the same run recorded twice (a retried finish): the first record stands
    return key


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the millisecond: the form of manifests' ``created_at``, which a run's start is compared with."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def what_changed(
    store: ArtifactStore,
    lane: str,
    refs: dict[str, ArtifactRef],
    started_at: str,
    flow_run_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> WhatChanged:
    """Compare ``refs`` with the previous run of ``lane`` (the deployment) with the same ``params``."""
    params_key = params_hash(params if params is not None else run_parameters())
    previous = previous_record(store, lane, params_key)
    old_refs = previous.refs if previous else {}
    started = datetime.fromisoformat(started_at)
    changes = []
    for name, ref in refs.items():
        new_manifest = _manifest(store, name, ref.fingerprint)
        built_now = new_manifest is not None and datetime.fromisoformat(new_manifest.created_at) >= started
        old = old_refs.get(name)
        if old is None:
            changes.append(Change(name=name, status="new artifact", new=ref.fingerprint, built_now=built_now))
        elif old == ref.fingerprint:
            changes.append(Change(name=name, status="unchanged", old=old, new=old))
        else:
            old_manifest = _manifest(store, name, old)
            reasons = manifest_differences(old_manifest, new_manifest) if old_manifest and new_manifest else ["previous version no longer in the store"]
            changes.append(Change(name=name, status="new version", old=old, new=ref.fingerprint, built_now=built_now, reasons=reasons))
    for name in sorted(set(old_refs) - set(refs)):
        changes.append(Change(name=name, status="not produced", old=old_refs[name]))
    record = RunRecord(
        lane=lane,
        flow_run_id=flow_run_id,
        started_at=started_at,
        finished_at=now_utc(),
        params_hash=params_key,
        refs={n: r.fingerprint for n, r in refs.items()},
    )
    return WhatChanged(lane=lane, previous=previous, record=record, changes=changes)


def manifest_differences(old: Manifest, new: Manifest) -> list[str]:
    """Why two versions of one artifact differ, in the terms of their fingerprints' ingredients."""
    reasons = [f"parameter `{k}`: {d}" for k, d in _dict_differences(old.params, new.params)]
    if old.code_version != new.code_version:
        reasons.append(f"code: `{old.code_version}` → `{new.code_version}`")
    reasons += [f"model `{k}`: {d}" for k, d in _dict_differences(old.models, new.models, _plain)]
    old_parents = {p.name: p.fingerprint[:12] for p in old.parents}
    new_parents = {p.name: p.fingerprint[:12] for p in new.parents}
    reasons += [f"input `{k}`: {d}" for k, d in _dict_differences(old_parents, new_parents, _plain)]
    return reasons


_MISSING = object()


def _dict_differences(old: dict[str, Any], new: dict[str, Any], show=None) -> list[tuple[str, str]]:
    show = show or _short
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a != b:
            out.append((key, _list_difference(a, b) if isinstance(a, list) and isinstance(b, list) else f"{show(a)} → {show(b)}"))
    return out


def _list_difference(old: list, new: list) -> str:
    """Lists of input files (dicts with a url or path) are told apart by file: a new snapshot shows as such."""
    key = next((k for k in ("url", "path") if old + new and all(isinstance(x, dict) and k in x for x in old + new)), None)
    if key:
        old_by, new_by = {x[key]: x for x in old}, {x[key]: x for x in new}
        added = sorted(set(new_by) - set(old_by))
        removed = sorted(set(old_by) - set(new_by))
        changed = sorted(p for p in set(old_by) & set(new_by) if old_by[p] != new_by[p])
        parts = [f"{len(v)} {label} ({_names(v)})" for label, v in (("added", added), ("removed", removed), ("changed", changed)) if v]
        return f"{len(old)} → {len(new)} file(s): " + "; ".join(parts)
    return f"{_short(old)} → {_short(new)}"


def _names(paths: list[str], shown: int = 3) -> str:
    """File names without their folders (the manifests keep the full URLs)."""
    names = [p.rstrip("/").rsplit("/", 1)[-1] for p in paths[:shown]]
    return ", ".join(names) + (f", … {len(paths) - shown} more" if len(paths) > shown else "")


def _short(value: Any, limit: int = 60) -> str:
    if value is _MISSING:
        return "(absent)"
    text = json.dumps(value, default=str)
    return f"`{text if len(text) <= limit else text[: limit - 1] + '…'}`"


def _plain(value: Any) -> str:
    return "(absent)" if value is _MISSING else f"`{value}`"


def _fp(fp: str | None) -> str:
    return f"`{fp[:12]}`" if fp else "–"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _manifest(store: ArtifactStore, name: str, fp: str) -> Manifest | None:
    try:
        return store.manifest(name, fp)
    except ArtifactNotFound:
        return None
