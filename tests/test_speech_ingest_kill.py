"""Speech ingest killed with SIGKILL mid-run, then resumed: each shard committed exactly once.

Why: ingest of a real corpus runs for hours and is the first stage of the speech branch; a killed
worker must lose at most the shard in flight, never commit a shard twice or leave the
`utterances_quarantine` half-written, and the resumed version must be the very version an
uninterrupted run makes. The child (tests/speech_ingest_child.py) hangs at a chosen shard after
writing its data file and before creating its commit record, so the kill lands at a known point
with an orphan data file to clean up; the parent polls the store for that state (no fixed sleep).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

from salad_core.speech_sources import SpeechSourceConfig
from storage import ArtifactStore
from tasks.speech_ingest import ingest_speech, speech_ingest_spec
from tests.conftest import REPO

HANG_AT = 2  # the child commits shards 0 and 1, writes shard 2's data, then hangs until killed
SHARDS = 6  # 18 real clips, 3 per shard


def committed_files(store: ArtifactStore, name: str, fingerprint: str) -> dict[int, tuple[bytes, str, tuple, str]]:
    """Per committed shard: its record's bytes, and its data file's key, (inode, mtime) and sha256."""
    out = {}
    for key in store.objects.glob(f"{name}/{fingerprint}/shards/*.json"):
        record = store.objects.read_bytes(key)
        data_key = f"{name}/{fingerprint}/{store.objects.read_json(key)['file']}"
        stat = os.stat(store.objects.path(data_key))
        digest = hashlib.sha256(store.objects.read_bytes(data_key)).hexdigest()
        out[int(key.rsplit("/", 1)[1].split(".")[0])] = (record, data_key, (stat.st_ino, stat.st_mtime_ns), digest)
    return out


def test_killed_speech_ingest_resumes_and_commits_each_shard_once(tmp_path, shared_data):
    config = SpeechSourceConfig(folder=str(shared_data / "real_speech"), max_seconds=1.0, shard_rows=3)
    spec = speech_ingest_spec(config)
    quarantine_spec = spec.model_copy(update={"name": "utterances_quarantine"})
    store = ArtifactStore.open(str(tmp_path / "killed"))
    writer = store.writer(spec)
    data_glob = f"{spec.name}/{spec.fingerprint}/data/*"

    marker = tmp_path / "child-hangs"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SPEECH_INGEST_CHILD_HANG_AT_SHARD": str(HANG_AT),
        "SPEECH_INGEST_CHILD_HANG_MARKER": str(marker),
    }
    child = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "speech_ingest_child.py"), store.uri, config.model_dump_json()],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    try:
        # wait until the child hangs: shards 0..HANG_AT-1 committed, the data file of shard HANG_AT written
        while child.poll() is None and time.monotonic() < deadline and not marker.exists():
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        log = child.communicate(timeout=30)[0].decode(errors="replace")
    assert child.returncode == -signal.SIGKILL, f"the child ended by itself before it could be killed:\n{log[-3000:]}"
    assert f"hanging before the commit record of utterances shard {HANG_AT}" in log, log[-3000:]
    assert store.find(spec) is None and store.find(quarantine_spec) is None  # killed before either commit
    assert writer.committed_shards() == set(range(HANG_AT))
    # each quarantine shard is committed before its utterances shard: shard HANG_AT's is in already
    assert store.writer(quarantine_spec).committed_shards() == set(range(HANG_AT + 1))
    before = committed_files(store, spec.name, spec.fingerprint)
    quarantine_before = committed_files(store, quarantine_spec.name, quarantine_spec.fingerprint)
    committed_data = {v[1] for v in before.values()}
    orphans = [k for k in store.objects.glob(data_glob) if k not in committed_data]
    assert len(orphans) == 1 and f"/{HANG_AT:06d}-" in orphans[0]  # the killed attempt's shard

    # rerun in-process: only the uncommitted shards are read, decoded and written
    out = ingest_speech.fn(config, store.objects.config)
    assert not out.reused and out.shards_written == list(range(HANG_AT, SHARDS))
    assert (out.utterances.fingerprint, out.quarantine.fingerprint) == (spec.fingerprint, quarantine_spec.fingerprint)
    after = committed_files(store, spec.name, spec.fingerprint)
    quarantine_after = committed_files(store, quarantine_spec.name, quarantine_spec.fingerprint)
    assert sorted(after) == sorted(quarantine_after) == list(range(SHARDS))
    # the earlier commits are byte-for-byte untouched: same record, same file (inode, mtime, content)
    assert {i: after[i] for i in before} == before
    assert {i: quarantine_after[i] for i in quarantine_before} == quarantine_before
    for name, fingerprint, files in ((spec.name, spec.fingerprint, after), (quarantine_spec.name, quarantine_spec.fingerprint, quarantine_after)):
        manifest = store.get(f"{name}@{fingerprint}").manifest
        assert [s.shard for s in manifest.shards] == list(range(SHARDS))
        assert {f"{name}/{fingerprint}/{s.file}" for s in manifest.shards} == {v[1] for v in files.values()}
        # no orphan: every data file left is one the manifest names (the killed attempt's is gone)
        assert sorted(store.objects.glob(f"{name}/{fingerprint}/data/*")) == sorted(v[1] for v in files.values())

    # the quarantine is complete and consistent: shard i of both artifacts covers the same 3 items
    kept, quarantined = store.get(out.utterances), store.get(out.quarantine)
    items = [line.split("\t")[0].rsplit(".", 1)[0] for line in (shared_data / "real_speech" / "transcripts.tsv").read_text().splitlines()[1:]]
    assert len(items) == 18
    for shard in range(SHARDS):
        ids = kept.read_shard(shard, ["id"]).column("id").to_pylist() + quarantined.read_shard(shard, ["id"]).column("id").to_pylist()
        assert sorted(ids) == sorted(items[3 * shard : 3 * shard + 3]), shard
    assert kept.num_rows == 13 and quarantined.num_rows == 5
    assert all(r.endswith("empty transcript") for r in quarantined.to_table().column("reason").to_pylist())

    # an uninterrupted run into a fresh store: the same fingerprints and the very same rows
    fresh_store = ArtifactStore.open(str(tmp_path / "fresh"))
    fresh = ingest_speech.fn(config, fresh_store.objects.config)
    assert fresh.shards_written == list(range(SHARDS))
    assert (fresh.utterances.fingerprint, fresh.quarantine.fingerprint) == (spec.fingerprint, quarantine_spec.fingerprint)
    assert kept.to_table().equals(fresh_store.get(fresh.utterances).to_table())
    assert quarantined.to_table().equals(fresh_store.get(fresh.quarantine).to_table())
    assert [s.rows for s in kept.manifest.shards] == [s.rows for s in fresh_store.get(fresh.utterances).manifest.shards]
