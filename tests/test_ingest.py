"""Ingest: FineWeb-Edu Parquet (real documents) and the bundled corpus into versioned corpora."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salad_core.corpus.fineweb_reader import InputFileError
from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA
from salad_core.corpus.ingest_config import IngestConfig
from storage import ArtifactStore, StageSpec
from tasks.ingest import ingest_corpus
from tasks.sharded_stage import write_sharded_artifact
from tests.conftest import BUCKET, s3_store_config
from tests.fineweb_files import real_rows, write_fineweb

ingest = ingest_corpus.fn  # the task body, without an orchestrator


@pytest.fixture
def fineweb_dir(tmp_path, shared_data):
    rows = real_rows(shared_data)
    bad = [
        dict(rows[0], id="<bad-empty>", text="   "),
        dict(rows[0], id="<bad-punct>", text="... 123 !!! --"),
        dict(rows[0], text=rows[0]["text"] + " (copy)"),  # duplicate id
    ]
    write_fineweb(tmp_path / "fw" / "data" / "CC-MAIN-2024-10" / "000_00000.parquet", rows[:100], row_group_size=40)
    write_fineweb(tmp_path / "fw" / "data" / "CC-MAIN-2024-10" / "000_00001.parquet", rows[100:] + bad, row_group_size=40)
    return tmp_path / "fw"


def fineweb_config(root, **kw) -> IngestConfig:
    return IngestConfig(source="fineweb", paths=[f"{root}/data/*/*.parquet"], shard_rows=64, read_batch_rows=50, **kw)


def test_real_fineweb_files_ingest_with_quarantine(fineweb_dir, local_store):
    out = ingest(fineweb_config(fineweb_dir), local_store.objects.config)
    corpus = local_store.get(out.corpus)
    assert corpus.num_rows == 151 and [s.rows for s in corpus.manifest.shards] == [64, 64, 23]
    assert corpus.to_table().schema == FINEWEB_SCHEMA
    q = local_store.get(out.quarantine).to_table().to_pylist()
    reasons = sorted(r["reason"] for r in q)
    assert reasons[0].startswith("duplicate id") and reasons[1:] == [
        "text has no letters (only digits, punctuation or symbols)",
        "text is empty or whitespace only",
    ]
    assert all(r["source_file"].endswith("000_00001.parquet") for r in q)
    stats = corpus.manifest.stats
    assert stats["rows_read"] == 154 and stats["rows_quarantined"] == 3
    assert [i["url"].rsplit("/", 1)[1] for i in corpus.manifest.params["inputs"]] == ["000_00000.parquet", "000_00001.parquet"]


def test_filters_and_limit(fineweb_dir, local_store):
    out = ingest(fineweb_config(fineweb_dir, min_int_score=4, languages=["en"], min_chars=1000), local_store.objects.config)
    rows = local_store.get(out.corpus).to_table().to_pylist()
    assert rows and all(r["int_score"] >= 4 and r["language"] == "en" and len(r["text"].strip()) >= 1000 for r in rows)
    filtered = local_store.get(out.corpus).manifest.stats["rows_filtered"]
    assert set(filtered) == {"int_score below min_int_score", "language not in languages", "shorter than min_chars"}
    assert sum(filtered.values()) + len(rows) == 151
    limited = ingest(fineweb_config(fineweb_dir, limit=70), local_store.objects.config)
    assert local_store.get(limited.corpus).num_rows == 70


def test_rerun_reuses_and_changed_input_makes_a_new_version(fineweb_dir, local_store, shared_data):
    cfg = fineweb_config(fineweb_dir)
    first = ingest(cfg, local_store.objects.config)
    again = ingest(cfg, local_store.objects.config)
    assert again.reused and again.corpus.fingerprint == first.corpus.fingerprint
    write_fineweb(fineweb_dir / "data" / "CC-MAIN-2024-10" / "000_00000.parquet", real_rows(shared_data)[:99])
    changed = ingest(cfg, local_store.objects.config)
    assert not changed.reused and changed.corpus.fingerprint != first.corpus.fingerprint


def test_bundled_corpus_ingest(local_store):
    out = ingest(IngestConfig(bundled_docs=400, shard_rows=150), local_store.objects.config)
    corpus = local_store.get(out.corpus)
    quarantine = local_store.get(out.quarantine)
    assert corpus.num_rows + quarantine.num_rows == 400 and quarantine.num_rows >= 1
    assert corpus.manifest.stats["quarantine"] == f"corpus_quarantine@{out.quarantine.fingerprint}"


def test_missing_column_names_file_and_column(tmp_path, local_store, shared_data):
    rows = [{k: v for k, v in r.items() if k != "int_score"} for r in real_rows(shared_data)[:5]]
    schema = pa.schema([f for f in FINEWEB_SCHEMA if f.name != "int_score"])
    path = write_fineweb(tmp_path / "x" / "a.parquet", rows, schema=schema)
    with pytest.raises(InputFileError, match=rf"{path}: missing column 'int_score'"):
        ingest(IngestConfig(source="fineweb", paths=[str(path)]), local_store.objects.config)


def test_wrong_column_type_names_file_and_column(tmp_path, local_store):
    schema = pa.schema([(f.name, pa.string()) if f.name == "score" else f for f in FINEWEB_SCHEMA])
    path = tmp_path / "b.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "Hello there.", "id": "1", "score": "high"}], schema=schema), path)
    with pytest.raises(InputFileError, match=rf"{path}: column 'score' has type string, expected double"):
        ingest(IngestConfig(source="fineweb", paths=[str(path)]), local_store.objects.config)


def test_malformed_parquet_names_the_file(tmp_path, local_store):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(InputFileError, match=rf"{path}: not a readable Parquet file"):
        ingest(IngestConfig(source="fineweb", paths=[str(path)]), local_store.objects.config)
    assert local_store.names() == []  # nothing half-written


def test_glob_matching_nothing_is_an_error(tmp_path, local_store):
    with pytest.raises(InputFileError, match="no such file"):
        ingest(IngestConfig(source="fineweb", paths=[str(tmp_path / "none" / "*.parquet")]), local_store.objects.config)


def test_fineweb_from_s3_into_an_s3_store(fineweb_dir, moto_endpoint, monkeypatch):
    import s3fs

    for k, v in moto_endpoint.env().items():
        monkeypatch.setenv(k, v)
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": moto_endpoint.endpoint_url})
    for f in sorted(fineweb_dir.glob("data/*/*.parquet")):
        fs.put_file(str(f), f"{BUCKET}/fineweb/sample/10BT/{f.name}")
    store_cfg = s3_store_config(moto_endpoint)
    files = sorted(fineweb_dir.glob("data/*/*.parquet"))
    config = IngestConfig(source="fineweb", paths=[f"s3://{BUCKET}/fineweb/sample/10BT/*.parquet"])
    out = ingest(config, store_cfg)
    assert ArtifactStore.open(store_cfg).get(out.corpus).num_rows == 151
    # a file added to the bucket later is seen by the next run in the same process (fsspec caches listings)
    fs.put_file(str(files[0]), f"{BUCKET}/fineweb/sample/10BT/zz-added-later.parquet")
    again = ingest(config, store_cfg)
    assert again.corpus != out.corpus


def test_stage_runner_resumes_after_a_crash_without_redoing_shards(local_store):
    spec = StageSpec(name="corpus", code_version="t-1")
    calls: list[int] = []

    def produce(committed, crash_after=None):
        for i in range(5):
            if i in committed:
                yield i, None  # work skipped, not just the write
                continue
            if crash_after is not None and i > crash_after:
                raise RuntimeError("killed")
            calls.append(i)
            yield i, pa.table({"i": [i]})

    with pytest.raises(RuntimeError, match="killed"):
        write_sharded_artifact(local_store, spec, lambda c: produce(c, crash_after=2))
    assert calls == [0, 1, 2] and local_store.find(spec) is None
    ref, reused = write_sharded_artifact(local_store, spec, produce)
    assert calls == [0, 1, 2, 3, 4] and not reused
    assert local_store.get(ref).to_table().column("i").to_pylist() == [0, 1, 2, 3, 4]
    assert write_sharded_artifact(local_store, spec, produce) == (ref, True) and calls == [0, 1, 2, 3, 4]
