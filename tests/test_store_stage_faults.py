"""A real stage (ingest of the bundled corpus) through a gateway that loses a commit reply.

Before the fix this committed a corpus missing a shard's rows with exit code 0 ("shard 1 was
committed by another writer"); now it must end identical to an undisturbed run. Run with:
    SALAD_SKIP_CEPH=1 .venv/bin/python -m pytest tests/test_store_stage_faults.py -q
"""

from __future__ import annotations

import uuid

from salad_core.corpus.ingest_config import IngestConfig
from storage import ArtifactStore
from tasks.ingest import ingest_corpus
from tests.s3_proxy import Fault, FaultProxy
from tests.test_store_faults import store_via

CONFIG = IngestConfig(bundled_docs=400, shard_rows=150)


def content(store: ArtifactStore, ref) -> tuple:
    art = store.get(ref)
    return [(s.rows, s.bytes, s.sha256) for s in art.manifest.shards], art.to_table().to_pylist()


def test_ingest_through_a_lost_shard_record_reply_ends_identical_to_an_undisturbed_run(moto_endpoint):
    undisturbed = store_via(moto_endpoint, moto_endpoint.endpoint_url, uuid.uuid4().hex[:12])
    expected = ingest_corpus.fn(CONFIG, undisturbed.objects.config)
    assert len(undisturbed.get(expected.corpus).manifest.shards) >= 2

    with FaultProxy(moto_endpoint.endpoint_url) as proxy:
        target = r"/corpus/[0-9a-f]{16}/shards/000001\.json"
        proxy.add(Fault("PUT", target, "drop_reply"))
        store = store_via(moto_endpoint, proxy.endpoint_url, uuid.uuid4().hex[:12], timeout_s=5, retry_for_s=30)
        out = ingest_corpus.fn(CONFIG, store.objects.config)
        assert proxy.seen("PUT", target) == [200, 412]
        assert out.corpus.fingerprint == expected.corpus.fingerprint
        assert content(store, out.corpus) == content(undisturbed, expected.corpus)
        assert content(store, out.quarantine) == content(undisturbed, expected.quarantine)
        assert store.verify().damaged == []
