"""The artifact store's guarantees, on a local folder and on real S3 servers (moto and Ceph RGW)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from storage import ArtifactNotFound, ArtifactRef, ArtifactStore, IncompleteArtifact, StageSpec
from tests.store_child import spec as child_spec

REPO = Path(__file__).resolve().parent.parent


def table(n: int, offset: int = 0) -> pa.Table:
    return pa.table({"id": [f"doc-{i}" for i in range(offset, offset + n)], "x": list(range(offset, offset + n))})


def write(store: ArtifactStore, spec: StageSpec, shards: list[pa.Table]) -> ArtifactRef:
    writer = store.writer(spec)
    for i, t in enumerate(shards):
        writer.write_shard(i, t)
    return store.commit(writer, len(shards), stats={"note": "test"})


SPEC = StageSpec(name="corpus", params={"n": 3}, code_version="test-1")


def test_write_read_roundtrip_and_manifest(any_store):
    ref = write(any_store, SPEC, [table(3), table(2, 3)])
    assert ref.fingerprint == SPEC.fingerprint
    art = any_store.get("corpus")
    m = art.manifest
    assert (m.num_rows, [s.rows for s in m.shards], m.params, m.code_version) == (5, [3, 2], {"n": 3}, "test-1")
    assert m.schema_fields == [{"name": "id", "type": "string"}, {"name": "x", "type": "int64"}]
    assert m.num_bytes > 0 and m.wall_time_s >= 0 and m.created_at and m.stats == {"note": "test"}
    assert art.to_table().column("x").to_pylist() == [0, 1, 2, 3, 4]
    assert art.lazy().filter(pl.col("x") > 2).select("id").collect()["id"].to_list() == ["doc-3", "doc-4"]
    assert sum(b.num_rows for b in art.iter_batches(batch_size=2)) == 5
    assert art.read_shard(1).num_rows == 2


def test_existing_fingerprint_is_found_without_recomputing(any_store):
    assert any_store.find(SPEC) is None
    ref = write(any_store, SPEC, [table(3)])
    assert any_store.find(SPEC) == ref
    # committing the same spec again (another writer) returns the first version, unchanged
    again = write(any_store, SPEC, [table(3)])
    assert again.fingerprint == ref.fingerprint
    assert len(any_store.versions("corpus")) == 1


def test_versions_are_listed_newest_first(any_store):
    first = write(any_store, SPEC, [table(1)])
    time.sleep(0.01)
    second = write(any_store, SPEC.model_copy(update={"params": {"n": 4}}), [table(1)])
    assert [m.fingerprint for m in any_store.versions("corpus")] == [second.fingerprint, first.fingerprint]
    assert any_store.get("corpus").manifest.fingerprint == second.fingerprint
    assert any_store.get(f"corpus@{first.fingerprint[:6]}").manifest.fingerprint == first.fingerprint
    assert any_store.names() == ["corpus"]


def test_readers_never_see_uncommitted_data(any_store):
    writer = any_store.writer(SPEC)
    writer.write_shard(0, table(3))
    assert any_store.names() == [] and any_store.versions("corpus") == [] and any_store.find(SPEC) is None
    with pytest.raises(ArtifactNotFound):
        any_store.get("corpus")
    with pytest.raises(IncompleteArtifact, match=r"shards \[1\]"):
        any_store.commit(writer, 2)
    writer.write_shard(1, table(1))
    any_store.commit(writer, 2)
    assert any_store.get("corpus").num_rows == 4


def test_a_shard_is_never_committed_twice(any_store):
    a, b = any_store.writer(SPEC), any_store.writer(SPEC)
    assert a.write_shard(0, table(3)) is True
    assert b.write_shard(0, table(5, 100)) is False  # lost the race: its file is deleted, a's stays
    any_store.commit(b, 1)
    assert any_store.get("corpus").to_table().column("x").to_pylist() == [0, 1, 2]
    assert len(any_store.objects.glob(f"corpus/{SPEC.fingerprint}/data/*")) == 1


def test_empty_artifact_keeps_its_schema(any_store):
    schema = pa.schema([("id", pa.string()), ("reason", pa.string())])
    w = any_store.writer(SPEC)
    w.write_shard(0, iter([]), schema=schema)
    any_store.commit(w, 1)
    art = any_store.get("corpus")
    assert art.num_rows == 0 and art.to_table().schema == schema


def test_lineage_upstream_and_downstream(any_store):
    raw = write(any_store, StageSpec(name="raw", code_version="r-1"), [table(2)])
    emb = write(any_store, StageSpec(name="embeddings", code_version="e-1", parents=[raw]), [table(2)])
    clu = write(any_store, StageSpec(name="clusters", code_version="c-1", parents=[emb]), [table(1)])
    up = any_store.upstream("clusters")
    assert (up.name, up.children[0].name, up.children[0].children[0].name) == ("clusters", "embeddings", "raw")
    down = any_store.downstream("raw")
    assert [(d.name, [c.name for c in d.children]) for d in down] == [("embeddings", ["clusters"])]
    assert any_store.downstream(clu) == []
    m = any_store.get("embeddings").manifest
    assert m.parents == [ArtifactRef(name="raw", fingerprint=raw.fingerprint)]


def test_parent_must_be_committed(any_store):
    ghost = ArtifactRef(name="raw", fingerprint="0123456789abcdef")
    with pytest.raises(ArtifactNotFound, match="raw@0123456789abcdef"):
        any_store.writer(StageSpec(name="x", code_version="1", parents=[ghost]))


def test_manifest_records_provenance_and_no_secrets(local_store):
    spec = StageSpec(
        name="corpus",
        params={"paths": ["s3://key:topsecret@bucket/x"], "aws_secret_access_key": "topsecret", "n": 1},
        code_version="t-1",
        models={"embedder": "all-MiniLM-L6-v2@abc"},
    )
    w = local_store.writer(spec, run_context={"flow_run_id": "f-1", "task_run_id": "t-1"})
    w.write_shard(0, table(1))
    local_store.commit(w, 1)
    raw = (Path(local_store.objects.root) / "corpus" / spec.fingerprint / "manifest.json").read_text()
    assert "topsecret" not in raw
    m = json.loads(raw)
    assert m["run_context"] == {"flow_run_id": "f-1", "task_run_id": "t-1"}
    assert m["models"] == {"embedder": "all-MiniLM-L6-v2@abc"}
    assert "git_commit" in m and m["params"]["n"] == 1


def test_invalid_names_are_refused(local_store):
    with pytest.raises(ValueError, match="artifact name 'Bad/Name' is invalid"):
        local_store.writer(StageSpec(name="Bad/Name", code_version="1"))


def child_env(store: ArtifactStore) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cfg = store.objects.config
    if cfg.is_s3:
        env.update(
            AWS_ENDPOINT_URL=cfg.endpoint_url,
            AWS_ACCESS_KEY_ID=cfg.access_key_id.get_secret_value(),
            AWS_SECRET_ACCESS_KEY=cfg.secret_access_key.get_secret_value(),
            AWS_DEFAULT_REGION=cfg.region or "us-east-1",
        )
    return env


def child_cmd(store: ArtifactStore, shards: int, rows: int, delay: float, seed: int = 0) -> list[str]:
    return [sys.executable, str(REPO / "tests" / "store_child.py"), store.uri, "crash", str(shards), str(rows), str(delay), str(seed)]


def start_child(store: ArtifactStore, shards: int, rows: int, delay: float, seed: int = 0) -> subprocess.Popen:
    cmd = child_cmd(store, shards, rows, delay, seed)
    return subprocess.Popen(cmd, env=child_env(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_writer_then_resume_commits_each_shard_once(any_store):
    spec = child_spec("crash")
    proc = start_child(any_store, shards=4, rows=8, delay=0.15)
    # wait until two shards are committed, then kill it in the middle of the third
    probe = any_store.writer(spec)
    deadline = time.time() + 60
    while len(probe.committed_shards()) < 2:
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "child never committed two shards"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed_before = probe.committed_shards()
    assert 2 <= len(committed_before) < 4
    assert any_store.find(spec) is None and any_store.names() == []  # nothing visible after the crash

    resumed = subprocess.run(child_cmd(any_store, 4, 8, 0.0), env=child_env(any_store), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    written_now = json.loads(resumed.stdout.strip().splitlines()[-1].split(" ", 2)[2])
    assert sorted(written_now) == sorted(set(range(4)) - committed_before)  # only the missing shards
    art = any_store.get("crash")
    rows = art.to_table().to_pylist()
    assert len(rows) == 32 and len({(r["shard"], r["row"]) for r in rows}) == 32
    assert len(any_store.objects.glob(f"crash/{spec.fingerprint}/shards/*.json")) == 4
    assert len(any_store.objects.glob(f"crash/{spec.fingerprint}/data/*")) == 4  # the killed attempt's file is gone


def test_concurrent_writers_of_one_fingerprint(any_store):
    procs = [start_child(any_store, shards=6, rows=4, delay=0.02, seed=s) for s in (1, 2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    fingerprints = {out.strip().splitlines()[-1].split()[1] for out, _ in outs}
    assert fingerprints == {child_spec("crash").fingerprint}  # both end with the same committed version
    won = [json.loads(out.strip().splitlines()[-1].split(" ", 2)[2]) for out, _ in outs]
    assert sorted(won[0] + won[1]) == list(range(6))  # every shard committed by exactly one of them
    assert len(any_store.versions("crash")) == 1
    assert any_store.get("crash").num_rows == 24
    assert len(any_store.objects.glob(f"crash/{child_spec('crash').fingerprint}/data/*")) == 6


def test_gc_removes_only_stale_uncommitted_files(local_store):
    w = local_store.writer(SPEC)
    w.write_shard(0, table(2))
    orphan = Path(local_store.objects.path(f"corpus/{SPEC.fingerprint}/data/000001-deadbeef.parquet"))
    orphan.write_bytes(b"partial")
    assert local_store.gc(grace_seconds=3600) == []  # young: could be a live writer's
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    assert local_store.gc(grace_seconds=3600) == []  # old, but the version's writer is alive (its lease): never touched
    w.release()  # the writer is gone: its version's stale leftovers go
    assert local_store.gc(grace_seconds=3600) == [f"corpus/{SPEC.fingerprint}/data/000001-deadbeef.parquet"]
    local_store.commit(w, 1)
    assert local_store.get("corpus").num_rows == 2
