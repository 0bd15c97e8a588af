"""A writer in its own process, for crash and race tests: ``python tests/store_child.py URI NAME SHARDS ROWS DELAY [SEED]``.

Writes shards 0..SHARDS-1 of a fixed spec, ROWS rows each, sleeping DELAY seconds between the
record batches of a shard (so a kill lands mid-write), skipping shards already committed, then
commits and prints the fingerprint. S3 settings come from the AWS_* environment variables.
"""

import random
import sys
import time

import pyarrow as pa

from storage import ArtifactStore, StageSpec


def spec(name: str) -> StageSpec:
    return StageSpec(name=name, params={"rows": "fixed"}, code_version="test-1")


def shard_batches(shard: int, rows: int, delay: float):
    for start in range(0, rows, max(1, rows // 4)):
        stop = min(rows, start + max(1, rows // 4))
        time.sleep(delay)
        yield pa.record_batch({"shard": [shard] * (stop - start), "row": list(range(start, stop))})


def main() -> None:
    uri, name, shards, rows, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 0)
    store = ArtifactStore.open(uri)
    writer = store.writer(spec(name))
    for shard in range(shards):
        if writer.is_committed(shard):
            continue
        time.sleep(rng.random() * delay)
        won = writer.write_shard(shard, shard_batches(shard, rows, delay))
        print(f"shard {shard} {'committed' if won else 'lost'}", flush=True)
    ref = store.commit(writer, shards)
    print(f"done {ref.fingerprint} {sorted(writer.shards_written_here)}", flush=True)


if __name__ == "__main__":
    main()
