"""The store verifies what it serves: tampered versions are named, never reused, rebuilt.

Each case damages a committed version by hand (on a local folder and on S3 servers), then checks
that reading names the artifact, version and file, that ``find`` moves it aside and returns
None, that writing the same spec again rebuilds it, and that ``salad artifacts verify`` exits
non-zero naming it. Run with:
    SALAD_SKIP_CEPH=1 .venv/bin/python -m pytest tests/test_store_integrity.py -q
"""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from storage import ArtifactRef, ArtifactStore, DamagedArtifact, StageSpec
from storage.manifest import Manifest

SPEC = StageSpec(name="corpus", params={"n": 157}, code_version="integrity-1")
OTHER = StageSpec(name="embeddings", params={"n": 57}, code_version="integrity-1")


def shards() -> list[pa.Table]:
    return [pa.table({"id": [f"doc-{i}" for i in range(a, b)], "x": list(range(a, b))}) for a, b in ((0, 100), (100, 157))]


def write(store: ArtifactStore, spec: StageSpec = SPEC, tables: list[pa.Table] | None = None) -> ArtifactRef:
    writer = store.writer(spec)
    for i, t in enumerate(tables or shards()):
        writer.write_shard(i, t)
    return store.commit(writer, len(tables or shards()))


def manifest_key(spec: StageSpec = SPEC) -> str:
    return f"{spec.name}/{spec.fingerprint}/manifest.json"


def shard_key(store: ArtifactStore, i: int, spec: StageSpec = SPEC) -> str:
    m = json.loads(store.objects.read_bytes(manifest_key(spec)))
    return f"{spec.name}/{spec.fingerprint}/{m['shards'][i]['file']}"


def edit_manifest_rows(store):
    m = json.loads(store.objects.read_bytes(manifest_key()))
    m["num_rows"] = 999999  # 157 -> 999999, by hand, hash left as it was
    store.objects.write_bytes(manifest_key(), json.dumps(m, indent=2).encode())
    return "manifest.json does not match its recorded sha256"


def garbage_shard(store):
    key = shard_key(store, 1)
    store.objects.write_bytes(key, b"not parquet at all " * 7)
    return f"{key.rsplit('/', 2)[1]}/{key.rsplit('/', 1)[1]} (shard 1) has 133 bytes"


def swapped_shard(store):
    write(store, OTHER, [pa.table({"embedding": [[0.5, 0.25]] * 57})])
    key = shard_key(store, 0)
    store.objects.write_bytes(key, store.objects.read_bytes(shard_key(store, 0, OTHER)))
    return f"{key.split('/', 2)[2]} (shard 0) has"


def deleted_shard(store):
    key = shard_key(store, 1)
    store.objects.delete(key)
    return f"{key.split('/', 2)[2]} (shard 1) is missing"


DAMAGES = {"manifest-edited": edit_manifest_rows, "garbage": garbage_shard, "swapped": swapped_shard, "deleted": deleted_shard}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_version_is_named_never_reused_and_rebuilt(any_store, damage):
    write(any_store)
    expected = DAMAGES[damage](any_store)
    with pytest.raises(DamagedArtifact) as failure:
        any_store.get("corpus")
    message = str(failure.value)
    assert f"corpus@{SPEC.fingerprint}" in message and expected in message and any_store.uri in message

    report = any_store.verify()
    assert [(v.name, v.status) for v in report.versions if v.name == "corpus"] == [("corpus", "damaged")]
    assert expected in report.text()

    assert any_store.find(SPEC) is None  # moved aside, not reused
    assert any_store.names() in ([], ["embeddings"])
    moved = any_store.objects.glob(f"corpus/{SPEC.fingerprint}.damaged-*/DAMAGED.json")
    assert len(moved) == 1 and expected in any_store.objects.read_bytes(moved[0]).decode()

    ref = write(any_store)  # the stage's rerun rebuilds the same version
    assert ref.fingerprint == SPEC.fingerprint
    assert any_store.get("corpus").to_table().column("x").to_pylist() == list(range(157))
    assert any_store.verify().damaged == []


def test_same_size_garbage_is_caught_by_read_shard_and_by_verify(any_store):
    write(any_store)
    key = shard_key(any_store, 1)
    size = len(any_store.objects.read_bytes(key))
    any_store.objects.write_bytes(key, b"\0" * size)
    art = any_store.get("corpus")  # the cheap check (sizes) passes
    assert art.read_shard(0).num_rows == 100
    with pytest.raises(DamagedArtifact, match=r"\(shard 1\) cannot be read as Parquet"):
        art.read_shard(1)
    report = any_store.verify(f"corpus@{SPEC.fingerprint[:6]}")
    assert report.damaged[0].problems == [f"{key.split('/', 2)[2]} (shard 1) does not match its recorded sha256"]


def test_a_swapped_shard_with_a_consistent_forged_manifest_is_still_named(local_store):
    """Even when the sizes and the manifest hash were made to agree, reading names the file and verify catches it."""
    write(local_store)
    wide = StageSpec(name="wide", code_version="1")
    write(local_store, wide, [pa.table({"id": [f"doc-{i}" for i in range(100)], "y": list(range(100))})])
    data = local_store.objects.read_bytes(shard_key(local_store, 0, wide))
    local_store.objects.write_bytes(shard_key(local_store, 0), data)
    m = json.loads(local_store.objects.read_bytes(manifest_key()))
    m["shards"][0]["bytes"] = len(data)
    m["num_bytes"] = sum(s["bytes"] for s in m["shards"])
    forged = Manifest.model_validate(m).model_copy(update={"manifest_sha256": None}).sealed()
    local_store.objects.write_bytes(manifest_key(), forged.to_json_bytes())

    art = local_store.get("corpus")  # sizes and manifest hash agree: the cheap check passes
    with pytest.raises(DamagedArtifact, match=r"\(shard 0\) has columns \['id', 'y'\], the manifest records \['id', 'x'\]"):
        art.read_shard(0)
    problems = local_store.verify("corpus").damaged[0].problems
    file = shard_key(local_store, 0).split("/", 2)[2]
    assert problems[0] == f"{file} (shard 0) does not match its recorded sha256"


def test_reuse_with_full_hash_catches_same_size_garbage(tmp_path):
    from storage import StoreConfig

    store = ArtifactStore.open(StoreConfig(uri=str(tmp_path / "store"), verify_on_reuse="hash"))
    write(store)
    key = shard_key(store, 0)
    store.objects.write_bytes(key, b"\0" * len(store.objects.read_bytes(key)))
    assert store.find(SPEC) is None
    assert write(store).fingerprint == SPEC.fingerprint and store.get("corpus").num_rows == 157


def test_manifests_without_hashes_still_read_and_are_unverifiable(any_store):
    write(any_store)
    m = json.loads(any_store.objects.read_bytes(manifest_key()))
    m.pop("manifest_sha256")
    for s in m["shards"]:
        s.pop("sha256")
    any_store.objects.write_bytes(manifest_key(), json.dumps(m).encode())
    assert any_store.get("corpus").num_rows == 157
    assert any_store.find(SPEC) is not None
    report = any_store.verify()
    assert [v.status for v in report.versions] == ["unverifiable"]
    assert "unverifiable: no hashes" in report.text() and report.damaged == []
    m["num_rows"] = 999999  # an old manifest edited: the shard totals still tell
    any_store.objects.write_bytes(manifest_key(), json.dumps(m).encode())
    with pytest.raises(DamagedArtifact, match="num_rows=999999 but its shards add up to 157"):
        any_store.get("corpus")


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("file", "../../../../etc/passwd", "is not a data file of this version"),
        ("parent", "../../outside", "artifact name '../../outside' is invalid"),
    ],
)
def test_paths_inside_a_manifest_are_confined_to_the_store(any_store, field, value, problem):
    write(any_store)
    m = json.loads(any_store.objects.read_bytes(manifest_key()))
    if field == "file":
        m["shards"][0]["file"] = value
    else:
        m["parents"] = [{"name": value, "fingerprint": "0123456789abcdef", "uri": ""}]
    m.pop("manifest_sha256")  # a careful forger: no stale hash to give it away
    any_store.objects.write_bytes(manifest_key(), json.dumps(m).encode())
    with pytest.raises(DamagedArtifact, match=problem):
        any_store.get("corpus")
    with pytest.raises(DamagedArtifact, match=problem):
        any_store.upstream(f"corpus@{SPEC.fingerprint}")
    with pytest.raises(ValueError, match="is invalid"):
        any_store.manifest("../etc", "0123456789abcdef")


def test_verify_repair_moves_damaged_versions_aside(local_store):
    write(local_store)
    write(local_store, OTHER, [pa.table({"embedding": [[0.5, 0.25]] * 57})])
    deleted_shard(local_store)
    report = local_store.verify(repair=True)
    assert [(v.name, v.status, bool(v.moved_to)) for v in report.versions] == [("corpus", "damaged", True), ("embeddings", "ok", False)]
    assert local_store.names() == ["embeddings"] and local_store.verify().damaged == []
    assert local_store.gc(grace_seconds=0) == []  # a version moved aside is evidence, not a leftover
    assert local_store.objects.glob(f"corpus/{SPEC.fingerprint}.damaged-*/manifest.json")


def test_cli_verify_exits_non_zero_naming_each_damaged_version(local_store):
    from typer.testing import CliRunner

    from deployments.cli import app

    write(local_store)
    write(local_store, OTHER, [pa.table({"embedding": [[0.5, 0.25]] * 57})])
    runner = CliRunner()
    ok = runner.invoke(app, ["artifacts", "verify", "--store", local_store.uri])
    assert ok.exit_code == 0, ok.output
    assert "2 version(s)" in ok.output and "2 ok" in ok.output

    missing = deleted_shard(local_store)
    shutil.copyfile(local_store.objects.path(shard_key(local_store, 0)), local_store.objects.path(shard_key(local_store, 0, OTHER)))
    bad = runner.invoke(app, ["artifacts", "verify", "--store", local_store.uri])
    assert bad.exit_code == 1
    assert f"corpus@{SPEC.fingerprint}: DAMAGED" in bad.output and missing in bad.output
    assert f"embeddings@{OTHER.fingerprint}: DAMAGED" in bad.output and "(shard 0) has" in bad.output

    repaired = runner.invoke(app, ["artifacts", "verify", "--repair", "--store", local_store.uri])
    assert repaired.exit_code == 1 and repaired.output.count("moved aside to") == 2
    assert runner.invoke(app, ["artifacts", "verify", "--store", local_store.uri]).exit_code == 0


def test_a_commit_record_naming_a_missing_file_is_never_committed_and_a_rerun_rebuilds(any_store):
    from storage import IncompleteArtifact

    writer = any_store.writer(SPEC)
    for i, t in enumerate(shards()):
        writer.write_shard(i, t)
    lost = any_store.objects.glob(f"corpus/{SPEC.fingerprint}/data/000001-*")[0]
    any_store.objects.delete(lost)  # what the old lost-reply bug did
    with pytest.raises(
        IncompleteArtifact, match=rf"shard 1: {lost.split('/', 2)[2]} is missing; the folder was moved aside to corpus/{SPEC.fingerprint}\.damaged-"
    ):
        any_store.commit(writer, 2)
    assert any_store.find(SPEC) is None and any_store.names() == []
    rerun = any_store.writer(SPEC)
    assert rerun.committed_shards() == set()  # nothing half-trusted is left to resume from
    assert write(any_store).fingerprint == SPEC.fingerprint
    assert any_store.get("corpus").to_table().column("x").to_pylist() == list(range(157))
