"""Bad FineWeb-Edu input files: each fails the ingest with an error naming the file (and column),
and the store holds nothing afterwards, not even shards of the good files read before.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/bad_input/test_corpus_files.py -q
"""

from __future__ import annotations

import logging
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from salad_core.corpus.fineweb_reader import InputFileError
from salad_core.corpus.fineweb_schema import FINEWEB_SCHEMA
from salad_core.corpus.ingest import EmptyCorpusError
from salad_core.corpus.ingest_config import IngestConfig
from tasks.ingest import ingest_corpus
from tests.bad_input.helpers import assert_nothing_committed
from tests.fineweb_files import real_rows, write_fineweb

ingest = ingest_corpus.fn


@pytest.fixture
def rows(shared_data) -> list[dict]:
    return real_rows(shared_data)


@pytest.fixture
def good_file(tmp_path, rows):
    """A valid file sorted before the bad one: its 100 rows would make shards if it were read first."""
    return write_fineweb(tmp_path / "in" / "000_good.parquet", rows[:100])


def fineweb(paths, **kw) -> IngestConfig:
    return IngestConfig(source="fineweb", paths=[str(p) for p in paths], shard_rows=20, read_batch_rows=20, **kw)


def refused(tmp_path, local_store, config, match: str) -> None:
    with pytest.raises(InputFileError, match=match):
        ingest(config, local_store.objects.config)
    assert_nothing_committed(local_store, tmp_path / "store")


def test_truncated_parquet_names_the_file(tmp_path, local_store, good_file, rows):
    whole = write_fineweb(tmp_path / "x.parquet", rows[100:]).read_bytes()
    bad = tmp_path / "in" / "001_truncated.parquet"
    bad.write_bytes(whole[: len(whole) // 2])
    refused(tmp_path, local_store, fineweb([tmp_path / "in" / "*.parquet"]), rf"{re.escape(str(bad))}: not a readable Parquet file")


def test_zero_byte_parquet_names_the_file(tmp_path, local_store, good_file):
    bad = tmp_path / "in" / "001_empty.parquet"
    bad.write_bytes(b"")
    refused(tmp_path, local_store, fineweb([tmp_path / "in" / "*.parquet"]), rf"{re.escape(str(bad))}: not a readable Parquet file")


def test_renamed_non_parquet_file_names_the_file(tmp_path, local_store, good_file, shared_data):
    bad = tmp_path / "in" / "001_really_jsonl.parquet"
    bad.write_bytes((shared_data / "real_text" / "fineweb_edu_row_hf_columns.jsonl").read_bytes())
    refused(tmp_path, local_store, fineweb([tmp_path / "in" / "*.parquet"]), rf"{re.escape(str(bad))}: not a readable Parquet file")


def test_missing_column_in_a_later_file_fails_before_any_shard_of_the_first(tmp_path, local_store, good_file, rows):
    schema = pa.schema([f for f in FINEWEB_SCHEMA if f.name != "language_score"])
    bad = write_fineweb(
        tmp_path / "in" / "001_no_lang_score.parquet", [{k: v for k, v in r.items() if k != "language_score"} for r in rows[100:]], schema=schema
    )
    refused(tmp_path, local_store, fineweb([tmp_path / "in" / "*.parquet"]), rf"{re.escape(str(bad))}: missing column 'language_score'")


def test_wrong_type_in_a_later_file_fails_before_any_shard_of_the_first(tmp_path, local_store, good_file):
    schema = pa.schema([(f.name, pa.string()) if f.name == "token_count" else f for f in FINEWEB_SCHEMA])
    bad = tmp_path / "in" / "001_token_count_text.parquet"
    pq.write_table(pa.Table.from_pylist([{"text": "Some words here.", "id": "a", "token_count": "three"}], schema=schema), bad)
    refused(tmp_path, local_store, fineweb([tmp_path / "in" / "*.parquet"]), rf"{re.escape(str(bad))}: column 'token_count' has type string, expected int64")


def test_fractional_int_score_is_a_type_error_naming_the_column(tmp_path, local_store, good_file, rows):
    schema = pa.schema([(f.name, pa.float64()) if f.name == "int_score" else f for f in FINEWEB_SCHEMA])
    bad = write_fineweb(tmp_path / "in" / "001_float_int_score.parquet", [dict(r, int_score=3.7) for r in rows[100:103]], schema=schema)
    refused(tmp_path, local_store, fineweb([tmp_path / "in" / "*.parquet"]), rf"{re.escape(str(bad))}: column 'int_score' has type double, expected int64")


def test_glob_matching_nothing_names_the_pattern(tmp_path, local_store):
    pattern = tmp_path / "nowhere" / "*.parquet"
    refused(tmp_path, local_store, fineweb([pattern]), rf"{re.escape(str(pattern))}: no such file \(or the glob matched nothing\)")


def test_a_file_with_no_rows_fails_instead_of_committing_an_empty_corpus(tmp_path, local_store):
    empty = write_fineweb(tmp_path / "in" / "000_header_only.parquet", [])
    with pytest.raises(EmptyCorpusError, match=rf"empty corpus: the input has no rows \({re.escape(str(empty))}\).*ingest.allow_empty=true"):
        ingest(fineweb([empty]), local_store.objects.config)
    assert_nothing_committed(local_store, tmp_path / "store")


def test_filters_removing_every_row_fail_naming_the_filter(tmp_path, local_store, rows):
    path = write_fineweb(tmp_path / "in" / "000.parquet", [dict(r, int_score=2) for r in rows[:10]])
    with pytest.raises(
        EmptyCorpusError,
        match=r"every one of the 10 rows read from .*000.parquet was removed: "
        r"10 filtered out \(\{'int_score below min_int_score': 10\}\)",
    ):
        ingest(fineweb([path], min_int_score=3), local_store.objects.config)
    assert_nothing_committed(local_store, tmp_path / "store")


def test_allow_empty_commits_an_empty_corpus_with_a_loud_warning(tmp_path, local_store, rows, caplog):
    path = write_fineweb(tmp_path / "in" / "000.parquet", [dict(r, int_score=2) for r in rows[:10]])
    with caplog.at_level(logging.WARNING, logger="salad.ingest"):
        out = ingest(fineweb([path], min_int_score=3, allow_empty=True), local_store.objects.config)
    corpus = local_store.get(out.corpus)
    assert corpus.num_rows == 0
    assert corpus.manifest.stats["empty_corpus_warning"].startswith("every one of the 10 rows read from")
    assert [r.message.split(":")[0] for r in caplog.records] == ["EMPTY CORPUS committed because ingest.allow_empty=true"]
