"""What a flow run publishes to a real Prefect API: version cards with the stage's real wall time,
the lineage overview with its image, and the catalog table with a stale flag."""

from __future__ import annotations

import json
import time

import pyarrow as pa

from storage import ArtifactRef, ArtifactStore, StageSpec
from tasks.publish import CATALOG_KEY, LINEAGE_KEY, prefect_key, publish_artifact, publish_lineage_overview
from tasks.run_context import prefect_run_context


def read_artifacts(key: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC)


def test_cards_lineage_image_and_stale_catalog_in_a_prefect_run(prefect_harness, tmp_path):
    from prefect import flow, task

    uri = str(tmp_path / "store")

    @task
    def stage(name: str, params: dict, parents: list[ArtifactRef], work_s: float) -> ArtifactRef:
        time.sleep(work_s)  # the work happens before the writer exists, as in training
        store = ArtifactStore.open(uri)
        writer = store.writer(StageSpec(name=name, params=params, code_version="v1", parents=parents), prefect_run_context())
        writer.write_shard(0, pa.table({"x": list(range(40))}))
        ref = store.commit(writer, 1)
        publish_artifact(store, ref)
        return ref

    @flow
    def pipeline(k: int) -> ArtifactRef:
        corpus = stage("corpus", {"k": k}, [], 0.0)
        centroids = stage("centroids", {"k": 8}, [corpus], 1.5)
        publish_lineage_overview(ArtifactStore.open(uri), [centroids], "test")
        return centroids

    pipeline(1)
    card = read_artifacts(prefect_key("centroids"))[0].data
    seconds = float(card.split("| wall time (task start → commit) | ")[1].split(" s")[0])
    assert 1.5 <= seconds < 30, card  # from the task's start, not the 0.0x s the write took
    assert "- `k`: `8`" in card and "| rows | 40 in 1 shard(s)" in card

    overview = read_artifacts(LINEAGE_KEY)[0].data
    assert "![lineage](data:image/png;base64,iVBOR" in overview  # base64 of the PNG signature
    catalog = {r["artifact"]: r for r in json.loads(read_artifacts(CATALOG_KEY)[0].data)}
    assert catalog["centroids"]["stale"] == "" and catalog["corpus"]["versions"] == 1

    # only the parent is rebuilt (one parameter changed): its child in the catalog is now stale
    @flow
    def parent_only(k: int) -> ArtifactRef:
        corpus = stage("corpus", {"k": k}, [], 0.0)
        publish_lineage_overview(ArtifactStore.open(uri), [corpus], "test")
        return corpus

    parent_only(2)
    catalog = {r["artifact"]: r for r in json.loads(read_artifacts(CATALOG_KEY)[0].data)}
    assert catalog["corpus"]["versions"] == 2 and catalog["corpus"]["stale"] == ""
    assert catalog["centroids"]["stale"] == "STALE" and catalog["centroids"]["why stale"].startswith("parent corpus: built from")
    assert catalog["centroids"]["flow run"] and len(catalog["centroids"]["flow run id"]) == 36 and catalog["centroids"]["rows"] == 40
