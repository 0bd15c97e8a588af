"""The synthesis stage's row logic without Ray: selection, sharding, the row worker, crash isolation."""

from __future__ import annotations

import pyarrow as pa

from salad_core.tts import TTSConfig
from salad_core.tts.row_selection import hashed_sample, selected_rows, shard_rows
from salad_core.tts.rows import CRASHED_WORKER_REASON, RowSynthesizer
from tasks.tts import isolate_rows


def batches(n: int, size: int = 4):
    ids = [f"row-{i}" for i in range(n)]
    return [pa.record_batch({"id": ids[i : i + size], "text": [f"text {x}" for x in ids[i : i + size]]}) for i in range(0, n, size)]


def test_first_rows_and_seeded_sample_keep_input_order():
    assert [r["id"] for r in selected_rows(batches(10), limit=3, chosen=None)] == ["row-0", "row-1", "row-2"]
    chosen = hashed_sample((f"row-{i}" for i in range(10)), limit=4, seed=1)
    assert chosen == hashed_sample((f"row-{i}" for i in range(10)), limit=4, seed=1)  # a pure function of ids and seed
    picked = [r["id"] for r in selected_rows(batches(10), limit=4, chosen=chosen)]
    assert len(picked) == 4 and picked == sorted(picked, key=lambda x: int(x.split("-")[1]))
    assert hashed_sample((f"row-{i}" for i in range(10)), limit=4, seed=2) != chosen


def test_shards_are_fixed_size_groups():
    shards = list(shard_rows(selected_rows(batches(10), None, None), shard_rows=4))
    assert [(i, len(rows)) for i, rows in shards] == [(0, 4), (1, 4), (2, 2)]
    assert list(shard_rows([], shard_rows=4)) == []


def test_row_worker_never_raises_and_copies_extra_columns():
    synth = RowSynthesizer(TTSConfig(), retries=0)
    good, nul = synth.run([{"id": "a", "text": "Hello there.", "cluster": 3}, {"id": "b", "text": "bad\x00text", "cluster": 4}])
    assert good["ok"] and good["cluster"] == 3 and good["sample_rate"] == 24000 and good["audio"][:4] == b"fLaC"
    assert not nul["ok"] and nul["cluster"] == 4 and nul["reason"].startswith("contains control characters")


def test_a_row_that_kills_its_worker_is_quarantined_and_the_others_kept():
    def call_one(row, i):
        if row["text"] == "poison":
            return RuntimeError("ActorDiedError: the actor died unexpectedly\n(traceback)")
        return [{"ok": True, "id": row["id"]}]

    rows = [{"id": "a", "text": "fine"}, {"id": "b", "text": "poison", "cluster": 1}, {"id": "c", "text": "fine"}]
    records, failed = isolate_rows(rows, call_one, text_chars=50)
    assert failed == 1 and [r["id"] for r in records] == ["a", "b", "c"]
    assert records[1] == {
        "ok": False,
        "id": "b",
        "stage": "",
        "excerpt": "poison",
        "reason": CRASHED_WORKER_REASON,  # the stage fills in its name
        "error": "RuntimeError: ActorDiedError: the actor died unexpectedly",
        "cluster": 1,
    }
