"""Secrets stay out of Prefect: refused in configs without being echoed, masked when given as SecretStr,
and absent from Prefect's database and logs after a run (grepped for planted values)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from flows.config import load_config
from flows.ingest_flow import ingest_flow
from salad_core.corpus.ingest_config import IngestConfig
from storage import StoreConfig

PLANTED = "planted-S3CRET-7f3a9c"


@pytest.mark.parametrize(
    "overrides",
    [
        [f"store.uri=s3://AKIA:{PLANTED}@bucket/salad"],
        [f"store.endpoint_url=http://admin:{PLANTED}@127.0.0.1:7480"],
        ["ingest.source=fineweb", f"ingest.paths=[s3://user:{PLANTED}@host/fineweb/*.parquet]"],
        [f"natural_speech={{kind: emilia, paths: [s3://b/x.tar], storage_options: {{secret: {PLANTED}}}}}"],
        [f"natural_speech={{kind: emilia, paths: [s3://b/x.tar], storage_options: {{token: {PLANTED}}}}}"],
    ],
)
def test_credentials_in_a_config_are_refused_without_being_echoed(overrides):
    with pytest.raises(ValidationError) as err:
        load_config("tiny", overrides)
    assert "credentials" in str(err.value) and PLANTED not in str(err.value)


def test_no_planted_secret_reaches_prefects_database_or_logs(prefect_harness, tmp_path, monkeypatch, caplog):
    from prefect.settings import get_current_settings

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PLANTED)  # the environment is where credentials belong
    store = StoreConfig(uri=str(tmp_path / "store"), secret_access_key=SecretStr(PLANTED), access_key_id=SecretStr(PLANTED))
    with caplog.at_level(logging.DEBUG):
        ingest_flow(IngestConfig(bundled_docs=40, shard_rows=40), store)
    url = get_current_settings().server.database.connection_url.get_secret_value()
    database = Path(url.split("///", 1)[1])
    assert database.exists()
    for path in [database, *database.parent.glob(f"{database.name}-wal")]:
        assert PLANTED.encode() not in path.read_bytes(), f"{path} holds the planted secret"
    assert PLANTED not in caplog.text
    manifests = "".join(p.read_text() for p in (tmp_path / "store").glob("*/*/manifest.json"))
    assert manifests and PLANTED not in manifests
