"""The stage base: reuse, resume (work skipped, not only writes), quarantine-first commits, failure notes, heartbeat."""

from __future__ import annotations

import logging
import time

import pyarrow as pa
import pytest

import tasks.sharded_stage as base
from storage import StageSpec
from tasks.sharded_stage import ShardedStage, find_committed

SPEC = StageSpec(name="numbers", params={"n": 3}, code_version="base-test-1")
QSCHEMA = pa.schema([("id", pa.string()), ("reason", pa.string())])


class Numbers(ShardedStage):
    quarantine_schema = QSCHEMA

    def __init__(self, store, fail_at: int | None = None, sleep_s: float = 0.0):
        super().__init__(store, SPEC, expected_shards=3)
        self.fail_at, self.sleep_s, self.processed = fail_at, sleep_s, []

    def num_shards(self) -> int:
        return 3

    def process_shard(self, shard: int):
        if shard == self.fail_at:
            raise ValueError(f"bad input in shard {shard}")
        time.sleep(self.sleep_s)
        self.processed.append(shard)
        bad = pa.table({"id": [f"bad-{shard}"], "reason": ["odd"]}, schema=QSCHEMA)
        return pa.table({"x": [shard * 10, shard * 10 + 1]}), bad


def test_a_failed_run_resumes_without_redoing_committed_work_and_commits_the_quarantine_first(local_store):
    with pytest.raises(ValueError) as err:
        Numbers(local_store, fail_at=2).run()
    note = " ".join(err.value.__notes__)
    assert f"stage numbers@{SPEC.fingerprint} failed at shard 2; 2 committed shard(s) are kept" in note
    assert "fix the input named above" in note
    assert local_store.find(SPEC) is None

    again = Numbers(local_store)
    result = again.run()
    assert again.processed == [2] and result.shards_written == [2] and result.shards_resumed == [0, 1]
    quarantine = local_store.get(result.quarantine)
    output = local_store.get(result.ref)
    assert quarantine.manifest.created_at <= output.manifest.created_at
    assert output.manifest.stats["quarantine"] == f"numbers_quarantine@{result.quarantine.fingerprint}"
    assert sorted(quarantine.to_table().column("id").to_pylist()) == ["bad-0", "bad-1", "bad-2"]
    assert output.to_table().column("x").to_pylist() == [0, 1, 10, 11, 20, 21]

    third = Numbers(local_store)
    reused = third.run()
    assert reused.reused and third.processed == [] and reused.quarantine == result.quarantine


def test_an_output_committed_without_its_quarantine_is_a_damaged_store(local_store):
    writer = local_store.writer(SPEC)
    writer.write_shard(0, pa.table({"x": [1]}))
    local_store.commit(writer, 1)
    with pytest.raises(RuntimeError, match="its quarantine numbers_quarantine is not"):
        find_committed(local_store, SPEC, with_quarantine=True)


def test_a_long_shard_still_logs_progress(local_store, monkeypatch, caplog):
    monkeypatch.setattr(base, "LOG_EVERY_S", 0.05)
    with caplog.at_level(logging.INFO, logger="salad"):
        Numbers(local_store, sleep_s=0.3).run()
    beats = [r.message for r in caplog.records if "shards after" in r.message]
    assert len(beats) >= 3 and beats[0].startswith(f"numbers@{SPEC.fingerprint[:8]}: 0/3 shards after")


def test_a_run_killed_after_its_last_shard_commits_with_a_per_shard_quarantine(local_store, monkeypatch):
    """Every shard committed, then killed before the manifest: the rerun computes nothing and must
    still commit the quarantine shard by shard (it was committed that way)."""
    first = Numbers(local_store)
    monkeypatch.setattr(local_store, "commit", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt("killed before the manifest")))
    with pytest.raises(KeyboardInterrupt):
        first.run()
    monkeypatch.undo()
    again = Numbers(local_store)
    result = again.run()
    assert again.processed == [] and result.shards_resumed == [0, 1, 2]
    quarantine = local_store.get(result.quarantine)
    assert len(quarantine.manifest.shards) == 3 and sorted(quarantine.to_table().column("id").to_pylist()) == ["bad-0", "bad-1", "bad-2"]


def test_a_shard_with_the_same_inputs_is_copied_from_an_earlier_version(local_store):
    """Shard keys: a new version (other parameters not touching shard 1's rows) copies that shard."""

    class Keyed(Numbers):
        def __init__(self, store, spec):
            ShardedStage.__init__(self, store, spec, expected_shards=3)
            self.fail_at, self.sleep_s, self.processed = None, 0.0, []

        def shard_input_digest(self, shard):
            return f"rows-of-shard-{shard}" if shard == 1 else f"rows-of-shard-{shard}-{self.spec.parents[0].fingerprint}"

    from tasks.sharded_stage import write_table_artifact

    a, b = (write_table_artifact(local_store, StageSpec(name="src", params={"v": v}, code_version="t"), pa.table({"v": [v]})) for v in (1, 2))
    spec = lambda parent: StageSpec(name="numbers", params={"n": 3}, code_version="k", parents=[parent])  # noqa: E731
    Keyed(local_store, spec(a)).run()
    second = Keyed(local_store, spec(b))
    result = second.run()
    assert second.processed == [0, 2] and result.shards_copied == [1] and result.shards_written == [0, 2]
    old, new = local_store.find(spec(a)), result.ref
    assert local_store.get(new).manifest.shards[1].sha256 == local_store.get(old).manifest.shards[1].sha256
    assert local_store.get(new).manifest.stats["shards_copied"] == 1
