"""A sharded stage's progress artifact in a real Prefect API, read while the stage runs."""

from __future__ import annotations

import pyarrow as pa

import tasks.progress as progress
from storage import ArtifactStore, StageSpec
from tasks.sharded_stage import ShardedStage


def progress_artifacts(key: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))


class Watched(ShardedStage):
    """Three shards; while computing each one it reads back what the UI shows about the stage."""

    def __init__(self, store, spec, expected: int | None):
        super().__init__(store, spec, expected_shards=expected)
        self.seen: list[tuple[float, str]] = []

    def num_shards(self) -> int:
        return 3

    def process_shard(self, shard: int):
        [artifact] = progress_artifacts(f"salad-{self.spec.name}-progress")
        self.seen.append((artifact.data, artifact.description))
        return pa.table({"x": list(range(shard + 1))}), None


def test_progress_shows_shards_rate_and_eta_while_the_stage_runs(prefect_harness, tmp_path, monkeypatch):
    from prefect import flow

    monkeypatch.setattr(progress, "UPDATE_EVERY_S", 0.0)  # no throttling: every shard is read back

    store = ArtifactStore.open(str(tmp_path / "store"))
    stages = {}

    @flow
    def run(expected: int | None, n: int) -> None:
        stages[expected] = Watched(store, StageSpec(name="watched", params={"n": n}, code_version="t1"), expected)
        stages[expected].run()

    run(3, 1)
    seen = stages[3].seen
    assert seen[0][1].endswith(": started") and seen[0][0] == 0.0
    assert "1/3 shards after" in seen[1][1] and "shards/s" in seen[1][1] and "ETA" in seen[1][1]
    assert round(seen[2][0]) == 67 and "2/3 shards" in seen[2][1]
    [done] = progress_artifacts("salad-watched-progress")
    assert done.data == 100.0 and "3/3 shards" in done.description


def test_a_stage_of_unknown_length_still_shows_what_it_has_done(prefect_harness, tmp_path, monkeypatch):
    from prefect import flow

    monkeypatch.setattr(progress, "UPDATE_EVERY_S", 0.0)

    store = ArtifactStore.open(str(tmp_path / "store"))
    stages = {}

    @flow
    def run() -> None:
        stage = stages["s"] = Watched(store, StageSpec(name="unsized", params={"n": 2}, code_version="t1"), None)
        stage.run()

    run()
    assert "2 shards after" in stages["s"].seen[2][1] and "ETA" not in stages["s"].seen[2][1]
    [done] = progress_artifacts("salad-unsized-progress")
    assert done.data == 100.0 and "3/3 shards" in done.description
