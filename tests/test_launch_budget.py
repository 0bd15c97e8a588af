"""Before paying for the selection's speech and Stage II, the SALAD flow estimates the cost and
refuses to go beyond `budget.max_device_hours` unless overridden."""

from __future__ import annotations

import pyarrow as pa
import pytest

from flows.config import load_config
from flows.salad_flow import check_launch_cost
from salad_core.selection.cost import CostOverBudget
from storage import StageSpec
from tasks.sharded_stage import write_table_artifact


@pytest.fixture
def selection(local_store):
    table = pa.table({"id": ["a", "b"], "text": ["x " * 300, "y " * 300], "cluster": [1, 2], "words": [300, 300]})
    stats = {"budget": {"kind": "rows", "amount": 2, "spent": 2}, "words_per_second": 2.5}
    return write_table_artifact(local_store, StageSpec(name="selection", code_version="test"), table, stats)


def test_a_launch_beyond_the_budget_is_refused_unless_overridden(local_store, selection):
    tight = load_config("tiny", ["budget.max_device_hours=0.00001", "stage2.steps=100000"])
    with pytest.raises(CostOverBudget, match="exceed the budget"):
        check_launch_cost(local_store, selection, tight)
    check_launch_cost(local_store, selection, load_config("tiny", ["budget.max_device_hours=0.00001", "stage2.steps=100000", "budget.override=true"]))
    check_launch_cost(local_store, selection, load_config("tiny"))  # no budget: estimated and published only
