"""Shared fixtures: stores on a local folder and on real S3 servers (moto; Ceph RGW), Prefect.

S3 servers are real processes on 127.0.0.1, started once per session. ``make test`` runs the
suite in a loopback-only network namespace, which also proves no test needs the network.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
# The suite never touches the user's ~/.prefect (its database, profiles): every Prefect process the
# tests start, in this process or a child, uses a private home removed at the end of the session.
_PREFECT_HOME = tempfile.mkdtemp(prefix="salad-test-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
# Likewise the stages' scratch space: what the kill tests' victims leave (Mimi weights being fitted,
# ~1 GB over a run) goes with the session instead of piling up in the machine's /tmp/salad-scratch.
_SCRATCH = tempfile.mkdtemp(prefix="salad-test-scratch-")
os.environ["SALAD_SCRATCH"] = _SCRATCH
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from storage import ArtifactStore, StoreConfig  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
BUCKET = "salad-test"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"test data folder {SHARED_DATA} is missing (the repository expects ../shared/data beside it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    from tests.s3_servers import moto_s3

    with moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        endpoint.make_bucket(BUCKET)
        yield endpoint


@pytest.fixture(scope="session")
def ceph_endpoint(tmp_path_factory):
    if os.environ.get("SALAD_SKIP_CEPH") == "1":
        pytest.skip("SALAD_SKIP_CEPH=1: Ceph RGW tests skipped on request (make test always runs them)")
    from tests.s3_servers import ceph_rgw

    with ceph_rgw(tmp_path_factory.mktemp("ceph")) as endpoint:
        endpoint.make_bucket(BUCKET)
        yield endpoint


def s3_store_config(endpoint, prefix: str | None = None) -> StoreConfig:
    return StoreConfig(
        uri=f"s3://{BUCKET}/{prefix or uuid.uuid4().hex[:12]}",
        endpoint_url=endpoint.endpoint_url,
        region=endpoint.region,
        access_key_id=endpoint.access_key,
        secret_access_key=endpoint.secret_key,
    )


@pytest.fixture(params=["local", "moto", pytest.param("ceph", marks=pytest.mark.ceph)])
def any_store(request, tmp_path) -> ArtifactStore:
    """The same store behaviour, on a local folder and on both S3 servers."""
    if request.param == "local":
        return ArtifactStore.open(str(tmp_path / "store"))
    endpoint = request.getfixturevalue(f"{request.param}_endpoint")
    return ArtifactStore.open(s3_store_config(endpoint))


@pytest.fixture
def local_store(tmp_path) -> ArtifactStore:
    return ArtifactStore.open(str(tmp_path / "store"))


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
