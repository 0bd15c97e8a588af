"""gc never touches a version a live writer holds; it cleans what dead writers left, leaving no debris."""

from __future__ import annotations

import os
import time

import pyarrow as pa

from storage import StageSpec
from storage.lease import live_leases

SPEC = StageSpec(name="things", params={"n": 1}, code_version="gc-test-1")
TABLE = pa.table({"x": [1, 2, 3]})


def age(path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_gc_leaves_a_live_writers_committed_shards_alone_then_cleans_them_when_it_is_gone(local_store):
    writer = local_store.writer(SPEC)
    writer.write_shard(0, TABLE)
    version = local_store.objects.path(f"{SPEC.name}/{SPEC.fingerprint}")
    for dirpath, _, names in os.walk(version):
        for name in names:
            age(os.path.join(dirpath, name), 7200)  # older than the grace time: age alone would delete them
    assert live_leases(local_store.objects, f"{SPEC.name}/{SPEC.fingerprint}")
    assert local_store.gc(grace_seconds=3600) == []
    assert writer.is_committed(0)

    writer.release()  # the writer died (its lease is no longer refreshed)
    removed = local_store.gc(grace_seconds=3600)
    assert any("/shards/000000.json" in k for k in removed) and any("/data/" in k for k in removed)
    assert not os.path.exists(version)  # no empty folders left behind


def test_a_stale_lease_does_not_protect_a_dead_writers_version(local_store):
    writer = local_store.writer(SPEC)
    writer.write_shard(0, TABLE)
    writer.lease._stop.set()  # killed: no more heartbeats
    key = f"{SPEC.name}/{SPEC.fingerprint}"
    assert live_leases(local_store.objects, key, ttl_s=180, now=time.time() + 600) == []
    assert local_store.gc(grace_seconds=0, lease_ttl_s=0) != []
    assert not writer.is_committed(0)


def test_gc_removes_leftover_tmp_files_and_leases_of_committed_versions_but_no_data(local_store):
    writer = local_store.writer(SPEC)
    writer.write_shard(0, TABLE)
    local_store.commit(writer, 1)
    version = local_store.objects.path(f"{SPEC.name}/{SPEC.fingerprint}")
    assert not os.listdir(os.path.join(version, "leases")) if os.path.exists(os.path.join(version, "leases")) else True
    tmp = os.path.join(version, "shards", "000001.json.0123abcd.tmp")  # an interrupted local create-if-absent
    with open(tmp, "w") as f:
        f.write("{}")
    age(tmp, 7200)
    assert local_store.gc(grace_seconds=3600) == [f"{SPEC.name}/{SPEC.fingerprint}/shards/000001.json.0123abcd.tmp"]
    assert local_store.get(SPEC.name).to_table().num_rows == 3


def test_a_lease_whose_process_is_gone_is_dead_at_once_and_its_claim_is_taken_over(local_store):
    """A resume on the same machine takes over a killed run's claimed shard now, not after the TTL."""
    import json
    import subprocess
    import sys

    from storage.lease import lease_key, process_identity

    key = f"{SPEC.name}/{SPEC.fingerprint}"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        body = {"pid": child.pid, "host": "here", "process": process_identity(child.pid), "heartbeat": time.time()}
        local_store.objects.write_bytes(lease_key(key, "killed"), json.dumps(body).encode())
        local_store.objects.write_bytes(f"{key}/claims/000000.json", json.dumps({"attempt": "killed"}).encode())
        resumed = local_store.writer(SPEC)
        assert live_leases(local_store.objects, key) == [lease_key(key, "killed")]
        assert not resumed.claim(0)  # its writer runs: the shard is left to it
        child.kill()
        child.wait()
        assert live_leases(local_store.objects, key) == [lease_key(key, resumed.attempt)]  # its fresh heartbeat is no help
        assert resumed.claim(0)
        assert json.loads(local_store.objects.read_bytes(f"{key}/claims/000000.json")) == {"attempt": resumed.attempt}
        resumed.release()
    finally:
        child.kill()
        child.wait()


def test_a_lease_from_another_machine_or_without_a_process_waits_for_its_ttl():
    """What this machine cannot judge (another boot, pid namespace, or an older lease) is never declared dead early."""
    from storage.lease import process_identity, process_is_gone

    mine = process_identity()
    machine, pid, started = mine.rsplit(":", 2)
    assert not process_is_gone(mine)
    assert process_is_gone(f"{machine}:{pid}:{int(started) + 1}")  # the pid reused by a later process
    assert process_is_gone(f"{machine}:{2**22 + 7}:1")  # above Linux's pid_max: no such process
    assert not process_is_gone(f"another-boot:pid:[1]:{2**22 + 7}:1")
    assert not process_is_gone(None) and not process_is_gone("not an identity")
