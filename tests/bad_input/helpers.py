"""What every bad-input test asserts after a stage refused its input: nothing is visible, nothing half-written."""

from __future__ import annotations

from pathlib import Path

from storage import ArtifactStore


def assert_nothing_committed(store: ArtifactStore, root: Path) -> None:
    """No committed version of any artifact, and no shard data file left in the store folder."""
    assert store.names() == []
    assert sorted(p.name for p in root.rglob("*.parquet")) == []
