"""The records index: every artifact kind resolves to a schema; the quarantine core is shared."""

import importlib

import pyarrow as pa
import pytest

from salad_core.records import RECORDS, TASK_RECORDS, record_schema
from salad_core.records.quarantine import CORE_NAMES, quarantine_row, quarantine_schema


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_every_record_kind_resolves(kind):
    schema = record_schema(kind, dim=8) if kind == "embeddings" else record_schema(kind)
    assert isinstance(schema, pa.Schema) and len(schema) > 0
    if kind.endswith("quarantine"):
        assert schema.names[:5] == CORE_NAMES


@pytest.mark.parametrize("kind", sorted(TASK_RECORDS))
def test_task_built_records_exist(kind):
    module, attribute = TASK_RECORDS[kind].split(":")
    assert isinstance(getattr(importlib.import_module(module), attribute), pa.Schema)


def test_assignments_written_by_the_cluster_stage_match_the_record():
    import numpy as np

    from tasks.cluster import sorted_by_cluster

    table = sorted_by_cluster(["a", "b", "c"], 0, np.array([1, 0, 1]), np.array([0.1, 0.2, 0.3]))
    assert table.schema.equals(record_schema("assignments"))


def test_quarantine_row_cuts_the_excerpt_and_refuses_shadowed_columns():
    row = quarantine_row("x", "corpus", "too long", excerpt_of="w" * 500, cluster=3)
    assert row["excerpt"].endswith("… [500 characters]") and row["cluster"] == 3 and list(row)[:5] == CORE_NAMES
    with pytest.raises(ValueError, match="would shadow the core record"):
        quarantine_schema([pa.field("reason", pa.string())])
    with pytest.raises(KeyError, match="no record kind 'nope'"):
        record_schema("nope")
