"""The store under a misbehaving gateway: lost replies, a paused server, resets, 5xx, silence.

Every test talks to a real S3 server (moto; Ceph RGW where marked) through tests/s3_proxy.py on
127.0.0.1, which injects one fault deterministically. Run with:
    SALAD_SKIP_CEPH=1 .venv/bin/python -m pytest tests/test_store_faults.py -q
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pyarrow as pa
import pytest

from storage import ArtifactStore, StageSpec, StoreConfig, StoreUnavailable
from tests.conftest import BUCKET
from tests.s3_proxy import Fault, FaultProxy, hung_gateway

SPEC = StageSpec(name="corpus", params={"rows": 3}, code_version="faults-1")
SERVERS = ["moto", pytest.param("ceph", marks=pytest.mark.ceph)]
RECORD_1 = r"/corpus/[0-9a-f]{16}/shards/000001\.json"
MANIFEST = r"/corpus/[0-9a-f]{16}/manifest\.json"


def shard(i: int) -> pa.Table:
    return pa.table({"id": [f"doc-{i}-{j}" for j in range(50)], "x": [i * 1000 + j for j in range(50)]})


def store_via(endpoint, url: str, prefix: str, **limits) -> ArtifactStore:
    return ArtifactStore.open(
        StoreConfig(
            uri=f"s3://{BUCKET}/{prefix}",
            endpoint_url=url,
            region=endpoint.region,
            access_key_id=endpoint.access_key,
            secret_access_key=endpoint.secret_key,
            **limits,
        )
    )


def write_three(store: ArtifactStore):
    writer = store.writer(SPEC)
    won = [writer.write_shard(i, shard(i)) for i in range(3)]
    return won, store.commit(writer, 3)


def fingerprint_of_content(store: ArtifactStore) -> tuple:
    art = store.get("corpus")
    shards = [(s.shard, s.rows, s.bytes, s.sha256) for s in art.manifest.shards]
    return shards, art.to_table().to_pylist()


@pytest.fixture(params=SERVERS)
def endpoint(request):
    return request.getfixturevalue(f"{request.param}_endpoint")


@pytest.mark.parametrize("target", [RECORD_1, MANIFEST], ids=["shard-record", "manifest"])
def test_a_lost_commit_reply_keeps_the_committed_data(endpoint, target):
    """The server commits the record, the reply is dropped, the client retries and meets 412."""
    with FaultProxy(endpoint.endpoint_url) as proxy:
        proxy.add(Fault("PUT", target, "drop_reply"))
        store = store_via(endpoint, proxy.endpoint_url, uuid.uuid4().hex[:12], timeout_s=5, retry_for_s=30)
        won, ref = write_three(store)
        assert proxy.seen("PUT", target) == [200, 412]  # the fault really happened, then the retry met it
        assert won == [True, True, True]
        rows = store.get(ref).to_table().to_pylist()
        assert len(rows) == 150 and {r["x"] for r in rows} == {i * 1000 + j for i in range(3) for j in range(50)}
        assert len(store.objects.glob(f"corpus/{ref.fingerprint}/data/*")) == 3
        assert store.verify().damaged == []


def test_a_paused_gateway_during_a_record_put_ends_identical_to_an_undisturbed_run(endpoint):
    """SIGSTOP the server when shard 1's record PUT arrives, SIGCONT 3 s later (client timeout 1 s)."""
    undisturbed = store_via(endpoint, endpoint.endpoint_url, uuid.uuid4().hex[:12])
    write_three(undisturbed)

    def pause() -> None:
        os.kill(endpoint.pid, signal.SIGSTOP)
        threading.Timer(3.0, os.kill, (endpoint.pid, signal.SIGCONT)).start()

    with FaultProxy(endpoint.endpoint_url) as proxy:
        proxy.add(Fault("PUT", RECORD_1, "before", hook=pause))
        paused = store_via(endpoint, proxy.endpoint_url, uuid.uuid4().hex[:12], timeout_s=1, retry_for_s=60)
        started = time.monotonic()
        won, _ = write_three(paused)
        assert time.monotonic() - started >= 3.0  # it did wait the pause out
        assert len(proxy.seen("PUT", RECORD_1)) >= 2  # the first try timed out and was retried
        assert won == [True, True, True]
        assert fingerprint_of_content(paused) == fingerprint_of_content(undisturbed)
        assert len(paused.objects.glob(f"corpus/{SPEC.fingerprint}/data/*")) == 3


@pytest.mark.parametrize("action", ["reset", "status:503"])
def test_transient_failures_are_retried(moto_endpoint, action):
    with FaultProxy(moto_endpoint.endpoint_url) as proxy:
        proxy.add(Fault("PUT", r"/data/000000-", action, times=2))
        proxy.add(Fault("HEAD", MANIFEST, action, times=2))
        proxy.add(Fault("GET", r"/shards/000002\.json", action, times=2))
        store = store_via(moto_endpoint, proxy.endpoint_url, uuid.uuid4().hex[:12], timeout_s=5, retry_for_s=30)
        assert store.find(SPEC) is None
        won, ref = write_three(store)
        assert [f.hits for f in proxy.faults] == [2, 2, 2]
        assert won == [True, True, True] and store.get(ref).num_rows == 150


def test_a_client_error_is_not_retried(moto_endpoint):
    with FaultProxy(moto_endpoint.endpoint_url) as proxy:
        proxy.add(Fault("HEAD", MANIFEST, "status:403", times=5))
        store = store_via(moto_endpoint, proxy.endpoint_url, uuid.uuid4().hex[:12], timeout_s=5, retry_for_s=30)
        with pytest.raises(PermissionError):
            store.find(SPEC)
        assert proxy.faults[0].hits == 1


@pytest.mark.parametrize("call", ["find", "commit-record-put"])
def test_a_gateway_that_never_answers_fails_clearly_within_the_bound(moto_endpoint, call):
    with hung_gateway() as url:
        store = store_via(moto_endpoint, url, "hung", timeout_s=1, retry_for_s=2)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as failure:
            if call == "find":
                store.find(SPEC)
            else:
                store.objects.create_if_absent("corpus/0123456789abcdef/shards/000000.json", b"{}")
        elapsed = time.monotonic() - started
    # bound: retry_for_s + one attempt (timeout_s) + the client's connect/backoff slack
    assert 2.0 <= elapsed < 8.0, elapsed
    message = str(failure.value)
    assert url in message and "store.timeout_s=1" in message and "store.retry_for_s=2" in message
    assert ("HEAD" if call == "find" else "conditional PUT") in message


def test_a_shard_read_rides_out_more_failures_than_pyarrow_retries(moto_endpoint):
    with FaultProxy(moto_endpoint.endpoint_url) as proxy:
        store = store_via(moto_endpoint, proxy.endpoint_url, uuid.uuid4().hex[:12], timeout_s=5, retry_for_s=60)
        _, ref = write_three(store)
        art = store.get(ref)
        fault = proxy.add(Fault("HEAD", r"/data/000001-", "status:503", times=10))
        assert art.read_shard(1).column("x").to_pylist() == [1000 + j for j in range(50)]
        assert fault.hits == 10  # far more than pyarrow's own 3 attempts: the store's retry carried the read
